"""An API process's kept job reads (``JobReadCache``) over a real Redis: what
it keeps, and everything that makes it read Redis again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from reasonflow.adapters.clock import SystemClock
from reasonflow.adapters.jobs.redis_reads import JobReadCache
from reasonflow.adapters.jobs.redis_store import RedisJobStore
from reasonflow.domain.model import BatchJob, JobKind
from tests.redis_support import connect, delete_prefix, new_prefix, redis_url
from tests.support import wait_for

RETENTION = timedelta(hours=1)


@dataclass
class Pair:
    """Two processes' stores over one Redis: ``api`` keeps what it reads, ``other`` does not."""

    redis: Redis
    prefix: str
    reads: JobReadCache
    api: RedisJobStore
    other: RedisJobStore

    async def drop_silently(self, job: BatchJob) -> None:
        """Delete the job's key behind every store's back (no notice published)."""
        await self.redis.delete(f"{self.prefix}job:{job.id}")


def probe(read: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    async def run() -> object:
        return read()

    return run


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    client, prefix = await connect(), new_prefix()
    # The kept reads' subscription on a named connection, so a test can cut it.
    named = Redis.from_url(redis_url(), decode_responses=True, client_name=f"{prefix}reads")
    reads = JobReadCache(named, prefix, max_age_seconds=30, ping_seconds=0.2, reconnect_seconds=0.1)
    await reads.start()
    try:
        await wait_for(probe(lambda: reads.live), bool, timeout=5)
        clock = SystemClock()
        yield Pair(
            client,
            prefix,
            reads,
            RedisJobStore(named, clock, RETENTION, prefix=prefix, reads=reads),
            RedisJobStore(client, clock, RETENTION, prefix=prefix),
        )
    finally:
        await reads.stop()
        await named.aclose()
        await delete_prefix(client, prefix)
        await client.aclose()


async def created(store: RedisJobStore, size: int = 3) -> BatchJob:
    now = SystemClock().now()
    ids = tuple(uuid.uuid4() for _ in range(size))
    job = BatchJob(JobKind.CLASSIFY.new_job_id(), JobKind.CLASSIFY, uuid.uuid4(), ids, now, now)
    await store.create(job, 10)
    return job


async def test_a_job_read_again_without_a_change_is_answered_from_memory(pair: Pair) -> None:
    job = await created(pair.other)
    assert (await pair.api.get(job.id)) is not None
    await pair.drop_silently(job)
    assert await pair.other.get(job.id) is None
    assert await pair.api.get(job.id) is not None, "kept: no notice said it changed"


async def test_a_change_made_by_another_process_is_seen(pair: Pair) -> None:
    job = await created(pair.other)
    assert (await pair.api.get(job.id)).processed == 0  # type: ignore[union-attr]
    await pair.other.record(job.id, job.email_ids[0], SystemClock().now())

    async def processed() -> int:
        seen = await pair.api.get(job.id)
        assert seen is not None
        return seen.processed

    await wait_for(processed, lambda n: n == 1, timeout=5)


async def test_a_change_made_through_this_process_is_seen_at_once(pair: Pair) -> None:
    job = await created(pair.api)
    await pair.api.get(job.id)
    await pair.api.record(job.id, job.email_ids[0], SystemClock().now())
    seen = await pair.api.get(job.id)
    assert seen is not None and seen.processed == 1


async def test_a_read_that_crossed_a_change_is_not_kept(pair: Pair) -> None:
    job = await created(pair.other)
    ticket = pair.reads.ticket()
    read = await pair.api.get(job.id)  # kept
    assert read is not None
    pair.reads.forget(job.id)  # as a notice arriving now would
    stale = pair.reads.lookup(job.id)
    assert stale is None
    found = pair.api._decoded(await pair.redis.get(f"{pair.prefix}job:{job.id}"))
    assert found is not None
    pair.reads.keep(job.id, found, ticket)  # a reply sent before that notice
    assert pair.reads.lookup(job.id) is None


async def test_while_the_subscription_is_down_every_read_goes_to_redis(pair: Pair) -> None:
    job = await created(pair.other)
    await pair.api.get(job.id)
    await cut_subscription(pair)
    await wait_for(probe(lambda: pair.reads.live), lambda live: not live, timeout=5)
    await pair.drop_silently(job)
    assert await pair.api.get(job.id) is None, "nothing kept from before the cut is served"
    # It comes back by itself, and keeps again.
    await wait_for(probe(lambda: pair.reads.live), bool, timeout=5)
    again = await created(pair.other)
    await pair.api.get(again.id)
    await pair.drop_silently(again)
    assert await pair.api.get(again.id) is not None


async def test_nothing_is_kept_longer_than_its_age_limit(pair: Pair) -> None:
    short = JobReadCache(pair.redis, pair.prefix, max_age_seconds=0.2)
    await short.start()
    try:
        await wait_for(probe(lambda: short.live), bool, timeout=5)
        store = RedisJobStore(pair.redis, SystemClock(), RETENTION, prefix=pair.prefix, reads=short)
        job = await created(pair.other)
        await store.get(job.id)
        await pair.drop_silently(job)
        await wait_for(lambda: store.get(job.id), lambda seen: seen is None, timeout=5)
    finally:
        await short.stop()


async def cut_subscription(pair: Pair) -> None:
    """``CLIENT KILL`` the kept reads' pattern subscription, as a network failure would."""
    clients = await pair.redis.client_list()
    ids = [c["id"] for c in clients if c.get("name") == f"{pair.prefix}reads" and c["psub"] != "0"]
    assert ids, "the subscription's connection was not found"
    for client_id in ids:
        await pair.redis.client_kill_filter(_id=client_id)
