"""Converting between ``emails`` rows and ``Email``, and the page cursor format."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Row

from reasonflow.domain.errors import InvalidCursor
from reasonflow.domain.model import EMAIL_CURSOR, Email, EmailStatus, Intent


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
    """The key of the last row shown (``EMAIL_CURSOR``): its time in microseconds
    since the epoch and its id in hex."""
    micros = (received_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{email_id.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The key inside ``cursor``; ``InvalidCursor`` for anything of another form.

    A time beyond what a datetime holds stands for the earliest or latest one:
    the page then starts at the newest email, or is empty, as the cursor says.
    """
    if not _CURSOR.fullmatch(cursor):
        raise InvalidCursor()
    micros, _, hex_id = cursor.partition("_")
    try:
        when = EPOCH + timedelta(microseconds=int(micros))
    except OverflowError:
        when = datetime.max.replace(tzinfo=UTC) if micros[0] != "-" else _EARLIEST
    return when, UUID(hex=hex_id)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_CURSOR = re.compile(EMAIL_CURSOR)
