"""Finished jobs kept in memory by the Redis job store (``FinishedJobs``), over a
real Redis: what is answered without a round trip, and what never is."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from reasonflow.adapters.jobs.redis_reads import FinishedJobs, Kept
from reasonflow.adapters.jobs.redis_store import RedisJobStore
from reasonflow.domain.model import BatchJob, JobKind
from tests.fakes import FakeClock
from tests.redis_support import connect, delete_prefix, new_prefix

RETENTION = timedelta(hours=1)


@dataclass
class Two:
    """Two processes' stores over one Redis and one clock."""

    redis: Redis
    prefix: str
    clock: FakeClock
    here: RedisJobStore
    there: RedisJobStore

    async def drop_silently(self, job: BatchJob) -> None:
        """Delete the job's key behind both stores' backs."""
        await self.redis.delete(f"{self.prefix}job:{job.id}")


@pytest.fixture
async def two() -> AsyncIterator[Two]:
    client, prefix = await connect(), new_prefix()
    clock = FakeClock(datetime(2026, 5, 1, tzinfo=UTC))
    try:
        yield Two(
            client,
            prefix,
            clock,
            RedisJobStore(client, clock, RETENTION, prefix=prefix),
            RedisJobStore(client, clock, RETENTION, prefix=prefix),
        )
    finally:
        await delete_prefix(client, prefix)
        await client.aclose()


async def created(two: Two, size: int = 2) -> BatchJob:
    now = two.clock.now()
    ids = tuple(uuid.uuid4() for _ in range(size))
    job = BatchJob(JobKind.CLASSIFY.new_job_id(), JobKind.CLASSIFY, uuid.uuid4(), ids, now, now)
    await two.there.create(job, 10)
    return job


async def test_a_finished_job_is_answered_from_memory_until_it_expires(two: Two) -> None:
    job = await created(two)
    for email_id in job.email_ids:
        await two.there.record(job.id, email_id, two.clock.now())
    seen = await two.here.get(job.id)
    assert seen is not None and seen.is_finished
    await two.drop_silently(job)
    assert (
        await RedisJobStore(two.redis, two.clock, RETENTION, prefix=two.prefix).get(job.id) is None
    )
    kept = await two.here.get(job.id)
    assert kept is not None and kept.succeeded == 2
    two.clock.advance(RETENTION.total_seconds())
    assert await two.here.get(job.id) is None, "gone at its expiry, as in Redis"


async def test_a_job_that_has_not_finished_is_always_read_from_redis(two: Two) -> None:
    job = await created(two)
    assert (await two.here.get(job.id)) is not None
    await two.there.record(job.id, job.email_ids[0], two.clock.now())
    seen = await two.here.get(job.id)
    assert seen is not None and seen.processed == 1, "the other process's change"
    await two.drop_silently(job)
    assert await two.here.get(job.id) is None


async def test_a_job_read_running_then_finished_elsewhere_reads_finished(two: Two) -> None:
    job = await created(two)
    running = await two.here.get(job.id)
    assert running is not None and not running.is_finished
    for email_id in job.email_ids:
        await two.there.record(job.id, email_id, two.clock.now())
    finished = await two.here.get(job.id)
    assert finished is not None and finished.is_finished


def test_the_finished_jobs_kept_are_bounded_least_recently_used_first() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    kept = FinishedJobs(size=2)
    jobs = []
    for _ in range(3):
        job = BatchJob(
            JobKind.CLASSIFY.new_job_id(), JobKind.CLASSIFY, uuid.uuid4(), (uuid.uuid4(),), now, now
        )
        job.record_success(job.email_ids[0], now)
        assert job.is_finished
        jobs.append(job)
    kept.keep(jobs[0].id, Kept(jobs[0], None))
    kept.keep(jobs[1].id, Kept(jobs[1], None))
    assert kept.get(jobs[0].id) is not None  # now the most recently used
    kept.keep(jobs[2].id, Kept(jobs[2], None))
    assert len(kept) == 2
    assert kept.get(jobs[1].id) is None
    assert kept.get(jobs[0].id) is not None and kept.get(jobs[2].id) is not None


def test_a_running_job_is_never_kept() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    job = BatchJob(
        JobKind.CLASSIFY.new_job_id(), JobKind.CLASSIFY, uuid.uuid4(), (uuid.uuid4(),), now, now
    )
    kept = FinishedJobs()
    kept.keep(job.id, Kept(job, None))
    assert kept.get(job.id) is None
