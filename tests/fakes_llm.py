"""Fakes for exercising the offline LLM provider and its pipeline.

The pipeline reads only ``EmailRepository.context``; ``ThreadContext`` gives it
that and nothing more, so a test states exactly which earlier mail exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import cast

from reasonflow.domain.model import Email
from reasonflow.domain.ports import EmailRepository

USER_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def make_email(
    subject: str,
    body: str = "",
    sender: str = "Ada Lovelace <ada@example.com>",
    *,
    thread_id: str | None = None,
    minutes_ago: int = 0,
) -> Email:
    received = NOW - timedelta(minutes=minutes_ago)
    return Email(
        id=uuid.uuid4(),
        user_id=USER_ID,
        subject=subject,
        body=body,
        sender=sender,
        recipient="demo@reasonflow.local",
        received_at=received,
        updated_at=received,
        thread_id=thread_id,
    )


class ThreadContext:
    """Answers ``context`` like a repository: same thread or same sender, earlier, newest first."""

    def __init__(self, emails: Sequence[Email] = ()) -> None:
        self.emails = list(emails)
        self.asked: list[Email] = []

    async def context(self, email: Email, limit: int = 5) -> list[Email]:
        self.asked.append(email)
        related = [
            e
            for e in self.emails
            if e.id != email.id
            and e.received_at < email.received_at
            and ((email.thread_id and e.thread_id == email.thread_id) or e.sender == email.sender)
        ]
        return sorted(related, key=lambda e: e.received_at, reverse=True)[:limit]

    def as_repository(self) -> EmailRepository:
        # Only ``context`` is ever called by the pipeline; a full fake would hide that.
        return cast(EmailRepository, self)
