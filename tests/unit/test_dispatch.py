"""ReplyDispatcher over fakes: retries with backoff, giving up, the lease, waking."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

import pytest

from reasonflow.domain.dispatch import DispatchPolicy, ReplyDispatcher
from reasonflow.domain.model import Email, EmailStatus
from reasonflow.domain.ports import Mailer
from reasonflow.domain.replies import Reply
from tests.fakes import FakeClock, FakeDispatchQueue, FakeEmailRepository, FakeMailer, make_email

ALICE = UUID(int=0xA11CE)


class World:
    def __init__(self, policy: DispatchPolicy | None = None, mailer: Mailer | None = None) -> None:
        self.clock = FakeClock()
        self.emails = FakeEmailRepository(self.clock)
        self.queue = FakeDispatchQueue(self.emails)
        self.mailer = FakeMailer()
        self.dispatcher = ReplyDispatcher(
            self.queue, mailer or self.mailer, self.clock, policy or DispatchPolicy()
        )

    async def sending(self) -> Email:
        email = make_email(ALICE, status=EmailStatus.APPROVED, draft="It is $10.")
        await self.emails.add(email)
        moved = replace(email, status=EmailStatus.SENDING)
        assert await self.emails.update_review(moved, EmailStatus.APPROVED, Reply.to(email, "Hi"))
        return moved

    def status(self, email: Email) -> EmailStatus:
        return self.emails.rows[email.id].status


def test_the_retry_delay_doubles_from_the_base_up_to_the_cap() -> None:
    policy = DispatchPolicy(retry_base_seconds=5, retry_max_seconds=60)
    delays = [policy.retry_delay(n).total_seconds() for n in range(1, 7)]
    assert delays == [5, 10, 20, 40, 60, 60]
    assert policy.retry_delay(500) == timedelta(seconds=60)


@pytest.mark.parametrize(
    "fields",
    [
        {"max_attempts": 0},
        {"retry_base_seconds": 0},
        {"retry_base_seconds": 10, "retry_max_seconds": 5},
        {"lease_seconds": 5},
        {"poll_seconds": 0},
    ],
)
def test_a_policy_that_cannot_work_is_refused(fields: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DispatchPolicy(**fields)  # type: ignore[arg-type]


async def test_a_due_reply_is_delivered_once_and_its_email_marked_sent() -> None:
    world = World()
    email = await world.sending()

    assert await world.dispatcher.deliver_due() == 1
    assert await world.dispatcher.deliver_due() == 0

    assert world.mailer.sent == [(email.id, "Hi")]
    assert world.status(email) is EmailStatus.SENT


async def test_failures_are_retried_with_backoff_until_the_mailer_accepts() -> None:
    world = World(DispatchPolicy(max_attempts=5, retry_base_seconds=5, retry_max_seconds=600))
    email = await world.sending()
    world.mailer.failures = 3
    waits = []
    for _ in range(3):
        assert await world.dispatcher.deliver_due() == 1
        queued = world.emails.replies[email.id]
        assert queued.next_attempt_at is not None
        waits.append((queued.next_attempt_at - world.clock.now()).total_seconds())
        # Not due a moment before its time.
        world.clock.set(queued.next_attempt_at - timedelta(seconds=1))
        assert await world.dispatcher.deliver_due() == 0
        world.clock.advance(1)
        assert world.status(email) is EmailStatus.SENDING
        assert world.emails.rows[email.id].last_error == (
            "SMTP delivery failed: could not reach the mail server"
        )

    assert await world.dispatcher.deliver_due() == 1
    assert waits == [5, 10, 20]
    assert world.status(email) is EmailStatus.SENT
    assert world.emails.rows[email.id].last_error is None
    assert world.mailer.sent == [(email.id, "Hi")]


async def test_after_max_attempts_the_email_reads_send_failed_with_the_reason() -> None:
    world = World(DispatchPolicy(max_attempts=3))
    email = await world.sending()
    world.mailer.failures = 10
    for _ in range(3):
        assert await world.dispatcher.deliver_due() == 1
        world.clock.advance(3600)

    assert await world.dispatcher.deliver_due() == 0
    failed = world.emails.rows[email.id]
    assert failed.status is EmailStatus.SEND_FAILED
    assert failed.last_error == (
        "Sending failed after 3 attempts: SMTP delivery failed: could not reach the mail server"
    )


async def test_a_crashing_mailer_counts_as_a_failed_attempt_without_its_text() -> None:
    world = World()
    email = await world.sending()
    world.mailer.error = RuntimeError("secret internals at smtp.internal:25")

    assert await world.dispatcher.deliver_due() == 1

    row = world.emails.rows[email.id]
    assert (row.status, row.last_error) == (EmailStatus.SENDING, "unexpected error while sending")


class HangingMailer(Mailer):
    async def send(self, reply: Reply) -> None:
        await asyncio.sleep(3600)


async def test_a_delivery_may_not_outlast_the_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reasonflow.domain.dispatch.LEASE_MARGIN_SECONDS", 5.95)
    world = World(DispatchPolicy(lease_seconds=6), mailer=HangingMailer())
    email = await world.sending()

    async with asyncio.timeout(5):
        assert await world.dispatcher.deliver_due() == 1

    row = world.emails.rows[email.id]
    assert (row.status, row.last_error) == (
        EmailStatus.SENDING,
        "the mail server did not answer in time",
    )


async def test_nothing_is_delivered_while_another_holds_the_lease() -> None:
    world = World()
    await world.sending()
    assert await world.queue.acquire_lease("someone-else", world.clock.now(), 60)

    assert await world.dispatcher.deliver_due() == 0
    assert world.mailer.sent == []

    world.clock.advance(61)  # it expired without being renewed
    assert await world.dispatcher.deliver_due() == 1


async def test_an_idle_dispatcher_takes_no_lease() -> None:
    world = World()
    assert await world.dispatcher.deliver_due() == 0
    assert world.queue.lease is None


async def test_wake_delivers_before_the_next_poll_and_stop_releases_the_lease() -> None:
    world = World(DispatchPolicy(poll_seconds=3600))
    running = asyncio.create_task(world.dispatcher.run())
    await asyncio.sleep(0)
    email = await world.sending()

    world.dispatcher.wake()
    await world.dispatcher.wait_settled(email.id, 5)

    assert world.status(email) is EmailStatus.SENT
    await world.dispatcher.stop()
    async with asyncio.timeout(5):
        await running
    await world.dispatcher.release()
    assert world.queue.lease is None


async def test_wait_settled_gives_up_after_its_patience() -> None:
    world = World()
    email = await world.sending()

    async with asyncio.timeout(2):
        await world.dispatcher.wait_settled(email.id, 0.05)

    assert world.status(email) is EmailStatus.SENDING


class RecordingMailer(FakeMailer):
    """Logs each send and each close, with the emails already marked sent at that moment."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.events: list[tuple[str, int]] = []

    def _sent(self) -> int:
        return sum(row.status is EmailStatus.SENT for row in self.world.emails.rows.values())

    async def send(self, reply: Reply) -> None:
        await super().send(reply)
        self.events.append(("send", self._sent()))

    async def close(self) -> None:
        await super().close()
        self.events.append(("close", self._sent()))


async def test_the_mailer_session_ends_only_once_nothing_is_due_and_at_stop() -> None:
    world = World(DispatchPolicy(poll_seconds=0.05))
    mailer = RecordingMailer(world)
    world.dispatcher = ReplyDispatcher(world.queue, mailer, world.clock, world.dispatcher.policy)
    for _ in range(2):
        await world.sending()
    running = asyncio.create_task(world.dispatcher.run())

    async with asyncio.timeout(5):
        while mailer.closes == 0:
            await asyncio.sleep(0.01)
    await world.dispatcher.stop()
    async with asyncio.timeout(5):
        await running

    # Both replies over one session, each committed sent before the next is
    # sent; the session ended only after both commits, and again at stop.
    assert mailer.events[:3] == [("send", 0), ("send", 1), ("close", 2)]
    assert mailer.events[-1] == ("close", 2)
