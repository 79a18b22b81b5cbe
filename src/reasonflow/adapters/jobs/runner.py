"""Runs jobs inside the app's event loop, fairly, within a process-wide limit."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from uuid import UUID

from reasonflow.domain.errors import ServiceUnavailable
from reasonflow.domain.model import BatchJob
from reasonflow.domain.ports import EmailStep, JobRunner

log = logging.getLogger(__name__)


class AsyncioJobRunner(JobRunner):
    """Schedules one task per email over ``max_concurrency`` slots.

    A slot is the right to have one email in the provider, so the process
    never has more than ``max_concurrency`` emails (and LLM calls) in flight.
    A job holds at most ``job_max_concurrency`` slots. Free slots go to jobs
    with waiting emails in turn (round-robin), so a 1-email job submitted after
    a 100-email job starts as soon as any slot frees, not after the big job.
    Scheduling is event-driven: a slot is handed out when a job arrives or an
    email finishes, with no polling loop.
    """

    def __init__(
        self, step: EmailStep, max_concurrency: int, job_max_concurrency: int | None = None
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._step = step
        self._slots = max_concurrency
        self._per_job = min(job_max_concurrency or max_concurrency, max_concurrency)
        self._waiting: dict[str, deque[UUID]] = {}
        self._turns: deque[str] = deque()
        self._in_flight: dict[str, int] = {}
        self._tasks: dict[asyncio.Task[None], str] = {}
        self._stopping = False

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def submit(self, job: BatchJob) -> None:
        if self._stopping:
            raise ServiceUnavailable()
        pending = deque(job.pending_ids())
        if not pending or job.id in self._waiting:
            return
        self._waiting[job.id] = pending
        # A newcomer has had no turn yet, so it goes first; each job served
        # moves to the back, which makes the order round-robin from then on.
        self._turns.appendleft(job.id)
        self._dispatch()

    async def resume(self, job: BatchJob) -> None:
        # Tasks live in this process: they cannot be lost while it runs, and
        # after a restart the in-memory jobs are gone with them.
        return None

    async def cancel(self, job: BatchJob) -> list[UUID]:
        waiting = self._waiting.pop(job.id, None)
        if waiting is None:
            return []
        self._turns.remove(job.id)
        return list(waiting)

    def _dispatch(self) -> None:
        while len(self._tasks) < self._slots and not self._stopping:
            job_id = self._next_turn()
            if job_id is None:
                return
            queue = self._waiting[job_id]
            email_id = queue.popleft()
            if not queue:
                del self._waiting[job_id]
                self._turns.remove(job_id)
            self._start(job_id, email_id)

    def _next_turn(self) -> str | None:
        """The next job, in rotation, that may take another slot."""
        for _ in range(len(self._turns)):
            job_id = self._turns[0]
            self._turns.rotate(-1)
            if self._in_flight.get(job_id, 0) < self._per_job:
                return job_id
        return None

    def _start(self, job_id: str, email_id: UUID) -> None:
        task = asyncio.get_running_loop().create_task(
            self._step(job_id, email_id), name=f"{job_id}:{email_id}"
        )
        self._tasks[task] = job_id
        self._in_flight[job_id] = self._in_flight.get(job_id, 0) + 1
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        job_id = self._tasks.pop(task)
        left = self._in_flight[job_id] - 1
        if left:
            self._in_flight[job_id] = left
        else:
            del self._in_flight[job_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("email task failed job=%s error=%s", job_id, type(task.exception()).__name__)
        self._dispatch()

    async def stop(self, grace: float) -> set[str]:
        """Stop taking work, give running emails ``grace`` seconds, cancel the rest.

        Returns the ids of jobs that did not finish, so the caller can release
        their claims.
        """
        self._stopping = True
        unfinished = set(self._waiting) | set(self._tasks.values())
        self._waiting.clear()
        self._turns.clear()
        if self._tasks:
            _, late = await asyncio.wait(list(self._tasks), timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        return unfinished
