"""The dev mailer records each reply as a row, over SQLite and Postgres alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from reasonflow.adapters.mail.mailbox import DevMailboxMailer
from reasonflow.adapters.sql.tables import dev_mailbox
from reasonflow.domain.model import Email
from reasonflow.domain.replies import Reply, reply_subject
from tests.dbs import Sql


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Pricing", "Re: Pricing"),
        ("Re: Pricing", "Re: Pricing"),
        ("RE:Pricing", "RE:Pricing"),
        ("  Pricing  ", "Re: Pricing"),
        ("Regarding pricing", "Re: Regarding pricing"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


async def test_a_reply_is_recorded_for_the_original_sender(sql: Sql) -> None:
    when = datetime(2024, 5, 1, 9, tzinfo=UTC)
    email = Email(
        uuid.uuid4(),
        uuid.uuid4(),
        "Pricing",
        "How much?",
        "carol@example.com",
        "support@example.com",
        when,
        when,
    )
    await sql.emails.add(email)

    await DevMailboxMailer(sql.db, sql.clock).send(Reply.to(email, "It is $10 a month."))

    async with sql.db.read() as session:
        rows = (await session.execute(select(dev_mailbox))).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.email_id, row.user_id, row.recipient, row.subject, row.body) == (
        email.id,
        email.user_id,
        "carol@example.com",
        "Re: Pricing",
        "It is $10 a month.",
    )
    assert row.created_at == sql.clock.now()
