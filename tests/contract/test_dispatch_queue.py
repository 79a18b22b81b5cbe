"""The ``DispatchQueue`` contract over SQLite, Postgres and the fake; two dispatchers
on one database never deliver the same reply, nor at the same time."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

from reasonflow.adapters.clock import SystemClock
from reasonflow.adapters.sql import dispatches
from reasonflow.adapters.sql.dispatches import SqlDispatchQueue, local_holder
from reasonflow.adapters.sql.emails import SqlEmailRepository
from reasonflow.adapters.sql.engine import Database
from reasonflow.domain.dispatch import DispatchPolicy, ReplyDispatcher
from reasonflow.domain.model import Email, EmailStatus, Intent, PipelineResult
from reasonflow.domain.ports import DispatchQueue, EmailRepository, Mailer
from reasonflow.domain.replies import Reply
from tests.dbs import StepClock, empty_tables, migrated_database
from tests.fakes import FakeDispatchQueue, FakeEmailRepository, make_email

ALICE = UUID(int=0xA11CE)


@dataclass
class Queue:
    emails: EmailRepository
    queue: DispatchQueue
    clock: StepClock
    #: Another handle on the same database (a second process), or None for the fake.
    db_url: str | None

    async def sending(self, **fields: object) -> Email:
        """An approved email moved to ``sending`` with its reply queued, as ``send`` does."""
        email = make_email(ALICE, status=EmailStatus.APPROVED, draft="It is $10.", **fields)
        await self.emails.add(email)
        moved = replace(email, status=EmailStatus.SENDING, updated_at=self.clock.now())
        assert await self.emails.update_review(
            moved, EmailStatus.APPROVED, Reply.to(email, "It is $10.")
        )
        return moved

    async def status(self, email_id: UUID) -> tuple[EmailStatus, str | None]:
        email = await self.emails.get(ALICE, email_id)
        assert email is not None
        return email.status, email.last_error


@pytest.fixture
async def q(backend: str) -> AsyncIterator[Queue]:
    clock = StepClock()
    if backend == "fake":
        fake = FakeEmailRepository(clock)
        yield Queue(fake, FakeDispatchQueue(fake), clock, None)
        return
    db = await migrated_database(backend)
    try:
        if not db.is_sqlite:
            await empty_tables(db)
        yield Queue(SqlEmailRepository(db, clock), SqlDispatchQueue(db), clock, backend)
    finally:
        await db.dispose()


async def test_send_queues_the_reply_with_its_headers_in_the_same_commit(q: Queue) -> None:
    email = await q.sending(message_id="<q1@customer.example>", thread_id="<q0@customer.example>")

    (queued,) = await q.queue.due(q.clock.now(), 10)

    assert queued.attempts == 0
    assert queued.reply == Reply.to(email, "It is $10.")
    assert queued.reply.headers.references == ("<q0@customer.example>", "<q1@customer.example>")


async def test_a_refused_review_queues_nothing(q: Queue) -> None:
    email = make_email(ALICE, status=EmailStatus.DRAFTED, draft="Hi")
    await q.emails.add(email)
    moved = replace(email, status=EmailStatus.SENDING)

    assert not await q.emails.update_review(moved, EmailStatus.APPROVED, Reply.to(email, "Hi"))
    assert await q.queue.due(q.clock.now(), 10) == []


async def test_a_processed_email_with_auto_send_queues_its_reply_with_the_result(q: Queue) -> None:
    sure, unsure = make_email(ALICE), make_email(ALICE)
    for email in (sure, unsure):
        await q.emails.add(email)
    assert await q.emails.claim(ALICE, [sure.id, unsure.id], "prc_0123456789abcdef")
    sent = PipelineResult(
        Intent.INQUIRY, 0.9, EmailStatus.SENDING, "Hi", reply=Reply.to(sure, "Hi")
    )
    drafted = PipelineResult(Intent.INQUIRY, 0.5, EmailStatus.DRAFTED, "Hm")

    assert await q.emails.finish_claimed(sure.id, "prc_0123456789abcdef", sent)
    assert await q.emails.finish_claimed(unsure.id, "prc_0123456789abcdef", drafted)
    # A result whose claim was lost writes nothing, reply included.
    assert not await q.emails.finish_claimed(unsure.id, "prc_0123456789abcdef", sent)

    assert [r.reply.email_id for r in await q.queue.due(q.clock.now(), 10)] == [sure.id]
    assert await q.status(sure.id) == (EmailStatus.SENDING, None)


async def test_delivered_marks_the_email_sent_and_the_reply_no_longer_due(q: Queue) -> None:
    email = await q.sending()

    await q.queue.delivered(email.id, q.clock.now())
    await q.queue.delivered(email.id, q.clock.now())  # repeated: harmless

    assert await q.status(email.id) == (EmailStatus.SENT, None)
    assert await q.queue.due(q.clock.advance(3600), 10) == []


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_crash_right_after_the_sent_commit_does_not_send_the_reply_again(
    q: Queue,
) -> None:
    # SQL only: the fake marks a delivery in one step, there is nothing to crash between.
    assert isinstance(q.queue, SqlDispatchQueue)
    email = await q.sending()

    # Only ``delivered``'s first statement (the commit that counts) ran; the
    # row's own bookkeeping never did.
    values = {"b_email_id": email.id, "b_now": q.clock.now()}
    await q.queue._db.run_lone(dispatches._MARK_SENT, values, write=True, urgent=True)

    assert await q.status(email.id) == (EmailStatus.SENT, None)
    assert await q.queue.due(q.clock.advance(3600), 10) == []


async def test_a_failed_attempt_waits_until_its_retry_time_and_shows_the_error(q: Queue) -> None:
    email = await q.sending()
    later = q.clock.now() + timedelta(seconds=10)

    await q.queue.failed(email.id, q.clock.now(), "could not reach the mail server", later)

    assert await q.status(email.id) == (EmailStatus.SENDING, "could not reach the mail server")
    assert await q.queue.due(later - timedelta(seconds=1), 10) == []
    (queued,) = await q.queue.due(later, 10)
    assert queued.attempts == 1


async def test_giving_up_marks_the_email_send_failed_and_a_new_send_starts_over(q: Queue) -> None:
    email = await q.sending()
    await q.queue.failed(email.id, q.clock.now(), "Sending failed after 8 attempts: x", None)

    assert await q.status(email.id) == (
        EmailStatus.SEND_FAILED,
        "Sending failed after 8 attempts: x",
    )
    assert await q.queue.due(q.clock.advance(86_400), 10) == []

    again = replace(email, status=EmailStatus.SENDING, last_error=None, updated_at=q.clock.now())
    assert await q.emails.update_review(again, EmailStatus.SEND_FAILED, Reply.to(email, "Fixed"))
    (queued,) = await q.queue.due(q.clock.now(), 10)
    assert (queued.attempts, queued.reply.body) == (0, "Fixed")
    assert await q.status(email.id) == (EmailStatus.SENDING, None)


async def test_due_replies_come_oldest_first_up_to_the_limit(q: Queue) -> None:
    first = await q.sending()
    q.clock.advance(1)
    second = await q.sending()
    q.clock.advance(1)
    await q.sending()

    due = await q.queue.due(q.clock.now(), 2)

    assert [r.reply.email_id for r in due] == [first.id, second.id]


async def test_one_holder_at_a_time_until_the_lease_expires_or_is_released(q: Queue) -> None:
    now = q.clock.now()
    assert await q.queue.acquire_lease("a", now, 30)
    assert await q.queue.acquire_lease("a", now, 30)  # its own: extended
    assert not await q.queue.acquire_lease("b", now + timedelta(seconds=29), 30)
    assert await q.queue.renew_lease("a", now + timedelta(seconds=29), 30)
    assert not await q.queue.acquire_lease("b", now + timedelta(seconds=58), 30)

    # Expired: another takes it, and the first can no longer renew.
    assert await q.queue.acquire_lease("b", now + timedelta(seconds=60), 30)
    assert not await q.queue.renew_lease("a", now + timedelta(seconds=61), 30)
    await q.queue.release_lease("a")  # not its lease: nothing happens
    assert not await q.queue.acquire_lease("a", now + timedelta(seconds=62), 30)

    await q.queue.release_lease("b")
    assert await q.queue.acquire_lease("a", now + timedelta(seconds=63), 30)


async def test_an_expired_lease_cannot_be_renewed_even_when_nobody_took_it(q: Queue) -> None:
    now = q.clock.now()
    assert await q.queue.acquire_lease("a", now, 30)
    assert not await q.queue.renew_lease("a", now + timedelta(seconds=30), 30)


class OverlapMailer(Mailer):
    """Takes a while per reply and records every delivery and the most in flight at once."""

    def __init__(self) -> None:
        self.delivered: list[UUID] = []
        self.in_flight: set[UUID] = set()
        self.most_at_once = 0

    async def send(self, reply: Reply) -> None:
        assert reply.email_id not in self.in_flight, "the same reply delivered concurrently"
        self.in_flight.add(reply.email_id)
        self.most_at_once = max(self.most_at_once, len(self.in_flight))
        await asyncio.sleep(0.01)
        self.in_flight.discard(reply.email_id)
        self.delivered.append(reply.email_id)


async def test_two_dispatchers_never_deliver_the_same_reply(q: Queue, tmp_path: Path) -> None:
    emails = [await q.sending() for _ in range(30)]
    mailer = OverlapMailer()
    policy = DispatchPolicy(lease_seconds=10, poll_seconds=0.01, batch=5)
    clock = SystemClock()
    extra: Database | None = None
    if q.db_url is None:
        queues: tuple[DispatchQueue, DispatchQueue] = (q.queue, q.queue)
    else:
        # Two processes: each its own engine, pool and (SQLite) write lock.
        extra = Database(q.db_url)
        queues = (q.queue, SqlDispatchQueue(extra))
    one, two = (ReplyDispatcher(queue, mailer, clock, policy) for queue in queues)
    # The stored replies were queued at the test clock's time, long before now.
    tasks = [asyncio.create_task(d.run()) for d in (one, two)]
    try:
        async with asyncio.timeout(30):
            while len(mailer.delivered) < len(emails):
                await asyncio.sleep(0.02)
                one.wake()
                two.wake()
    finally:
        for d in (one, two):
            await d.stop()
        await asyncio.gather(*tasks)
        if extra is not None:
            await extra.dispose()

    assert sorted(mailer.delivered) == sorted(e.id for e in emails)  # each exactly once
    assert mailer.most_at_once == 1
    for email in emails:
        assert (await q.status(email.id))[0] is EmailStatus.SENT


async def test_a_dispatcher_that_lost_its_lease_delivers_nothing_more(q: Queue) -> None:
    emails = [await q.sending() for _ in range(3)]
    delivered: list[UUID] = []

    class Thief(Mailer):
        """Delivers, then lets another holder take the lease (the first one stalled)."""

        async def send(self, reply: Reply) -> None:
            delivered.append(reply.email_id)
            await q.queue.release_lease("first")
            assert await q.queue.acquire_lease("second", q.clock.now(), 30)

    dispatcher = ReplyDispatcher(q.queue, Thief(), q.clock, holder="first")

    assert await dispatcher.deliver_due() == 1
    assert await dispatcher.deliver_due() == 0  # "second" holds it now
    (first,) = delivered
    assert await q.status(first) == (EmailStatus.SENT, None)
    assert len(await q.queue.due(q.clock.now(), 10)) == len(emails) - 1


async def test_a_lease_whose_holder_process_died_here_is_taken_over_at_once(
    backend_url: str,
) -> None:
    """A server restarted after a crash delivers at once, not a lease later."""
    dead_pid = _a_pid_that_ended()
    alive, dead = local_holder(), local_holder().rsplit("|", 2)[0] + f"|{dead_pid}|0000"
    db = await migrated_database(backend_url)
    try:
        if not db.is_sqlite:
            await empty_tables(db)
        queue, now = SqlDispatchQueue(db), StepClock().now()
        assert await queue.acquire_lease(dead, now, 3600)
        assert await queue.acquire_lease(alive, now, 60)
        # A live holder of this machine (this very process) keeps its lease.
        assert not await queue.acquire_lease(local_holder(), now, 60)
        # Another machine's holder is never judged by a local pid.
        assert await queue.acquire_lease("elsewhere|boot|1|x", now + timedelta(seconds=61), 60)
        assert not await queue.acquire_lease(dead, now + timedelta(seconds=62), 60)
    finally:
        await db.dispose()


def _a_pid_that_ended() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
