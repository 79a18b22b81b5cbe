"""The JobStore contract: one suite over every adapter (the in-memory store here).

The unit tests use the in-memory store itself: a fake job store could not meet
this contract more simply, so there is none (the Redis store joins this suite).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from reasonflow.adapters.jobs.memory import InMemoryJobStore
from reasonflow.domain.errors import InvalidCursor, TooManyActiveJobs
from reasonflow.domain.model import BatchJob, JobKind, JobStatus, Usage
from reasonflow.domain.ports import JobStore
from tests.fakes import FakeClock

RETENTION = timedelta(hours=24)
USER = uuid.uuid4()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


@pytest.fixture(params=["memory"])
def store(request: pytest.FixtureRequest, clock: FakeClock) -> JobStore:
    factories: dict[str, Callable[[], JobStore]] = {
        "memory": lambda: InMemoryJobStore(clock, RETENTION),
    }
    return factories[request.param]()


def new_job(clock: FakeClock, size: int = 2, user: uuid.UUID = USER) -> BatchJob:
    now = clock.now()
    kind = JobKind.CLASSIFY
    ids = tuple(uuid.uuid4() for _ in range(size))
    return BatchJob(kind.new_job_id(), kind, user, ids, now, now)


async def finish(store: JobStore, job: BatchJob, clock: FakeClock) -> BatchJob:
    result = None
    for email_id in job.email_ids:
        result = await store.record(job.id, email_id, clock.now())
    assert result is not None and result.is_finished
    return result


async def test_created_jobs_are_found_and_unknown_ones_are_not(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock)
    await store.create(job, max_active=10)
    found = await store.get(job.id)
    assert found is not None and found.id == job.id and found.status is JobStatus.QUEUED
    assert await store.get("cls_0000000000000000") is None


async def test_recording_counts_once_per_email_and_sums_usage(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock, size=3)
    await store.create(job, 10)
    first = job.email_ids[0]
    await store.record(job.id, first, clock.now(), usage=Usage(10, 5, 0.01))
    await store.record(job.id, first, clock.now(), usage=Usage(10, 5, 0.01))
    await store.record(job.id, job.email_ids[1], clock.now(), error="Classification failed: x")
    state = await store.get(job.id)
    assert state is not None
    assert (state.processed, state.succeeded, state.failed) == (2, 1, 1)
    assert state.usage == Usage(10, 5, 0.01)
    assert state.status is JobStatus.PROCESSING


async def test_one_more_unfinished_job_than_allowed_is_refused(
    store: JobStore, clock: FakeClock
) -> None:
    jobs = [new_job(clock) for _ in range(3)]
    for job in jobs:
        await store.create(job, max_active=3)
    with pytest.raises(TooManyActiveJobs):
        await store.create(new_job(clock), max_active=3)
    await store.create(new_job(clock, user=uuid.uuid4()), max_active=3)  # others unaffected
    await finish(store, jobs[0], clock)
    await store.create(new_job(clock), max_active=3)


async def test_finished_jobs_are_evicted_after_the_retention_period(
    store: JobStore, clock: FakeClock
) -> None:
    done, running = new_job(clock), new_job(clock)
    await store.create(done, 10)
    await store.create(running, 10)
    await finish(store, done, clock)
    clock.advance((RETENTION - timedelta(seconds=1)).total_seconds())
    assert await store.get(done.id) is not None
    clock.advance(2)
    assert await store.get(done.id) is None
    assert await store.get(running.id) is not None, "unfinished jobs are never evicted"
    page = await store.list_for_user(USER, 10, None)
    assert [j.id for j in page.items] == [running.id]


async def test_listing_is_newest_first_and_paginates(store: JobStore, clock: FakeClock) -> None:
    jobs = []
    for _ in range(5):
        clock.advance(1)
        job = new_job(clock)
        await store.create(job, 10)
        jobs.append(job.id)
    await store.create(new_job(clock, user=uuid.uuid4()), 10)
    seen: list[str] = []
    cursor = None
    while True:
        page = await store.list_for_user(USER, 2, cursor)
        seen += [j.id for j in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(jobs))
    with pytest.raises(InvalidCursor):
        await store.list_for_user(USER, 2, "%%%not-base64")


async def test_unfinished_ids_lists_only_running_jobs(store: JobStore, clock: FakeClock) -> None:
    done, running = new_job(clock), new_job(clock)
    await store.create(done, 10)
    await store.create(running, 10)
    await finish(store, done, clock)
    assert await store.unfinished_ids() == {running.id}


def test_sweep_touches_only_what_expires(clock: FakeClock) -> None:
    store = InMemoryJobStore(clock, RETENTION)
    assert store.sweep() == 0
    assert len(store) == 0
