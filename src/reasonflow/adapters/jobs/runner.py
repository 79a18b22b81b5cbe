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

    Emails begin one at a time, in the order their slots were handed out, and
    a slot is given to a job only when its turn to begin comes (an email has
    begun once it is read and its provider call is next: the step says so
    through ``begun``). A wave of free slots therefore does not commit itself
    to one job up front: a job submitted while a 100-email job's first wave is
    still beginning takes the very next slot to begin instead of waiting one
    whole provider call for a slot to free (docs/benchmarks.md, row 3).
    Jobs not served yet go first, in the order they came; each job served
    moves to the back.
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
        self._unserved = 0  # the first jobs of ``_turns`` that have had no email yet
        self._in_flight: dict[str, int] = {}
        #: Every slot's task, with the job its email belongs to once it has one.
        self._tasks: dict[asyncio.Task[None], str | None] = {}
        self._beginning = asyncio.Lock()  # FIFO: one email begins at a time
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
        # A newcomer has had no turn yet, so it goes ahead of every job that
        # has, behind the newcomers before it; served jobs rotate from then on.
        self._turns.insert(self._unserved, job.id)
        self._unserved += 1
        self._dispatch()

    async def resume(self, job: BatchJob) -> None:
        # Tasks live in this process: they cannot be lost while it runs, and
        # after a restart the in-memory jobs are gone with them.
        return None

    async def cancel(self, job: BatchJob) -> list[UUID]:
        waiting = self._waiting.pop(job.id, None)
        if waiting is None:
            return []
        self._drop_turn(job.id)
        return list(waiting)

    def _dispatch(self) -> None:
        """Hand out free slots, as many as there are emails that may start now."""
        if self._stopping or len(self._tasks) >= self._slots:
            return  # (counting what may start costs a pass over the waiting jobs)
        # Slots handed out whose email is not chosen yet will each take one.
        unbound = sum(job_id is None for job_id in self._tasks.values())
        wanted = self._startable() - unbound
        while wanted > 0 and len(self._tasks) < self._slots:
            task = asyncio.get_running_loop().create_task(self._slot())
            self._tasks[task] = None
            wanted -= 1
            task.add_done_callback(self._finished)

    def _startable(self) -> int:
        per_job = self._per_job
        return sum(
            min(len(queue), per_job - self._in_flight.get(job_id, 0))
            for job_id, queue in self._waiting.items()
        )

    async def _slot(self) -> None:
        """One slot: wait for the turn to begin, take the next email in rotation, run it."""
        await self._beginning.acquire()
        held = True

        def begun() -> None:
            nonlocal held
            if held:
                held = False
                self._beginning.release()

        try:
            picked = None if self._stopping else self._pick()
            if picked is None:
                return
            job_id, email_id = picked
            task = asyncio.current_task()
            if task is not None:
                self._tasks[task] = job_id
                task.set_name(f"{job_id}:{email_id}")
            try:
                await self._step(job_id, email_id, begun)
            except Exception as exc:
                log.error("email task failed job=%s error=%s", job_id, type(exc).__name__)
            finally:
                left = self._in_flight[job_id] - 1
                if left:
                    self._in_flight[job_id] = left
                else:
                    del self._in_flight[job_id]
        finally:
            begun()

    def _pick(self) -> tuple[str, UUID] | None:
        job_id = self._next_turn()
        if job_id is None:
            return None
        queue = self._waiting[job_id]
        email_id = queue.popleft()
        if not queue:
            del self._waiting[job_id]
            self._drop_turn(job_id)
        self._in_flight[job_id] = self._in_flight.get(job_id, 0) + 1
        return job_id, email_id

    def _next_turn(self) -> str | None:
        """The next job, in rotation, that may take another slot."""
        for _ in range(len(self._turns)):
            job_id = self._turns[0]
            self._turns.rotate(-1)
            if self._unserved:
                # Never served, so below its limit: it is the one.
                self._unserved -= 1
                return job_id
            if self._in_flight.get(job_id, 0) < self._per_job:
                return job_id
        return None

    def _drop_turn(self, job_id: str) -> None:
        if self._turns.index(job_id) < self._unserved:
            self._unserved -= 1
        self._turns.remove(job_id)

    def _finished(self, task: asyncio.Task[None]) -> None:
        del self._tasks[task]
        self._dispatch()

    async def stop(self, grace: float) -> set[str]:
        """Stop taking work, give running emails ``grace`` seconds, cancel the rest.

        Returns the ids of jobs that did not finish, so the caller can release
        their claims.
        """
        self._stopping = True
        unfinished = set(self._waiting) | {j for j in self._tasks.values() if j is not None}
        self._waiting.clear()
        self._turns.clear()
        self._unserved = 0
        if self._tasks:
            _, late = await asyncio.wait(list(self._tasks), timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        return unfinished
