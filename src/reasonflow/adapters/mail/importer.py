"""Reading ``.eml`` files, mbox mailboxes and Maildirs into ``ImportedEmail``.

Standard library only: ``email`` with ``policy.default`` here, ``mailbox`` in
``sources``, ``html.parser`` in ``html_text``. Bad input never raises: each
message that cannot be used becomes an ``ImportProblem`` and the rest still
import. Positions count the messages read, from 1. Parsing blocks: run it off
the event loop (``InboxService.import_messages`` reads its items in a worker
thread).
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from reasonflow.adapters.mail.headers import (
    addresses,
    decode_bytes,
    header,
    message_ids,
    received_at,
    synthetic_id,
)
from reasonflow.adapters.mail.html_text import html_to_text
from reasonflow.adapters.mail.sources import Raw, from_file, from_mbox, from_path, starts_mbox
from reasonflow.domain.inbox import ImportedEmail, ImportProblem

MAX_BODY = 200_000
MAX_SUBJECT = 998
MAX_ADDRESS = 320  # the width of the sender and recipient columns
MBOX_TYPES = frozenset({"application/mbox", "application/x-mbox"})

Parsed = ImportedEmail | ImportProblem


def parse_eml(data: bytes, *, now: datetime | None = None, position: int = 1) -> Parsed:
    """One RFC 5322 message. ``now`` (default: the current time) is its time
    when it has no usable Date."""
    now = _utc(now)
    try:
        return _parse(data, now, position)
    except Exception as exc:  # the stdlib parser still has inputs that make it raise
        return ImportProblem(
            position, None, f"malformed message: the parser gave up ({type(exc).__name__})"
        )


def parse_mbox(
    source: bytes | str | os.PathLike[str], *, now: datetime | None = None
) -> Iterator[Parsed]:
    """Every message of an mbox, given as its bytes or its path."""
    if isinstance(source, bytes):
        raws: Iterable[Raw] = from_mbox("", io.BytesIO(source))
    else:
        raws = from_file(Path(source), force_mbox=True)
    return _numbered(raws, _utc(now))


def parse_paths(
    paths: Iterable[str | os.PathLike[str]], *, now: datetime | None = None
) -> Iterator[Parsed]:
    """Messages of each path: an ``.eml`` file, an mbox file (it starts with a
    ``From`` line), a Maildir, or a directory of ``.eml`` and ``.mbox`` files.
    Problems name the file they come from."""
    raws = (raw for path in paths for raw in from_path(Path(path)))
    return _numbered(raws, _utc(now))


def parse_upload(
    data: bytes, content_type: str, *, now: datetime | None = None
) -> Iterator[Parsed]:
    """An HTTP upload: ``message/rfc822`` is one message, ``application/mbox``
    (or a body that starts with a ``From`` line) a mailbox."""
    media = content_type.partition(";")[0].strip().lower()
    if media in MBOX_TYPES or (media != "message/rfc822" and starts_mbox(data)):
        return parse_mbox(data, now=now)
    return _numbered([("", data)], _utc(now))  # parsed when read, like the others


def _numbered(raws: Iterable[Raw], now: datetime) -> Iterator[Parsed]:
    for position, (where, raw) in enumerate(raws, start=1):
        item = (
            parse_eml(raw, now=now, position=position)
            if isinstance(raw, bytes)
            else ImportProblem(position, None, raw)
        )
        if where and isinstance(item, ImportProblem):
            item = dataclasses.replace(item, error=f"{where}: {item.error}")
        yield item


def _parse(data: bytes, now: datetime, position: int) -> Parsed:
    if not data.strip():
        return ImportProblem(position, None, "empty message")
    msg = BytesParser(EmailMessage, policy=policy.default).parsebytes(data)
    if not msg.keys():
        return ImportProblem(position, None, "not an email message: no headers")
    ids = message_ids(header(msg, "Message-ID"))
    own_id = ids[0] if ids else None
    senders = addresses(msg, "From")
    if not senders:
        return ImportProblem(position, own_id, "no From address")
    subject = (header(msg, "Subject") or "")[:MAX_SUBJECT]
    body = _body(msg)[:MAX_BODY]
    sender = _address(*senders[0])
    message_id = own_id or synthetic_id(sender, header(msg, "Date") or "", subject, body)
    roots = message_ids(header(msg, "References")) or message_ids(header(msg, "In-Reply-To"))
    recipients = addresses(msg, "To")
    return ImportedEmail(
        message_id=message_id,
        subject=subject,
        body=body,
        sender=sender,
        recipient=recipients[0][1][:MAX_ADDRESS] if recipients else "",
        received_at=received_at(msg) or now,
        thread_id=roots[0] if roots else message_id,
    )


def _address(name: str, addr: str) -> str:
    named = f"{name} <{addr}>" if name else addr
    return named if len(named) <= MAX_ADDRESS else addr[:MAX_ADDRESS]


def _body(msg: EmailMessage) -> str:
    """The text/plain body, else the text/html one as text; attachments never."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:  # get_body trips over some malformed structures
        part = None
    if part is None:
        part = next(
            (p for p in msg.walk() if p.get_content_maintype() == "text" and not p.is_attachment()),
            None,
        )
    if part is None:
        return ""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text = decode_bytes(payload, charset).replace("\x00", "")
    if part.get_content_subtype() == "html":
        return html_to_text(text[: MAX_BODY * 10])
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)
