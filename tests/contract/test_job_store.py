"""The JobStore contract: one suite over every adapter of the port.

Over the in-memory store and the Redis store (a real server, a key prefix of
its own per test). The unit tests use the in-memory store itself: a fake job
store could not meet this contract more simply, so there is none.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from reasonflow.adapters.jobs.memory import InMemoryJobStore
from reasonflow.adapters.jobs.redis_store import RedisJobStore
from reasonflow.domain.errors import InvalidCursor, TooManyActiveJobs
from reasonflow.domain.model import (
    OUTCOME_LOG_TAIL,
    BatchJob,
    CancelReason,
    EmailOutcome,
    EmailStatus,
    Intent,
    JobKind,
    JobStatus,
    Outcome,
    Usage,
)
from reasonflow.domain.ports import JobStore
from tests.fakes import FakeClock
from tests.redis_support import connect, delete_prefix, new_prefix

RETENTION = timedelta(hours=24)
USER = uuid.uuid4()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[JobStore]:
    if request.param == "memory":
        yield InMemoryJobStore(clock, RETENTION)
        return
    client = await connect()
    prefix = new_prefix()
    try:
        yield RedisJobStore(client, clock, RETENTION, prefix=prefix)
    finally:
        await delete_prefix(client, prefix)
        await client.aclose()


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


@pytest.fixture(params=["memory", "redis"])
async def twins(
    request: pytest.FixtureRequest, clock: FakeClock
) -> AsyncIterator[tuple[JobStore, JobStore]]:
    """Two handles on one store, as two processes of a cluster would hold."""
    if request.param == "memory":
        shared = InMemoryJobStore(clock, RETENTION)
        yield shared, shared
        return
    first, second, prefix = await connect(), await connect(), new_prefix()
    try:
        yield (
            RedisJobStore(first, clock, RETENTION, prefix=prefix),
            RedisJobStore(second, clock, RETENTION, prefix=prefix),
        )
    finally:
        await delete_prefix(first, prefix)
        await first.aclose()
        await second.aclose()


async def test_a_job_round_trips_with_every_field(store: JobStore, clock: FakeClock) -> None:
    now = clock.now()
    ids = (uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    job = BatchJob(JobKind.PROCESS.new_job_id(), JobKind.PROCESS, USER, ids, now, now, force=True)
    await store.create(job, 10)

    found = await store.get(job.id)

    assert found is not None
    assert (found.kind, found.user_id, found.email_ids, found.force) == (
        JobKind.PROCESS,
        USER,
        ids,
        True,
    )
    assert (found.total, found.pending_ids(), found.revision) == (3, list(ids), 0)
    assert found.created_at == now and found.created_at.utcoffset() == timedelta(0)
    assert (found.errors, found.completed_at, found.usage) == ([], None, Usage())


async def test_start_moves_a_queued_job_to_processing_once(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock)
    await store.create(job, 10)
    started_at = clock.advance(5)

    first = await store.start(job.id, started_at)
    again = await store.start(job.id, clock.advance(5))

    assert first is not None and again is not None
    assert (first.status, first.revision, first.updated_at) == (
        JobStatus.PROCESSING,
        1,
        started_at,
    )
    assert (again.revision, again.updated_at) == (1, started_at)
    assert await store.start("cls_0000000000000000", clock.now()) is None


async def test_failures_keep_their_errors_in_order_and_all_failed_is_failed(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock, size=2)
    await store.create(job, 10)
    a, b = job.email_ids
    await store.record(job.id, b, clock.advance(1), error="Classification failed: timeout")
    done_at = clock.advance(1)
    done = await store.record(job.id, a, done_at, error="Classification failed: rate limit")

    assert done is not None
    assert (done.status, done.failed, done.completed_at) == (JobStatus.FAILED, 2, done_at)
    assert [(e.email_id, e.error) for e in done.errors] == [
        (b, "Classification failed: timeout"),
        (a, "Classification failed: rate limit"),
    ]
    assert done.failed_ids() == [b, a]
    # A finished job never changes again.
    late = await store.record(job.id, a, clock.advance(1))
    assert late is not None and (late.revision, late.succeeded) == (done.revision, 0)


async def test_an_unpriced_call_makes_the_cost_unknown_for_good(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock, size=3)
    await store.create(job, 10)
    a, b, c = job.email_ids
    await store.record(job.id, a, clock.now(), usage=Usage(100, 10, 0.25))
    await store.record(job.id, b, clock.now(), usage=Usage(50, 5, None))
    done = await store.record(job.id, c, clock.now(), usage=Usage(1, 1, 0.5))

    assert done is not None and done.usage == Usage(151, 16, None)


async def test_cancel_counts_only_emails_without_an_outcome_and_ends_cancelled(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock, size=4)
    await store.create(job, 10)
    a, b, c, d = job.email_ids
    await store.record(job.id, a, clock.now())

    cancelled = await store.record_cancelled(job.id, [a, b, c], clock.advance(1))
    assert cancelled is not None
    assert (cancelled.cancelled, cancelled.status, cancelled.pending_ids()) == (
        2,
        JobStatus.PROCESSING,
        [d],
    )
    # The email in flight ends the job, as cancelled.
    done = await store.record(job.id, d, clock.advance(1))
    assert done is not None
    assert (done.status, done.succeeded, done.cancelled) == (JobStatus.CANCELLED, 2, 2)


async def test_a_cancel_with_nothing_left_to_cancel_is_recorded_once(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock, size=1)
    await store.create(job, 10)
    first = await store.record_cancelled(job.id, [], clock.now())
    again = await store.record_cancelled(job.id, [], clock.now())

    assert first is not None and again is not None
    assert first.revision == again.revision == 1
    done = await store.record(job.id, job.email_ids[0], clock.now())
    assert done is not None and done.status is JobStatus.CANCELLED


async def test_a_budget_is_kept_and_reached_by_the_summed_cost(
    store: JobStore, clock: FakeClock
) -> None:
    now = clock.now()
    kind = JobKind.PROCESS
    ids = tuple(uuid.uuid4() for _ in range(3))
    job = BatchJob(kind.new_job_id(), kind, USER, ids, now, now, max_cost_usd=0.5)
    await store.create(job, 10)
    a, b, c = ids

    first = await store.record(job.id, a, now, usage=Usage(10, 5, 0.25, llm_calls=2))
    assert first is not None and (first.max_cost_usd, first.over_budget) == (0.5, False)
    second = await store.record(job.id, b, now, usage=Usage(10, 5, 0.25, llm_calls_saved=1))
    assert second is not None and second.over_budget
    assert (second.usage.llm_calls, second.usage.llm_calls_saved) == (2, 1)

    done = await store.record_cancelled(job.id, [c], clock.advance(1), reason=CancelReason.BUDGET)

    assert done is not None
    assert (done.status, done.cancel_reason, done.cancelled) == (
        JobStatus.CANCELLED,
        CancelReason.BUDGET,
        1,
    )
    kept = await store.get(job.id)
    assert kept is not None and kept.cancel_reason is CancelReason.BUDGET
    assert kept.usage == Usage(20, 10, 0.5, llm_calls=2, llm_calls_saved=1)


async def test_the_first_cancel_reason_stands(store: JobStore, clock: FakeClock) -> None:
    job = new_job(clock, size=3)
    await store.create(job, 10)
    a, b, c = job.email_ids

    await store.record_cancelled(job.id, [a], clock.now(), reason=CancelReason.USER)
    await store.record_cancelled(job.id, [b], clock.now(), reason=CancelReason.BUDGET)
    running = await store.get(job.id)
    assert running is not None and running.cancel_reason is CancelReason.USER
    done = await store.record(job.id, c, clock.now())

    assert done is not None and (done.status, done.cancel_reason) == (
        JobStatus.CANCELLED,
        CancelReason.USER,
    )
    plain = new_job(clock, size=1)
    await store.create(plain, 10)
    finished = await finish(store, plain, clock)
    assert finished.cancel_reason is None and finished.max_cost_usd is None


async def test_wait_change_answers_at_once_when_the_job_moved_already(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock)
    await store.create(job, 10)
    await store.start(job.id, clock.now())

    seen = await asyncio.wait_for(store.wait_change(job.id, 0, patience=30), 5)

    assert seen is not None and seen.revision == 1
    assert await store.wait_change("cls_0000000000000000", 0, patience=30) is None


async def test_wait_change_wakes_on_a_change_from_another_handle(
    twins: tuple[JobStore, JobStore], clock: FakeClock
) -> None:
    watcher, writer = twins
    job = new_job(clock)
    await writer.create(job, 10)
    waiting = asyncio.create_task(watcher.wait_change(job.id, 0, patience=30))
    await asyncio.sleep(0)  # the watcher may or may not be listening yet: both must work
    await writer.record(job.id, job.email_ids[0], clock.now())

    seen = await asyncio.wait_for(waiting, 5)

    assert seen is not None and (seen.revision, seen.processed) == (1, 1)


async def test_wait_change_gives_the_job_as_it_is_after_its_patience(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock)
    await store.create(job, 10)

    seen = await store.wait_change(job.id, 0, patience=0.05)

    assert seen is not None and seen.revision == 0


async def test_concurrent_outcomes_from_two_handles_each_count_once(
    twins: tuple[JobStore, JobStore], clock: FakeClock
) -> None:
    first, second = twins
    job = new_job(clock, size=40)
    await first.create(job, 10)
    reports = [
        handle.record(job.id, email_id, clock.now(), usage=Usage(1, 1, 0.5))
        for email_id in job.email_ids
        for handle in (first, second)
    ]

    await asyncio.gather(*reports)

    done = await second.get(job.id)
    assert done is not None
    assert (done.status, done.succeeded, done.revision) == (JobStatus.COMPLETED, 40, 40)
    assert done.usage == Usage(40, 40, 20.0)
    assert await first.unfinished_ids() == set()


async def test_each_outcome_is_logged_once_in_order_with_what_the_job_knew(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock, size=3)
    await store.create(job, 10)
    a, b, c = job.email_ids
    await store.record(job.id, b, clock.now(), intent=Intent.INQUIRY, status=EmailStatus.DRAFTED)
    await store.record(job.id, b, clock.now(), intent=Intent.SPAM)  # a repeat: not logged
    failure = "Agent pipeline failed: provider timed out"
    await store.record(job.id, a, clock.now(), error=failure, status=EmailStatus.NEEDS_REVIEW)

    logged = await store.outcomes(job.id, 0)

    assert logged == [
        EmailOutcome(1, b, Outcome.SUCCEEDED, Intent.INQUIRY, EmailStatus.DRAFTED),
        EmailOutcome(2, a, Outcome.FAILED, None, EmailStatus.NEEDS_REVIEW, failure),
    ]
    assert await store.outcomes(job.id, 1) == logged[1:]
    assert await store.outcomes(job.id, 2) == []
    await store.record(job.id, c, clock.now())
    assert await store.outcomes(job.id, 2) == [EmailOutcome(3, c, Outcome.SUCCEEDED)]
    assert await store.outcomes("cls_0000000000000000", 0) is None


async def test_cancelled_emails_are_logged_with_their_status_after_the_outcomes_before(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock, size=4)
    await store.create(job, 10)
    a, b, c, d = job.email_ids
    await store.record(job.id, a, clock.now(), status=EmailStatus.PENDING)

    await store.record_cancelled(job.id, [a, b, c, b], clock.now(), {b: EmailStatus.APPROVED})
    await store.record_cancelled(job.id, [b, c], clock.now())  # nothing new
    done = await store.record(job.id, d, clock.now(), error="Classification failed: x")

    assert done is not None and done.status is JobStatus.CANCELLED
    logged = await store.outcomes(job.id, 0)
    assert logged is not None
    assert [(o.seq, o.email_id, o.outcome, o.status) for o in logged] == [
        (1, a, Outcome.SUCCEEDED, EmailStatus.PENDING),
        (2, b, Outcome.CANCELLED, EmailStatus.APPROVED),
        (3, c, Outcome.CANCELLED, None),
        (4, d, Outcome.FAILED, None),
    ]


async def test_a_budget_stop_logs_each_email_it_withdraws_and_names_the_reason(
    store: JobStore, clock: FakeClock
) -> None:
    now = clock.now()
    kind = JobKind.CLASSIFY
    ids = tuple(uuid.uuid4() for _ in range(3))
    job = BatchJob(kind.new_job_id(), kind, USER, ids, now, now, max_cost_usd=0.01)
    await store.create(job, 10)
    a, b, c = ids
    spent = Usage(100, 10, 0.02, llm_calls=1)
    first = await store.record(
        job.id, a, now, usage=spent, intent=Intent.COMPLAINT, status=EmailStatus.PENDING
    )
    assert first is not None and first.over_budget

    await store.record_cancelled(
        job.id, [b], now, {b: EmailStatus.PENDING}, reason=CancelReason.BUDGET
    )
    done = await store.record_cancelled(job.id, [c], clock.advance(1), reason=CancelReason.USER)

    assert done is not None
    assert (done.status, done.cancel_reason, done.cancelled) == (
        JobStatus.CANCELLED,
        CancelReason.BUDGET,
        2,
    )
    logged = await store.outcomes(job.id, 0)
    assert logged is not None
    assert [(o.seq, o.email_id, o.outcome, o.intent, o.status) for o in logged] == [
        (1, a, Outcome.SUCCEEDED, Intent.COMPLAINT, EmailStatus.PENDING),
        (2, b, Outcome.CANCELLED, None, EmailStatus.PENDING),
        (3, c, Outcome.CANCELLED, None, None),
    ]


async def test_a_finished_jobs_outcomes_are_kept_for_the_tail_then_dropped(
    store: JobStore, clock: FakeClock
) -> None:
    job = new_job(clock, size=2)
    await store.create(job, 10)
    await finish(store, job, clock)

    clock.advance(OUTCOME_LOG_TAIL.total_seconds() - 1)
    kept = await store.outcomes(job.id, 0)
    assert kept is not None and [o.seq for o in kept] == [1, 2]
    clock.advance(2)
    assert await store.outcomes(job.id, 0) == [], "dropped, while the job itself is kept"
    assert await store.get(job.id) is not None
    clock.advance(RETENTION.total_seconds())
    assert await store.outcomes(job.id, 0) is None


async def test_concurrent_outcomes_from_two_handles_get_one_seq_each(
    twins: tuple[JobStore, JobStore], clock: FakeClock
) -> None:
    first, second = twins
    job = new_job(clock, size=30)
    ids = job.email_ids
    await first.create(job, 10)
    reports = [
        handle.record(job.id, email_id, clock.now())
        for email_id in ids
        for handle in (first, second)
    ]

    await asyncio.gather(*reports)

    logged = await second.outcomes(job.id, 0)
    assert logged is not None
    assert [o.seq for o in logged] == list(range(1, 31))
    assert sorted(o.email_id for o in logged) == sorted(ids)
