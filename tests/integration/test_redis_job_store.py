"""What only the Redis job store has to show: a waiter is woken by the change
channel (not by its own re-read), and a finished job's keys really expire."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from reasonflow.adapters.clock import SystemClock
from reasonflow.adapters.jobs.redis_store import RedisJobStore
from reasonflow.domain.errors import TooManyActiveJobs
from reasonflow.domain.model import BatchJob, JobKind
from tests.redis_support import connect, delete_prefix, new_prefix
from tests.support import wait_for


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Redis, str]]:
    client, prefix = await connect(), new_prefix()
    try:
        yield client, prefix
    finally:
        await delete_prefix(client, prefix)
        await client.aclose()


def new_job(size: int = 2) -> BatchJob:
    now = SystemClock().now()
    ids = tuple(uuid.uuid4() for _ in range(size))
    return BatchJob(JobKind.CLASSIFY.new_job_id(), JobKind.CLASSIFY, uuid.uuid4(), ids, now, now)


async def test_a_subscribed_waiter_is_woken_by_the_change(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    store = RedisJobStore(client, SystemClock(), timedelta(hours=1), prefix=prefix)
    job = new_job()
    await store.create(job, 10)
    channel = f"{prefix}job:{job.id}:changed"
    waiting = asyncio.create_task(store.wait_change(job.id, 0, patience=30))

    async def subscribers() -> int:
        counts = await client.pubsub_numsub(channel)
        return int(counts[0][1])

    await wait_for(subscribers, lambda n: n == 1, timeout=5)
    await store.record(job.id, job.email_ids[0], SystemClock().now())

    seen = await asyncio.wait_for(waiting, 5)
    assert seen is not None and seen.processed == 1
    await wait_for(subscribers, lambda n: n == 0, timeout=5)  # the waiter left the channel


async def test_every_key_of_a_finished_job_expires_after_the_retention(
    redis: tuple[Redis, str],
) -> None:
    client, prefix = redis
    store = RedisJobStore(client, SystemClock(), timedelta(seconds=1), prefix=prefix)
    job = new_job(size=1)
    await store.create(job, 10)
    assert await client.ttl(f"{prefix}job:{job.id}") == -1, "a running job never expires"
    await store.record(job.id, job.email_ids[0], SystemClock().now())

    async def keys() -> list[str]:
        return [k async for k in client.scan_iter(match=f"{prefix}*")]

    assert await keys(), "the finished job is kept for its retention"
    assert await wait_for(keys, lambda found: found == [], timeout=5) == []
    assert await store.get(job.id) is None


async def test_creating_the_same_job_again_is_harmless(redis: tuple[Redis, str]) -> None:
    """A create retried after its reply was lost (a connection cut) answers as the first."""
    client, prefix = redis
    store = RedisJobStore(client, SystemClock(), timedelta(hours=1), prefix=prefix)
    job = new_job()
    await store.create(job, max_active=1)
    await store.create(job, max_active=1)
    page = await store.list_for_user(job.user_id, 10, None)
    assert [j.id for j in page.items] == [job.id]
    with pytest.raises(TooManyActiveJobs):
        await store.create(new_job_for(job.user_id), max_active=1)


def new_job_for(user: uuid.UUID) -> BatchJob:
    now = SystemClock().now()
    ids = (uuid.uuid4(),)
    return BatchJob(JobKind.CLASSIFY.new_job_id(), JobKind.CLASSIFY, user, ids, now, now)
