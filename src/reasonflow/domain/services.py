"""Use cases of the batch engine: submit, follow, cancel and retry jobs."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from uuid import UUID

from reasonflow.domain.errors import (
    IdempotencyKeyReused,
    JobConflict,
    JobNotFound,
    RateLimited,
)
from reasonflow.domain.job_log import finished_now, job_cancelled, job_finished, job_submitted
from reasonflow.domain.model import BatchJob, JobKind, Page
from reasonflow.domain.ports import (
    Clock,
    EmailRepository,
    IdempotencyStore,
    JobRunner,
    JobStore,
    Metrics,
    NoMetrics,
    RateLimiter,
)
from reasonflow.domain.submission import check_submission, validate_selection

log = logging.getLogger(__name__)

#: A claim refused for no reason that lasts (a competing job let go meanwhile) is retried.
CLAIM_ATTEMPTS = 3


class BatchService:
    """Submit, follow, cancel and retry jobs; the runner runs their emails
    (``JobExecution.run_email``) in the background."""

    def __init__(
        self,
        emails: EmailRepository,
        jobs: JobStore,
        runner: JobRunner,
        clock: Clock,
        max_active_jobs: int = 10,
        *,
        idempotency: IdempotencyStore | None = None,
        rate_limiter: RateLimiter | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._emails = emails
        self._jobs = jobs
        self._runner = runner
        self._clock = clock
        self._max_active = max_active_jobs
        self._idempotency = idempotency
        self._rate_limiter = rate_limiter
        self._metrics = metrics or NoMetrics()
        # Requests with the same key wait for each other, so one job is created.
        self._key_locks: dict[tuple[UUID, str], _KeyLock] = {}

    @property
    def stopping(self) -> bool:
        """True once shutdown began: no new job is taken."""
        return self._runner.stopping

    async def recover(self, claimed_before: datetime | None = None) -> int:
        """Give back the emails left ``processing`` by jobs that no longer run
        (claimed before ``claimed_before``, when given), and have the runner
        hand out again any email of a running job whose task was lost."""
        running = await self._jobs.unfinished_ids()
        released = await self._emails.recover_orphans(running, claimed_before)
        for job_id in running:
            job = await self._jobs.get(job_id)
            if job is not None and not job.is_finished:
                await self._runner.resume(job)
        return released

    async def shutdown(self, grace: float) -> None:
        """Stop taking work, let running emails finish within ``grace`` seconds, and
        release the claims of the jobs that could not finish."""
        for job_id in await self._runner.stop(grace):
            await self._emails.release(job_id)

    async def submit_classify(
        self,
        user_id: UUID,
        email_ids: Sequence[UUID],
        force: bool = False,
        idempotency_key: str | None = None,
    ) -> BatchJob:
        return await self._submit(JobKind.CLASSIFY, user_id, email_ids, force, idempotency_key)

    async def submit_process(
        self, user_id: UUID, email_ids: Sequence[UUID], idempotency_key: str | None = None
    ) -> BatchJob:
        return await self._submit(JobKind.PROCESS, user_id, email_ids, False, idempotency_key)

    async def status(self, user_id: UUID, job_id: str) -> BatchJob:
        """The job, for its owner only: anyone else gets the same 'not found'."""
        job = await self._jobs.get(job_id)
        if job is None or job.user_id != user_id:
            raise JobNotFound()
        return job

    async def list_jobs(self, user_id: UUID, limit: int, cursor: str | None) -> Page[BatchJob]:
        return await self._jobs.list_for_user(user_id, limit, cursor)

    async def cancel(self, user_id: UUID, job_id: str) -> BatchJob:
        """Release the emails not yet started; those in flight finish; the job ends cancelled."""
        job = await self.status(user_id, job_id)
        if job.is_finished:
            raise JobConflict(f"The job has already finished ({job.status.value})")
        unstarted = await self._runner.cancel(job)
        if unstarted and job.kind is JobKind.PROCESS:
            await self._emails.release(job_id, unstarted)
        now = self._clock.now()
        updated = await self._jobs.record_cancelled(job_id, unstarted, now)
        for _ in unstarted:
            self._metrics.email_finished(job.kind, "cancelled")
        job_cancelled(updated or job, len(unstarted))
        if updated is not None and finished_now(updated, now):
            job_finished(updated)
        return updated or job

    async def retry(self, user_id: UUID, job_id: str) -> BatchJob:
        """A new job of the same kind over the emails that failed, under every normal rule."""
        job = await self.status(user_id, job_id)
        if not job.is_finished:
            raise JobConflict("The job has not finished yet")
        failed = job.failed_ids()
        if not failed:
            raise JobConflict("Nothing failed in this job")
        return await self._submit(job.kind, user_id, failed, job.force, None)

    async def watch(self, job: BatchJob, heartbeat: float) -> AsyncIterator[BatchJob | None]:
        """Each new state of ``job`` until it finishes; None when ``heartbeat``
        seconds pass without a change (so a stream can send a keep-alive)."""
        revision = -1
        current: BatchJob | None = job
        self._metrics.stream_opened()
        try:
            while current is not None:
                if current.revision != revision:
                    revision = current.revision
                    yield current
                elif not current.is_finished:
                    yield None
                if current.is_finished:
                    return
                current = await self._jobs.wait_change(job.id, revision, heartbeat)
        finally:
            # Runs on a normal end and when the follower goes away (cancelled).
            self._metrics.stream_closed()

    async def _submit(
        self,
        kind: JobKind,
        user_id: UUID,
        email_ids: Sequence[UUID],
        force: bool,
        key: str | None,
    ) -> BatchJob:
        if key is None or self._idempotency is None:
            return await self._admit(kind, user_id, email_ids, force)
        slot = self._key_locks.setdefault((user_id, key), _KeyLock())
        slot.users += 1
        try:
            async with slot.lock:
                fingerprint = _fingerprint(kind, email_ids, force)
                seen = await self._idempotency.lookup(user_id, key)
                if seen is not None:
                    if seen[0] != fingerprint:
                        raise IdempotencyKeyReused()
                    first = await self._jobs.get(seen[1])
                    if first is not None and first.user_id == user_id:
                        return first
                job = await self._admit(kind, user_id, email_ids, force)
                await self._idempotency.remember(user_id, key, fingerprint, job.id)
                return job
        finally:
            slot.users -= 1
            if not slot.users:
                del self._key_locks[(user_id, key)]

    async def _admit(
        self, kind: JobKind, user_id: UUID, email_ids: Sequence[UUID], force: bool
    ) -> BatchJob:
        if self._rate_limiter is not None:
            wait = await self._rate_limiter.acquire(user_id)
            if wait > 0:
                raise RateLimited(wait)
        ids = validate_selection(kind, email_ids)
        now = self._clock.now()
        job = BatchJob(kind.new_job_id(), kind, user_id, ids, now, now, force=force)
        if kind is JobKind.CLASSIFY:
            check_submission(kind, ids, await self._emails.statuses(user_id, ids))
            await self._jobs.create(job, self._max_active)
        else:
            await self._claim_and_create(job)
        await self._start(job)
        self._metrics.job_submitted(kind)
        job_submitted(job)
        return job

    async def _claim_and_create(self, job: BatchJob) -> None:
        await self._claim(job)
        try:
            await self._jobs.create(job, self._max_active)
        except Exception:  # over the cap, or the job store is away: keep nothing
            await self._emails.release(job.id)
            raise

    async def _claim(self, job: BatchJob) -> None:
        """Claim every email of ``job`` or raise why not (DESIGN §3's order)."""
        for _ in range(CLAIM_ATTEMPTS):
            if await self._emails.claim(job.user_id, job.email_ids, job.id):
                return
            # Refused: the statuses as they are now say why. When they show no
            # reason, what blocked the claim (another job) has just let go: try again.
            check_submission(
                job.kind, job.email_ids, await self._emails.statuses(job.user_id, job.email_ids)
            )
        raise JobConflict("The selected emails changed while the job was being submitted; retry")

    async def _start(self, job: BatchJob) -> None:
        """Hand the job to the runner; if it refuses (shutting down, or its queue is
        away), undo the submission: the emails are released, the job ends cancelled."""
        try:
            await self._runner.submit(job)
        except Exception:
            if job.kind is JobKind.PROCESS:
                await self._emails.release(job.id)
            try:
                await self._jobs.record_cancelled(job.id, list(job.email_ids), self._clock.now())
            except Exception as exc:  # the store is away too: recovery ends nothing, log it
                log.error(
                    "could not cancel a refused job job=%s error=%s", job.id, type(exc).__name__
                )
            raise


class _KeyLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


def _fingerprint(kind: JobKind, email_ids: Sequence[UUID], force: bool) -> str:
    """What makes two submissions 'the same body' for an Idempotency-Key."""
    canonical = f"{kind.value}|{int(force)}|" + ",".join(str(i) for i in email_ids)
    return hashlib.sha256(canonical.encode()).hexdigest()
