"""The ``Mailer`` contract, run unchanged against every adapter of the port.

Covers ``DevMailboxMailer`` over SQLite and Postgres, ``SmtpMailer`` over a real
aiosmtpd server on 127.0.0.1, and ``FakeMailer`` (tests/fakes.py), so the fake
the unit tests lean on behaves like the real thing. Each adapter is read back
as the same ``Delivery`` (recipient, subject, body) and the same threading
headers (``ReplyHeaders``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import NamedTuple

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from sqlalchemy import select

from reasonflow.adapters.mail.mailbox import DevMailboxMailer
from reasonflow.adapters.mail.smtp import SmtpConfig, SmtpMailer
from reasonflow.adapters.sql.tables import dev_mailbox as outbox
from reasonflow.domain.errors import DeliveryFailed
from reasonflow.domain.model import Email
from reasonflow.domain.ports import Mailer
from reasonflow.domain.replies import Reply, ReplyHeaders
from tests.dbs import Sql, sqlite_url
from tests.fakes import FakeClock, FakeMailer
from tests.llm.conftest import free_port
from tests.llm.test_smtp_mailer import Inbox

ADAPTERS = [
    "outbox-sqlite",
    pytest.param("outbox-postgres", marks=pytest.mark.postgres),
    "smtp",
    "fake",
]
# The adapters a test can make refuse a reply. Not the outbox: its send is one
# INSERT into our own database, so no recipient, message or server answer makes
# it refuse; a broken database is not a delivery failure.
REFUSING = ["smtp", "fake"]


class Delivery(NamedTuple):
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True)
class MailerCase:
    mailer: Mailer
    #: Make ``email`` exist wherever the adapter needs it before a reply.
    prepare: Callable[[Email], Awaitable[None]]
    #: Every reply delivered so far, in the order it was sent.
    delivered: Callable[[], Awaitable[list[Delivery]]]
    #: Arrange that replying to the returned email fails (None: cannot fail on demand).
    refuse: Callable[[Email], Email] | None
    #: The threading headers of every reply delivered so far, in send order.
    headers: Callable[[], Awaitable[list[ReplyHeaders]]]


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def backend_url(adapter: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Overrides the conftest's parametrized one: the adapter param picks the
    # backend, so only the dev mailbox gets a database and ``sql`` is reused as is.
    if adapter == "outbox-postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return sqlite_url(tmp_path)


@pytest.fixture
def mailer_case(adapter: str, request: pytest.FixtureRequest) -> Iterator[MailerCase]:
    if adapter.startswith("outbox-"):
        yield _outbox(request.getfixturevalue("sql"))
    elif adapter == "smtp":
        with _smtp() as case:
            yield case
    else:
        yield _fake()


@pytest.fixture(autouse=True)
async def _closed_at_the_end(mailer_case: MailerCase) -> AsyncIterator[None]:
    """Ends what the mailer kept open (a kept SMTP session), before its server
    stops: a connection left behind fails the test (unclosed transport)."""
    yield
    await mailer_case.mailer.close()


def _outbox(sql: Sql) -> MailerCase:
    # Ticks, so the rows' created_at tells the order the replies were sent in.
    clock = FakeClock(sql.clock.now(), tick=timedelta(seconds=1))

    async def delivered() -> list[Delivery]:
        query = select(outbox.c.recipient, outbox.c.subject, outbox.c.body)
        async with sql.db.read() as session:
            rows = (await session.execute(query.order_by(outbox.c.created_at))).all()
        return [Delivery(*row) for row in rows]

    async def headers() -> list[ReplyHeaders]:
        query = select(outbox.c.message_id, outbox.c.in_reply_to, outbox.c.reference_ids)
        async with sql.db.read() as session:
            rows = (await session.execute(query.order_by(outbox.c.created_at))).all()
        return [ReplyHeaders(m, r, tuple(refs.split()) if refs else ()) for m, r, refs in rows]

    # The dev mailbox row points at its email (a foreign key), so the email is stored first.
    mailer = DevMailboxMailer(sql.db, clock)
    return MailerCase(mailer, sql.emails.add, delivered, refuse=None, headers=headers)


@contextmanager
def _smtp() -> Iterator[MailerCase]:
    # aiosmtpd logs each connection from its own thread, sometimes after the
    # test's captured stderr has closed; its INFO lines say nothing we check.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailer = SmtpMailer(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}?timeout=10"))

        async def delivered() -> list[Delivery]:
            return [_read(envelope) for envelope, _ in inbox.messages]

        def refuse(email: Email) -> Email:
            return replace(email, sender="nobody@example.com")  # Inbox refuses nobody@

        async def headers() -> list[ReplyHeaders]:
            return [_headers(envelope) for envelope, _ in inbox.messages]

        yield MailerCase(mailer, _nothing_to_prepare, delivered, refuse, headers)
    finally:
        controller.stop()


def _read(envelope: Envelope) -> Delivery:
    assert isinstance(envelope.content, bytes)
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    body: str = message.get_content()
    # SMTP carries CRLF lines and the text part ends with a line break.
    text = body.replace("\r\n", "\n").removesuffix("\n")
    return Delivery(str(message["To"]), str(message["Subject"]), text)


def _headers(envelope: Envelope) -> ReplyHeaders:
    assert isinstance(envelope.content, bytes)
    message = message_from_bytes(envelope.content, policy=policy.default)
    references = message["References"]
    return ReplyHeaders(
        str(message["Message-ID"]),
        None if message["In-Reply-To"] is None else str(message["In-Reply-To"]),
        tuple(str(references).split()) if references is not None else (),
    )


def _fake() -> MailerCase:
    mailer = FakeMailer()

    async def delivered() -> list[Delivery]:
        return [Delivery(r.recipient, r.subject, r.body) for r in mailer.replies]

    def refuse(email: Email) -> Email:
        mailer.error = DeliveryFailed("SMTP delivery failed: the mail server refused the recipient")
        return email

    async def headers() -> list[ReplyHeaders]:
        return [r.headers for r in mailer.replies]

    return MailerCase(mailer, _nothing_to_prepare, delivered, refuse, headers)


async def _nothing_to_prepare(email: Email) -> None:
    return None


def an_email(subject: str = "Pricing", sender: str = "carol@example.com") -> Email:
    when = datetime(2024, 5, 1, 9, tzinfo=UTC)
    return Email(
        uuid.uuid4(), uuid.uuid4(), subject, "How much?", sender, "support@example.com", when, when
    )


async def test_a_reply_reaches_the_sender_under_re_subject(mailer_case: MailerCase) -> None:
    email = an_email("Pricing", sender="carol@example.com")
    await mailer_case.prepare(email)

    await mailer_case.mailer.send(Reply.to(email, "It is $10 a month."))

    assert await mailer_case.delivered() == [
        Delivery("carol@example.com", "Re: Pricing", "It is $10 a month.")
    ]


async def test_a_reply_to_a_reply_gets_no_second_re(mailer_case: MailerCase) -> None:
    email = an_email("Re: Pricing")
    await mailer_case.prepare(email)

    await mailer_case.mailer.send(Reply.to(email, "Still $10."))

    (delivery,) = await mailer_case.delivered()
    assert delivery.subject == "Re: Pricing"


async def test_a_multiline_non_ascii_reply_arrives_intact(mailer_case: MailerCase) -> None:
    email = an_email("Café prices", sender="zoe@example.com")
    await mailer_case.prepare(email)
    reply = "Hi Zoë,\n\nIt is 10 € a month.\n\n— Support"

    await mailer_case.mailer.send(Reply.to(email, reply))

    assert await mailer_case.delivered() == [Delivery("zoe@example.com", "Re: Café prices", reply)]


async def test_each_reply_is_its_own_delivery_in_send_order(mailer_case: MailerCase) -> None:
    carol, dave = an_email("Pricing"), an_email("Refund", sender="dave@example.com")
    for email in (carol, dave):
        await mailer_case.prepare(email)

    await mailer_case.mailer.send(Reply.to(carol, "It is $10 a month."))
    await mailer_case.mailer.send(Reply.to(dave, "Refunded."))
    await mailer_case.mailer.send(Reply.to(carol, "Correction: $12."))

    assert await mailer_case.delivered() == [
        Delivery("carol@example.com", "Re: Pricing", "It is $10 a month."),
        Delivery("dave@example.com", "Re: Refund", "Refunded."),
        Delivery("carol@example.com", "Re: Pricing", "Correction: $12."),
    ]


@pytest.mark.parametrize("adapter", REFUSING, indirect=True)
async def test_a_reply_that_cannot_be_delivered_raises_delivery_failed(
    mailer_case: MailerCase,
) -> None:
    assert mailer_case.refuse is not None, "listed in REFUSING without a way to refuse"
    email = mailer_case.refuse(an_email())
    await mailer_case.prepare(email)

    with pytest.raises(DeliveryFailed) as caught:
        await mailer_case.mailer.send(Reply.to(email, "It is $10 a month."))

    assert str(caught.value)
    assert await mailer_case.delivered() == []


async def test_a_reply_has_a_message_id_made_from_the_email_id(mailer_case: MailerCase) -> None:
    email = an_email()
    await mailer_case.prepare(email)

    await mailer_case.mailer.send(Reply.to(email, "It is $10 a month."))
    await mailer_case.mailer.send(Reply.to(email, "It is $10 a month."))

    # Sent twice (a retry), the reply carries the same Message-ID both times.
    first, second = await mailer_case.headers()
    assert first.message_id == second.message_id == f"<reply-{email.id.hex}@example.com>"
    assert (first.in_reply_to, first.references) == (None, ())


async def test_a_reply_to_imported_mail_threads_under_the_original(
    mailer_case: MailerCase,
) -> None:
    email = replace(
        an_email(), message_id="<q2@customer.example>", thread_id="<q1@customer.example>"
    )
    other = replace(
        an_email(), message_id="<solo@customer.example>", thread_id="<solo@customer.example>"
    )
    for each in (email, other):
        await mailer_case.prepare(each)

    await mailer_case.mailer.send(Reply.to(email, "It is $10 a month."))
    await mailer_case.mailer.send(Reply.to(other, "Thanks."))

    threaded, solo = await mailer_case.headers()
    assert threaded.in_reply_to == "<q2@customer.example>"
    assert threaded.references == ("<q1@customer.example>", "<q2@customer.example>")
    assert (solo.in_reply_to, solo.references) == (
        "<solo@customer.example>",
        ("<solo@customer.example>",),
    )


async def test_after_close_the_next_reply_is_still_delivered(mailer_case: MailerCase) -> None:
    carol, dave = an_email("Pricing"), an_email("Refund", sender="dave@example.com")
    for email in (carol, dave):
        await mailer_case.prepare(email)

    await mailer_case.mailer.send(Reply.to(carol, "It is $10 a month."))
    await mailer_case.mailer.close()
    await mailer_case.mailer.close()  # nothing open: nothing to do
    await mailer_case.mailer.send(Reply.to(dave, "Refunded."))

    assert await mailer_case.delivered() == [
        Delivery("carol@example.com", "Re: Pricing", "It is $10 a month."),
        Delivery("dave@example.com", "Re: Refund", "Refunded."),
    ]
