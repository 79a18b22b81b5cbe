"""The cursor of a user's job list: the last job shown (``JOB_CURSOR``).

Shared by every job store, so a cursor reads the same whichever store made it.
"""

from __future__ import annotations

import re

from reasonflow.domain.errors import InvalidCursor
from reasonflow.domain.model import JOB_CURSOR

_FORMAT = re.compile(JOB_CURSOR)


def encode_cursor(job_id: str) -> str:
    return job_id


def decode_cursor(cursor: str) -> str:
    if not _FORMAT.fullmatch(cursor):
        raise InvalidCursor()
    return cursor
