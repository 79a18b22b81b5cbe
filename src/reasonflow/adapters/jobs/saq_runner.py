"""``JobRunner`` over SAQ: one task per email, run by ``reasonflow worker`` processes.

Fairness survives the FIFO queue through a window (DESIGN §7): a job has at
most ``window`` emails queued or running. Submitting enqueues the first
``window`` emails; each email that ends enqueues its job's next one. Where the
job stands is a counter in Redis, ``<prefix>window:<job id>`` (the index of the
next email to enqueue), moved by one Lua step that also remembers which
emails already moved it, so an email run twice (a sweep re-ran a slow task)
never widens the window.

A task is keyed ``<job id>:<email id>`` (enqueueing it twice is a no-op), has
a ``timeout``, and beats a ``heartbeat`` while it runs, so the tasks of a
killed worker are swept and run again elsewhere (``retries``); the per-email
step records each outcome once, so a re-run is harmless.

Cancel moves the counter past the end: emails not yet enqueued are returned
(released and counted by the caller); tasks already queued find the job
cancelled and count their email cancelled without running it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq import Queue, Status
from saq.job import Job
from saq.queue.redis import RedisQueue
from saq.types import Context

from reasonflow.adapters.jobs.redis_errors import unavailable_when_down
from reasonflow.domain.errors import ServiceUnavailable
from reasonflow.domain.model import BatchJob
from reasonflow.domain.ports import EmailStep, JobRunner, JobStore

log = logging.getLogger(__name__)

TASK = "run_email"
#: A task in one of these states will still run (or is running, and swept if stuck).
_LIVE = frozenset({Status.NEW, Status.QUEUED, Status.ACTIVE})
#: How long the window's keys outlive their last move.
_WINDOW_TTL = timedelta(days=2)

#: KEYS: counter, moved-set. ARGV: email id, ttl (ms). The index to enqueue, or -1.
_ADVANCE = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return -1 end
local index = redis.call('INCR', KEYS[1]) - 1
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return index
"""

#: KEYS: counter. ARGV: end. The first index no one will enqueue now.
_CLOSE = """
local index = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
redis.call('SET', KEYS[1], math.max(index, tonumber(ARGV[1])), 'KEEPTTL')
return index
"""


class PatientRedisQueue(RedisQueue):
    """SAQ's Redis queue, pausing a second when Redis does not answer instead of
    asking again at once (a worker would spin on a refused connection)."""

    @classmethod
    def at(cls, url: str, name: str) -> PatientRedisQueue:
        return cls(Redis.from_url(url, socket_connect_timeout=2), name=name)

    async def dequeue(
        self,
        timeout: float = 0.0,  # noqa: ASYNC109 - SAQ's own signature
        poll_interval: float = 0.0,
    ) -> Job | None:
        try:
            return await super().dequeue(timeout, poll_interval)
        except (RedisError, OSError):
            await asyncio.sleep(1.0)
            return None


class SaqJobRunner(JobRunner):
    def __init__(
        self,
        step: EmailStep,
        queue: Queue,
        redis: Redis,
        jobs: JobStore,
        *,
        window: int,
        timeout: int,
        heartbeat: int,
        retries: int = 3,
        prefix: str = "reasonflow:",
    ) -> None:
        self._step = step
        self.queue = queue
        self._redis = redis
        self._jobs = jobs
        self._window = window
        self._timeout = timeout
        self._heartbeat = heartbeat
        self._retries = retries
        self._prefix = prefix
        self._advance = redis.register_script(_ADVANCE)
        self._close = redis.register_script(_CLOSE)
        self._stopping = False

    @property
    def stopping(self) -> bool:
        return self._stopping

    @unavailable_when_down
    async def submit(self, job: BatchJob) -> None:
        if self._stopping:
            raise ServiceUnavailable()
        first = job.email_ids[: self._window]
        ttl = int(_WINDOW_TTL.total_seconds() * 1000)
        await self._redis.set(self._counter(job.id), len(first), px=ttl, nx=True)
        for email_id in first:
            await self._enqueue(job.id, email_id)

    @unavailable_when_down
    async def cancel(self, job: BatchJob) -> list[UUID]:
        end = len(job.email_ids)
        index = int(await self._close(keys=[self._counter(job.id)], args=[end]))
        return list(job.email_ids[index:])

    @unavailable_when_down
    async def resume(self, job: BatchJob) -> None:
        """Enqueue again each handed-out email without an outcome whose task is
        gone or over (a sweep that aborted it and could not retry, a worker that
        died between moving the window and enqueueing)."""
        raw = await self._redis.get(self._counter(job.id))
        handed_out = job.email_ids[: int(raw) if raw is not None else 0]
        pending = set(job.pending_ids())
        for email_id in handed_out:
            if email_id not in pending:
                continue
            task = await self.queue.job(f"{job.id}:{email_id}")
            if task is None or task.status not in _LIVE:
                log.warning("task lost; enqueued again job=%s email=%s", job.id, email_id)
                await self._enqueue(job.id, email_id)

    async def stop(self, grace: float) -> set[str]:
        # An API process runs no email; a worker's SAQ worker hands its running
        # tasks back to the queue on stop. No claim is left for the caller.
        self._stopping = True
        return set()

    async def run(self, ctx: Context, *, job_id: str, email_id: str) -> None:
        """The SAQ task: run one email, beating the heartbeat, then move the window."""
        beat = asyncio.create_task(self._beat(ctx))
        try:
            await self._step(job_id, UUID(email_id))
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        await self.advance(job_id, UUID(email_id))

    async def advance(self, job_id: str, email_id: UUID) -> None:
        """``email_id`` has ended: enqueue the job's next email, if it has one."""
        ttl = int(_WINDOW_TTL.total_seconds() * 1000)
        index = int(
            await self._advance(
                keys=[self._counter(job_id), f"{self._counter(job_id)}:moved"],
                args=[str(email_id), ttl],
            )
        )
        job = await self._jobs.get(job_id)
        if job is None or job.is_finished:
            # Nothing more to enqueue: the window goes with the job.
            await self._redis.delete(self._counter(job_id), f"{self._counter(job_id)}:moved")
        elif 0 <= index < len(job.email_ids):
            await self._enqueue(job_id, job.email_ids[index])

    async def _enqueue(self, job_id: str, email_id: UUID) -> None:
        await self.queue.enqueue(
            TASK,
            key=f"{job_id}:{email_id}",
            timeout=self._timeout,
            heartbeat=self._heartbeat,
            retries=self._retries,
            ttl=60,
            job_id=job_id,
            email_id=str(email_id),
        )

    async def _beat(self, ctx: Context) -> None:
        task = ctx.get("job")
        if task is None:
            return
        while True:
            await asyncio.sleep(self._heartbeat / 3)
            try:
                await task.update()
            except Exception as exc:  # Redis blinked: the next beat tries again
                log.warning("heartbeat failed error=%s", type(exc).__name__)

    def _counter(self, job_id: str) -> str:
        return f"{self._prefix}window:{job_id}"
