"""What every reply carries whichever mailer delivers it: addresses, subject, body and
threading headers, fixed when the reply is queued (``Reply.to``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID

from reasonflow.domain.model import Email

#: The domain part of a reply's Message-ID when the email names no usable one.
FALLBACK_DOMAIN = "reasonflow.local"
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


@dataclass(frozen=True, slots=True)
class ReplyHeaders:
    """``Message-ID``, ``In-Reply-To`` and ``References`` of the reply to one email.

    The Message-ID is derived from the email id, so sending the same reply twice
    (a retry after a crash) produces an identical Message-ID that receivers and
    tests can recognise as the same message.
    """

    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]

    @classmethod
    def answering(cls, email: Email) -> ReplyHeaders:
        _, at, domain = email.recipient.rpartition("@")
        domain = domain.strip().rstrip(">")
        if not at or not _DOMAIN.fullmatch(domain):
            domain = FALLBACK_DOMAIN
        original = email.message_id
        if original is None:
            return cls(f"<reply-{email.id.hex}@{domain}>", None, ())
        # The thread root (imported mail's thread id) first, then the original.
        root = email.thread_id
        chain = (root, original) if root and root.startswith("<") and root != original else ()
        return cls(f"<reply-{email.id.hex}@{domain}>", original, chain or (original,))


def reply_subject(subject: str) -> str:
    """``Re: <subject>``, without stacking a second prefix on a reply."""
    stripped = subject.strip()
    return stripped if stripped[:3].lower() == "re:" else f"Re: {stripped}"


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply as queued for dispatch and handed to a ``Mailer``.

    ``sender`` is the address the original was sent to (the ``From`` unless the
    mailer is configured with its own); ``recipient`` is who wrote the original.
    """

    email_id: UUID
    user_id: UUID
    sender: str
    recipient: str
    subject: str
    body: str
    headers: ReplyHeaders

    @classmethod
    def to(cls, email: Email, body: str) -> Reply:
        return cls(
            email_id=email.id,
            user_id=email.user_id,
            sender=email.recipient,
            recipient=email.sender,
            subject=reply_subject(email.subject),
            body=body,
            headers=ReplyHeaders.answering(email),
        )
