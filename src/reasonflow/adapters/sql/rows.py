"""Converting between ``emails`` rows and ``Email``, and the page cursor format."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row

from reasonflow.domain.errors import InvalidCursor
from reasonflow.domain.model import Email, EmailStatus, Intent


def email_values(email: Email) -> dict[str, Any]:
    """Column values of ``email``, enums as their string values."""
    return {
        "id": email.id,
        "user_id": email.user_id,
        "subject": email.subject,
        "body": email.body,
        "sender": email.sender,
        "recipient": email.recipient,
        "received_at": email.received_at,
        "updated_at": email.updated_at,
        "thread_id": email.thread_id,
        "intent": None if email.intent is None else email.intent.value,
        "confidence": email.confidence,
        "status": email.status.value,
        "draft": email.draft,
        "job_id": email.job_id,
        "previous_status": None if email.previous_status is None else email.previous_status.value,
        "last_error": email.last_error,
        "message_id": email.message_id,
    }


def to_email(row: Row[Any] | Mapping[str, Any]) -> Email:
    """The ``Email`` of a row of ``emails``, or of its values by column name."""
    m = row._mapping if isinstance(row, Row) else row
    previous = m["previous_status"]
    return Email(
        id=m["id"],
        user_id=m["user_id"],
        subject=m["subject"],
        body=m["body"],
        sender=m["sender"],
        recipient=m["recipient"],
        received_at=m["received_at"],
        updated_at=m["updated_at"],
        thread_id=m["thread_id"],
        intent=None if m["intent"] is None else Intent(m["intent"]),
        confidence=m["confidence"],
        status=EmailStatus(m["status"]),
        draft=m["draft"],
        job_id=m["job_id"],
        previous_status=None if previous is None else EmailStatus(previous),
        last_error=m["last_error"],
        message_id=m["message_id"],
    )


def encode_cursor(received_at: datetime, email_id: UUID) -> str:
    """An opaque, URL-safe key of the last row shown: base64 of time and id."""
    raw = f"{received_at.astimezone(UTC).isoformat()}|{email_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The key inside ``cursor``; ``InvalidCursor`` for anything ``encode_cursor``
    could not have made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, bar, hex_id = raw.partition("|")
        when, email_id = datetime.fromisoformat(stamp), UUID(hex=hex_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor() from exc
    if not bar or when.tzinfo is None:
        raise InvalidCursor()
    return when.astimezone(UTC), email_id
