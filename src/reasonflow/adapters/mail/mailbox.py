"""The dev mailer: a ``Mailer`` that records each reply in the ``dev_mailbox`` table.

The default when no SMTP server is configured, standing in for a mail server:
what it records is what a server would have received, kept for inspection. It
is not the dispatch queue (``reply_dispatches``, ``adapters.sql.dispatches``):
the dispatcher delivers queued replies through this mailer or SMTP alike.
"""

from __future__ import annotations

import uuid

from sqlalchemy import insert

from reasonflow.adapters.clock import SystemClock
from reasonflow.adapters.sql.engine import Database
from reasonflow.adapters.sql.tables import dev_mailbox
from reasonflow.domain.ports import Clock, Mailer
from reasonflow.domain.replies import Reply


class DevMailboxMailer(Mailer):
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self._db = db
        self._clock = clock or SystemClock()

    async def send(self, reply: Reply) -> None:
        headers = reply.headers
        async with self._db.write() as s:
            await s.execute(
                insert(dev_mailbox).values(
                    id=uuid.uuid4(),
                    email_id=reply.email_id,
                    user_id=reply.user_id,
                    recipient=reply.recipient,
                    subject=reply.subject,
                    body=reply.body,
                    message_id=headers.message_id,
                    in_reply_to=headers.in_reply_to,
                    reference_ids=" ".join(headers.references) or None,
                    created_at=self._clock.now(),
                )
            )
