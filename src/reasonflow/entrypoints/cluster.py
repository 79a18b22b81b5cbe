"""Where jobs live and run, by mode (part of the composition root, DESIGN §7).

One process (default): the in-memory job store, idempotency keys and rate
limit, and the asyncio runner. Cluster (``JOB_STORE=redis``, ``QUEUE=saq``):
the same ports on Redis, shared by every API process and ``reasonflow
worker``, and emails run as SAQ tasks.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError
from saq import Queue

from reasonflow.adapters.auth.redis_throttle import RedisSignInThrottle
from reasonflow.adapters.jobs.idempotency import InMemoryIdempotencyStore
from reasonflow.adapters.jobs.memory import InMemoryJobStore
from reasonflow.adapters.jobs.rate_limit import TokenBucketRateLimiter
from reasonflow.adapters.jobs.redis_idempotency import RedisIdempotencyStore
from reasonflow.adapters.jobs.redis_rate_limit import RedisRateLimiter
from reasonflow.adapters.jobs.redis_store import RedisJobStore
from reasonflow.adapters.jobs.runner import AsyncioJobRunner
from reasonflow.adapters.jobs.saq_runner import PatientRedisQueue, SaqJobRunner
from reasonflow.adapters.llm.chat_client import Pacer
from reasonflow.adapters.llm.redis_pacer import RedisPacer
from reasonflow.adapters.metrics import PrometheusMetrics
from reasonflow.domain.accounts import SignInThrottle, ThrottleLimits
from reasonflow.domain.ports import (
    Clock,
    EmailStep,
    IdempotencyStore,
    JobRunner,
    JobStore,
    RateLimiter,
)
from reasonflow.entrypoints.lifecycle import Background, Probe, Resource, every
from reasonflow.entrypoints.settings import Settings

RunnerFactory = Callable[[EmailStep], JobRunner]
#: How often finished jobs past their retention are evicted when nobody asks.
SWEEP_SECONDS = 60.0


@dataclass(frozen=True)
class JobAdapters:
    jobs: JobStore
    idempotency: IdempotencyStore
    rate_limiter: RateLimiter
    runner: RunnerFactory
    resources: Sequence[Resource] = ()
    probes: Sequence[Probe] = ()
    #: Cluster only: True for the one process that may run recovery this round.
    lease: Callable[[], Awaitable[bool]] | None = None
    #: Cluster only, with ``LLM_RPM``: the provider allowance every worker shares.
    llm_pacer: Pacer | None = None
    #: Cluster only: failed sign-ins counted across processes (memory otherwise).
    signin_throttle: SignInThrottle | None = None


def signin_limits(settings: Settings) -> ThrottleLimits:
    return ThrottleLimits(
        per_pair=settings.signin_failures_per_pair,
        per_client=settings.signin_failures_per_client,
        window_seconds=settings.signin_window_seconds,
    )


def job_adapters(settings: Settings, clock: Clock, metrics: PrometheusMetrics) -> JobAdapters:
    retention = timedelta(seconds=settings.job_retention_seconds)
    if settings.cluster:
        return _cluster(settings, clock, retention)
    jobs = InMemoryJobStore(clock, retention, on_finished=metrics.job_finished)
    metrics.watch(
        "reasonflow_jobs_in_flight", "Unfinished batch jobs.", lambda: jobs.unfinished_count
    )

    def runner(step: EmailStep) -> JobRunner:
        built = AsyncioJobRunner(
            step, settings.llm_max_concurrency, settings.effective_job_concurrency
        )
        metrics.watch(
            "reasonflow_emails_in_flight",
            "Emails holding a provider slot right now.",
            lambda: built.in_flight,
        )
        return built

    return JobAdapters(
        jobs=jobs,
        idempotency=InMemoryIdempotencyStore(clock),
        rate_limiter=TokenBucketRateLimiter(settings.submit_rate_per_minute),
        runner=runner,
        # Expired jobs are evicted even when nobody asks.
        resources=[Background("job-sweeper", functools.partial(every, SWEEP_SECONDS, jobs.sweep))],
    )


def _cluster(settings: Settings, clock: Clock, retention: timedelta) -> JobAdapters:
    prefix = settings.redis_prefix
    redis = RedisClient(settings.redis_url)
    jobs = RedisJobStore(redis.client, clock, retention, prefix=prefix, subscriber=redis.subscriber)
    queue = PatientRedisQueue.at(settings.redis_url, name=f"{prefix}emails")

    def runner(step: EmailStep) -> JobRunner:
        return SaqJobRunner(
            step,
            queue,
            redis.client,
            jobs,
            window=settings.effective_job_concurrency,
            # Longer than any email can take: the provider's own timeout and
            # retries, twice over (two model calls), plus room.
            timeout=int(settings.llm_timeout_seconds * (settings.llm_max_retries + 1) * 2 + 60),
            heartbeat=settings.task_heartbeat_seconds,
            prefix=prefix,
        )

    async def lease() -> bool:
        ttl = int(settings.recovery_interval_seconds * 1000 * 0.9)
        taken = await redis.client.set(f"{prefix}recovery-lease", "1", nx=True, px=ttl)
        return bool(taken)

    return JobAdapters(
        jobs=jobs,
        idempotency=RedisIdempotencyStore(redis.client, clock, prefix=prefix),
        rate_limiter=RedisRateLimiter(redis.client, settings.submit_rate_per_minute, prefix=prefix),
        runner=runner,
        resources=[redis, SaqQueue(queue)],
        llm_pacer=(
            RedisPacer(redis.client, settings.llm_rpm, settings.llm_model, prefix=prefix)
            if settings.llm_rpm
            else None
        ),
        signin_throttle=RedisSignInThrottle(
            redis.client, clock, signin_limits(settings), prefix=prefix
        ),
        probes=[redis.ready],
        lease=lease,
    )


#: Connections for commands, per process: a request waits up to
#: ``POOL_WAIT_SECONDS`` for one (then 503) rather than opening more.
POOL_SIZE = 64
POOL_WAIT_SECONDS = 5.0


class RedisClient(Resource):
    """The process's Redis: a bounded pool for commands (``client``) and one for
    subscriptions (``subscriber``: each status stream holds a connection for as
    long as it is open, so streams never starve commands). Connects lazily."""

    def __init__(self, url: str) -> None:
        # A pooled connection left broken by a Redis restart fails its next
        # command: that command is tried again on a new connection (twice at
        # most, quickly). Every command sent is safe to repeat: reads, and
        # scripts that apply once (redis_scripts, the window, the limits).
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_timeout": 5,
            "socket_connect_timeout": 2,
            "retry": Retry(
                ExponentialBackoff(cap=0.25, base=0.02), 2, supported_errors=(ConnectionError,)
            ),
        }
        commands = BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=POOL_WAIT_SECONDS, **options
        )
        self.client: Redis = Redis.from_pool(commands)
        subscriptions = ConnectionPool.from_url(url, max_connections=100_000, **options)
        self.subscriber: Redis = Redis.from_pool(subscriptions)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.client.aclose()
        await self.subscriber.aclose()

    async def ready(self) -> bool:
        try:
            return bool(await self.client.ping())
        except Exception:
            return False


class SaqQueue(Resource):
    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    async def start(self) -> None:
        await self.queue.connect()

    async def stop(self) -> None:
        await self.queue.disconnect()
