"""The opaque cursor of a user's job list: the last job shown, URL-safe base64.

Shared by every job store, so a cursor reads the same whichever store made it.
"""

from __future__ import annotations

import base64

from reasonflow.domain.errors import InvalidCursor
from reasonflow.domain.model import JobKind


def encode_cursor(job_id: str) -> str:
    return base64.urlsafe_b64encode(job_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        job_id = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if len(job_id) != 20 or JobKind.of_job_id(job_id) is None:
        raise InvalidCursor()
    return job_id
