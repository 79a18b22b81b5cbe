"""The asyncio runner: concurrency limits, round-robin fairness, cancel, shutdown."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from uuid import UUID

import pytest

from reasonflow.adapters.jobs.runner import AsyncioJobRunner
from reasonflow.domain.errors import ServiceUnavailable
from reasonflow.domain.model import BatchJob, JobKind
from tests.support import wait_for

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def job(size: int) -> BatchJob:
    ids = tuple(uuid.uuid4() for _ in range(size))
    kind = JobKind.CLASSIFY
    return BatchJob(kind.new_job_id(), kind, uuid.uuid4(), ids, NOW, NOW)


class Provider:
    """A step whose calls wait until the test lets them finish."""

    def __init__(self) -> None:
        self.started: list[tuple[str, UUID]] = []
        self.finished: list[tuple[str, UUID]] = []
        self.gates: dict[UUID, asyncio.Event] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        #: While set, an email that has started does not say it has begun
        #: (as if its read were slow) until the test clears it.
        self.reading: asyncio.Event | None = None

    async def step(
        self, job_id: str, email_id: UUID, begun: Callable[[], None] | None = None
    ) -> None:
        self.started.append((job_id, email_id))
        if self.reading is not None:
            await self.reading.wait()
        if begun is not None:
            begun()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.gates.setdefault(email_id, asyncio.Event()).wait()
        finally:
            self.in_flight -= 1
        self.finished.append((job_id, email_id))

    def release(self, email_id: UUID) -> None:
        self.gates.setdefault(email_id, asyncio.Event()).set()

    def release_all(self) -> None:
        for _, email_id in self.started:
            self.release(email_id)


_RUNNERS: list[AsyncioJobRunner] = []


def runner(provider: Provider, slots: int, per_job: int | None = None) -> AsyncioJobRunner:
    result = AsyncioJobRunner(provider.step, slots, per_job)
    _RUNNERS.append(result)
    return result


@pytest.fixture(autouse=True)
async def _stop_runners() -> AsyncIterator[None]:
    """Leave no task behind: every runner a test made is stopped at its end."""
    yield
    while _RUNNERS:
        await _RUNNERS.pop().stop(grace=0)


async def count(provider: Provider, n: int) -> None:
    async def started() -> int:
        return len(provider.started)

    await wait_for(started, lambda s: s >= n, timeout=5)


async def test_never_more_emails_in_flight_than_slots() -> None:
    provider = Provider()
    run = runner(provider, slots=4)
    big = job(30)
    await run.submit(big)
    await count(provider, 4)

    async def finished() -> int:
        provider.release_all()
        return len(provider.finished)

    await wait_for(finished, lambda n: n == 30, timeout=5, interval=0)
    assert provider.most_in_flight == 4
    assert sorted(e for _, e in provider.finished) == sorted(big.email_ids)


async def test_a_job_holds_at_most_its_own_limit() -> None:
    provider = Provider()
    run = runner(provider, slots=6, per_job=2)
    a, b = job(5), job(5)
    await run.submit(a)
    await run.submit(b)
    await count(provider, 4)
    await asyncio.sleep(0.01)
    assert len(provider.started) == 4, "two per job, not six for the first"
    assert {j for j, _ in provider.started} == {a.id, b.id}


async def test_a_small_job_gets_the_next_free_slot_not_the_big_job() -> None:
    provider = Provider()
    run = runner(provider, slots=2)
    big, small = job(50), job(1)
    await run.submit(big)
    await count(provider, 2)
    await run.submit(small)
    assert [j for j, _ in provider.started] == [big.id, big.id]
    provider.release(provider.started[0][1])
    await count(provider, 3)
    assert provider.started[2] == (small.id, small.email_ids[0])


async def test_emails_begin_one_at_a_time_in_the_order_of_their_slots() -> None:
    provider = Provider()
    provider.reading = asyncio.Event()
    run = runner(provider, slots=4)
    big = job(10)
    await run.submit(big)
    await count(provider, 1)
    await asyncio.sleep(0.01)
    assert provider.started == [(big.id, big.email_ids[0])], "the next waits for the read"
    provider.reading.set()
    await count(provider, 4)
    assert provider.started == [(big.id, e) for e in big.email_ids[:4]]


async def test_a_job_submitted_while_a_wave_begins_takes_the_next_slot_to_begin() -> None:
    # Every slot is handed out to the big job's first wave, but only one email
    # has begun when the small job arrives: the small job's email begins next,
    # without waiting for any of the big job's calls to finish.
    provider = Provider()
    provider.reading = asyncio.Event()
    run = runner(provider, slots=4)
    big, small = job(50), job(1)
    await run.submit(big)
    await count(provider, 1)
    await run.submit(small)
    provider.reading.set()
    await count(provider, 4)
    assert [j for j, _ in provider.started] == [big.id, small.id, big.id, big.id]
    assert provider.finished == []


async def test_jobs_not_served_yet_start_in_the_order_they_came() -> None:
    provider = Provider()
    run = runner(provider, slots=3)
    a, b, c = job(2), job(2), job(2)
    for each in (a, b, c):
        await run.submit(each)
    await count(provider, 3)
    assert [j for j, _ in provider.started] == [a.id, b.id, c.id]


async def test_free_slots_alternate_between_competing_jobs() -> None:
    provider = Provider()
    run = runner(provider, slots=1)
    a, b = job(3), job(3)
    await run.submit(a)
    await run.submit(b)
    for n in range(1, 7):
        await count(provider, n)
        provider.release(provider.started[-1][1])
    assert [j for j, _ in provider.started] == [a.id, b.id] * 3


async def test_cancel_returns_the_emails_that_never_started() -> None:
    provider = Provider()
    run = runner(provider, slots=2)
    big = job(5)
    await run.submit(big)
    await count(provider, 2)
    unstarted = await run.cancel(big)
    assert unstarted == list(big.email_ids[2:])
    provider.release_all()
    await asyncio.sleep(0.01)
    assert len(provider.started) == 2
    assert await run.cancel(big) == []


async def test_a_job_cancelled_before_its_turn_leaves_the_order_of_the_others() -> None:
    provider = Provider()
    run = runner(provider, slots=1)
    a, b, c = job(1), job(1), job(1)
    await run.submit(a)
    await count(provider, 1)
    await run.submit(b)
    await run.submit(c)
    assert await run.cancel(b) == list(b.email_ids)
    provider.release_all()
    await count(provider, 2)
    assert provider.started[1][0] == c.id
    provider.release_all()
    await asyncio.sleep(0.01)
    assert len(provider.started) == 2
    assert run.in_flight == 0


async def test_stop_waits_for_the_grace_period_then_cancels() -> None:
    provider = Provider()
    run = runner(provider, slots=2)
    stuck = job(4)
    await run.submit(stuck)
    await count(provider, 2)
    unfinished = await run.stop(grace=0.05)
    assert unfinished == {stuck.id}
    assert run.in_flight == 0
    assert provider.finished == []
    with pytest.raises(ServiceUnavailable):
        await run.submit(job(1))
