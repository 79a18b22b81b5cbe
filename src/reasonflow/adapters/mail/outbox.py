"""A ``Mailer`` that records each reply in the ``outbox`` table instead of sending it.

The default when no SMTP server is configured: replies stay inspectable and a
separate relay could deliver them later.
"""

from __future__ import annotations

import uuid

from sqlalchemy import insert

from reasonflow.adapters.clock import SystemClock
from reasonflow.adapters.sql.engine import Database
from reasonflow.adapters.sql.tables import outbox
from reasonflow.domain.model import Email
from reasonflow.domain.ports import Clock, Mailer
from reasonflow.domain.replies import ReplyHeaders, reply_subject

__all__ = ["OutboxMailer", "reply_subject"]


class OutboxMailer(Mailer):
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self._db = db
        self._clock = clock or SystemClock()

    async def send(self, email: Email, reply: str) -> None:
        headers = ReplyHeaders.answering(email)
        async with self._db.write() as s:
            await s.execute(
                insert(outbox).values(
                    id=uuid.uuid4(),
                    email_id=email.id,
                    user_id=email.user_id,
                    recipient=email.sender,
                    subject=reply_subject(email.subject),
                    body=reply,
                    message_id=headers.message_id,
                    in_reply_to=headers.in_reply_to,
                    reference_ids=" ".join(headers.references) or None,
                    created_at=self._clock.now(),
                )
            )
