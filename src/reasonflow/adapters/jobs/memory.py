"""In-memory job store for a single process (DESIGN §7, one-process mode)."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from uuid import UUID

from reasonflow.adapters.jobs.cursor import decode_cursor, encode_cursor
from reasonflow.domain.errors import TooManyActiveJobs
from reasonflow.domain.model import (
    OUTCOME_LOG_TAIL,
    BatchJob,
    CancelReason,
    EmailOutcome,
    EmailStatus,
    Intent,
    Outcome,
    Page,
    Usage,
)
from reasonflow.domain.ports import Clock, JobStore


class InMemoryJobStore(JobStore):
    """Jobs by id, evicted ``retention`` after they finish.

    Eviction keeps a min-heap of expiry times, so a sweep costs O(k log n) for
    the k jobs that expire, never a scan of every job. Sweeps run on every
    access, and the composition root sweeps periodically in the background.
    Each job's outcome log goes the same way, ``OUTCOME_LOG_TAIL`` after it finishes.
    """

    def __init__(
        self,
        clock: Clock,
        retention: timedelta,
        on_finished: Callable[[BatchJob], None] | None = None,
    ) -> None:
        self._clock = clock
        self._on_finished = on_finished
        # One event per watched job, set and dropped at its next change.
        self._changed: dict[str, _Watch] = {}
        self._retention = retention
        self._jobs: dict[str, BatchJob] = {}
        self._expiry: list[tuple[datetime, str]] = []
        self._outcomes: dict[str, list[EmailOutcome]] = {}
        self._log_tail = min(retention, OUTCOME_LOG_TAIL)
        self._log_expiry: list[tuple[datetime, str]] = []
        self._finished: set[str] = set()
        self._active: defaultdict[UUID, int] = defaultdict(int)
        # Per user, job ids in creation order: listing is newest first.
        self._by_user: defaultdict[UUID, dict[str, None]] = defaultdict(dict)

    def __len__(self) -> int:
        return len(self._jobs)

    async def create(self, job: BatchJob, max_active: int) -> None:
        self.sweep()
        if self._active[job.user_id] >= max_active:
            raise TooManyActiveJobs(max_active)
        self._jobs[job.id] = job
        self._by_user[job.user_id][job.id] = None
        self._active[job.user_id] += 1

    async def get(self, job_id: str) -> BatchJob | None:
        self.sweep()
        return self._jobs.get(job_id)

    async def start(self, job_id: str, now: datetime) -> BatchJob | None:
        job = self._jobs.get(job_id)
        if job is not None and job.revision == 0:
            job.start(now)
            self._notify(job_id)
        return job

    async def record(
        self,
        job_id: str,
        email_id: UUID,
        now: datetime,
        error: str | None = None,
        usage: Usage | None = None,
        *,
        intent: Intent | None = None,
        status: EmailStatus | None = None,
    ) -> BatchJob | None:
        job = self._jobs.get(job_id)
        if job is None:
            return None
        if error is None:
            counted = job.record_success(email_id, now, usage or Usage())
        else:
            counted = job.record_failure(email_id, error, now, usage or Usage())
        if counted:
            outcome = Outcome.SUCCEEDED if error is None else Outcome.FAILED
            self._log(job).append(
                EmailOutcome(self._seq(job), email_id, outcome, intent, status, error)
            )
        self._after_change(job)
        return job

    async def record_cancelled(
        self,
        job_id: str,
        email_ids: list[UUID],
        now: datetime,
        statuses: Mapping[UUID, EmailStatus] | None = None,
        *,
        reason: CancelReason | None = None,
    ) -> BatchJob | None:
        job = self._jobs.get(job_id)
        if job is None:
            return None
        pending = set(job.pending_ids())
        fresh = [i for i in dict.fromkeys(email_ids) if i in pending]
        job.record_cancelled(email_ids, now, reason)
        log = self._log(job)
        first = self._seq(job) - len(fresh) + 1
        for n, email_id in enumerate(fresh):
            status = (statuses or {}).get(email_id)
            log.append(EmailOutcome(first + n, email_id, Outcome.CANCELLED, status=status))
        self._after_change(job)
        return job

    async def outcomes(self, job_id: str, after: int) -> list[EmailOutcome] | None:
        self.sweep()
        if job_id not in self._jobs:
            return None
        return self._outcomes.get(job_id, [])[max(after, 0) :]

    async def list_for_user(self, user_id: UUID, limit: int, cursor: str | None) -> Page[BatchJob]:
        self.sweep()
        ids = list(reversed(self._by_user.get(user_id, {})))
        start = 0
        if cursor is not None:
            after = decode_cursor(cursor)
            start = ids.index(after) + 1 if after in ids else len(ids)
        chunk = ids[start : start + limit]
        more = start + limit < len(ids)
        return Page(
            [self._jobs[i] for i in chunk], encode_cursor(chunk[-1]) if more and chunk else None
        )

    async def unfinished_ids(self) -> set[str]:
        return {i for i, job in self._jobs.items() if not job.is_finished}

    @property
    def unfinished_count(self) -> int:
        return len(self._jobs) - len(self._finished)

    async def wait_change(
        self, job_id: str, after_revision: int, patience: float
    ) -> BatchJob | None:
        job = self._jobs.get(job_id)
        if job is None or job.revision > after_revision or job.is_finished:
            return job
        watch = self._changed.setdefault(job_id, _Watch())
        watch.waiters += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watch.event.wait(), patience)
        finally:
            # A watcher that leaves (timeout, disconnect) takes its subscription along.
            watch.waiters -= 1
            if not watch.waiters and self._changed.get(job_id) is watch:
                del self._changed[job_id]
        return self._jobs.get(job_id)

    def sweep(self) -> int:
        """Evict every job whose retention has passed; returns how many."""
        now = self._clock.now()
        evicted = 0
        while self._expiry and self._expiry[0][0] <= now:
            _, job_id = heapq.heappop(self._expiry)
            job = self._jobs.pop(job_id, None)
            self._outcomes.pop(job_id, None)
            self._finished.discard(job_id)
            self._notify(job_id)
            if job is not None:
                self._by_user[job.user_id].pop(job_id, None)
                if not self._by_user[job.user_id]:
                    del self._by_user[job.user_id]
                evicted += 1
        while self._log_expiry and self._log_expiry[0][0] <= now:
            self._outcomes.pop(heapq.heappop(self._log_expiry)[1], None)
        return evicted

    def _log(self, job: BatchJob) -> list[EmailOutcome]:
        return self._outcomes.setdefault(job.id, [])

    @staticmethod
    def _seq(job: BatchJob) -> int:
        return job.processed + job.cancelled

    def _notify(self, job_id: str) -> None:
        watch = self._changed.pop(job_id, None)
        if watch is not None:
            watch.event.set()

    def _after_change(self, job: BatchJob) -> None:
        self._notify(job.id)
        if not job.is_finished or job.completed_at is None or job.id in self._finished:
            return
        self._finished.add(job.id)
        self._active[job.user_id] -= 1
        if self._active[job.user_id] <= 0:
            del self._active[job.user_id]
        completed = job.completed_at.astimezone(UTC)
        heapq.heappush(self._expiry, (completed + self._retention, job.id))
        heapq.heappush(self._log_expiry, (completed + self._log_tail, job.id))
        if self._on_finished is not None:
            self._on_finished(job)


class _Watch:
    __slots__ = ("event", "waiters")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.waiters = 0
