"""Reply templates of the offline provider, personalised per email.

A template reply is a safe starting point, not a finished answer: the user
reviews it, so confidence stays below what a clear classification earns for
intents where the template can say little (``other``, ``spam``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.utils import parseaddr

from reasonflow.domain.model import Draft, Email, Intent, Usage
from reasonflow.domain.ports import ReplyDrafter

_BODIES: dict[Intent, str] = {
    Intent.INQUIRY: (
        "Thank you for your question about {topic}. I'm looking into it and will come back "
        "to you with a full answer shortly. If any details would help, such as your account "
        "or the plan you are on, just reply to this email."
    ),
    Intent.MEETING_REQUEST: (
        "Thank you for the invitation to meet about {topic}. I'd be glad to. Could you send "
        "two or three times that suit you? I'll confirm one and send a calendar invite."
    ),
    Intent.COMPLAINT: (
        "I'm sorry about the trouble you have had with {topic}, and thank you for telling "
        "us. I've passed this on for review, and someone will get back to you within one "
        "business day with the next steps."
    ),
    Intent.FOLLOW_UP: (
        "Thank you for following up on {topic}, and sorry for the wait. I'm checking where "
        "things stand and will send you an update by the end of tomorrow."
    ),
    Intent.SPAM: (
        "Thank you for your message. We are not interested; please remove this address "
        "from your mailing list."
    ),
    Intent.OTHER: (
        "Thank you for your message about {topic}. I've noted it and will get in touch if "
        "anything is needed on my side."
    ),
}

_CONFIDENCE: dict[Intent, float] = {
    Intent.INQUIRY: 0.9,
    Intent.MEETING_REQUEST: 0.9,
    Intent.FOLLOW_UP: 0.9,
    Intent.COMPLAINT: 0.85,
    Intent.OTHER: 0.6,
    # Never auto-approve a reply to suspected spam: a human decides.
    Intent.SPAM: 0.3,
}

_REPLY_PREFIXES = re.compile(r"^\s*(?:(?:re|fwd?|fw|aw|sv)\s*:\s*)+", re.I)
_TOPIC_LIMIT = 80
_HONORIFICS = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "sir", "dame"})
# Shared mailboxes: the display name is a team or a company, not a first name.
_SHARED_MAILBOXES = frozenset(
    {
        "accounts", "admin", "billing", "contact", "hello", "help", "info", "newsletter",
        "no-reply", "noreply", "office", "people", "receipts", "sales", "support", "talent",
        "team", "updates",
    }
)  # fmt: skip


def topic_of(subject: str) -> str | None:
    """The subject without reply prefixes, trimmed for quoting; None when empty."""
    topic = " ".join(_REPLY_PREFIXES.sub("", subject).split())
    if not topic:
        return None
    return topic if len(topic) <= _TOPIC_LIMIT else topic[: _TOPIC_LIMIT - 3].rstrip() + "..."


def sender_name(sender: str) -> str | None:
    """How to greet the sender: a first name, a team's name, or None when unknown."""
    display, address = parseaddr(sender)
    local = address.partition("@")[0].lower()
    display = " ".join(display.replace('"', " ").split())
    if "," in display:  # "Keller, Martin"
        last, _, first = display.partition(",")
        display = f"{first.strip()} {last.strip()}".strip()
    words = [w for w in display.split() if w.rstrip(".").lower() not in _HONORIFICS]
    if words:
        if local in _SHARED_MAILBOXES and words[0].lower() not in local:
            return " ".join(words)
        return words[0]
    if local in _SHARED_MAILBOXES:
        return None
    first = re.split(r"[._+\-]", local)[0].strip("0123456789")
    return first.capitalize() if len(first) >= 2 and first.isalpha() else None


def _acknowledgement(email: Email, context: Sequence[Email]) -> str | None:
    earlier = [c for c in context if c.id != email.id]
    if not earlier:
        return None
    thread = [c for c in earlier if email.thread_id and c.thread_id == email.thread_id]
    if thread:
        first = min(thread, key=lambda c: c.received_at)
        topic = topic_of(first.subject) or topic_of(email.subject)
        about = f' about "{topic}"' if topic else ""
        return (
            f"Following up on our earlier conversation{about}, I've read your latest "
            "message alongside the rest of the thread."
        )
    return "Thanks for getting in touch again; I have your earlier messages to hand."


class TemplateDrafter(ReplyDrafter):
    """One template per intent, with the sender's name, the topic and the thread."""

    async def draft(self, email: Email, intent: Intent, context: Sequence[Email]) -> Draft:
        name = sender_name(email.sender)
        topic = topic_of(email.subject)
        paragraphs = [f"Hi {name}," if name else "Hello,"]
        acknowledgement = _acknowledgement(email, context)
        if acknowledgement and intent is not Intent.SPAM:
            paragraphs.append(acknowledgement)
        paragraphs.append(_BODIES[intent].format(topic=f'"{topic}"' if topic else "this"))
        paragraphs.append("Best regards,")
        return Draft("\n\n".join(paragraphs), _CONFIDENCE[intent], Usage())
