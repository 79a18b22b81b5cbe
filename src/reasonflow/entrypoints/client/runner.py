"""Submit a selection batch by batch and follow every job to its end."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Protocol

from reasonflow.entrypoints.client.api import ApiClient, Json
from reasonflow.entrypoints.client.errors import ApiError, ClientError, NetworkError

FINISHED = frozenset({"completed", "failed", "cancelled"})
#: The polling interval the API asks for.
POLL_SECONDS = 2.0
#: Jobs followed at once: enough to keep the server busy, well under its
#: per-user limit of unfinished jobs.
IN_FLIGHT = 3
#: Submissions resent after a network error (same Idempotency-Key, so never twice).
NETWORK_RETRIES = 3
#: Answers 429 or 503 waited out before giving up.
BUSY_RETRIES = 60

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Tally:
    """The latest status of each job, summed over the whole selection."""

    total: int
    jobs: dict[str, Json] = field(default_factory=dict)

    def record(self, status: Json) -> None:
        self.jobs[status["job_id"]] = status

    def _sum(self, name: str) -> int:
        return sum(int(job.get(name, 0)) for job in self.jobs.values())

    @property
    def processed(self) -> int:
        return self._sum("processed")

    @property
    def succeeded(self) -> int:
        return self._sum("succeeded")

    @property
    def failed(self) -> int:
        return self._sum("failed")

    @property
    def cancelled(self) -> int:
        return self._sum("cancelled")

    @property
    def errors(self) -> list[Json]:
        return [error for job in self.jobs.values() for error in job.get("errors") or []]


class Display(Protocol):
    """Where a run shows its progress (a rich bar, or nothing for ``--json``)."""

    def update(self, tally: Tally) -> None: ...

    def note(self, message: str) -> None: ...


@dataclass
class Outcome:
    tally: Tally
    #: Why the server refused a batch; the batches after it were not sent.
    refused: ApiError | None = None
    #: ``--max-cost``: what the budget had left at the end (None: no budget).
    budget_left: float | None = None


class BatchRunner:
    def __init__(
        self,
        api: ApiClient,
        display: Display,
        sleep: Sleep = asyncio.sleep,
        in_flight: int = IN_FLIGHT,
    ) -> None:
        self._api = api
        self._display = display
        self._sleep = sleep
        self._in_flight = in_flight

    async def run(
        self,
        kind: str,
        batches: list[list[str]],
        force: bool = False,
        max_cost: float | None = None,
    ) -> Outcome:
        """Submit the batches in order, at most ``in_flight`` jobs running at once.

        A refusal stops further submissions; jobs already accepted are still
        followed to their end, so the tally describes everything that ran.
        With ``max_cost`` the budget is for the whole run: see ``_within``.
        """
        if max_cost is not None:
            return await self._within(kind, batches, force, max_cost)
        outcome = Outcome(Tally(sum(len(batch) for batch in batches)))
        window = asyncio.Semaphore(self._in_flight)
        try:
            async with asyncio.TaskGroup() as group:
                for batch in batches:
                    await window.acquire()
                    try:
                        accepted = await self.submit(kind, batch, force)
                    except ApiError as exc:
                        outcome.refused = exc
                        break
                    self._seen(outcome.tally, _queued(accepted, kind))
                    group.create_task(self._follow(accepted, outcome.tally, window))
        except* ClientError as group:
            # One line for the user, not a group: the first problem is enough.
            raise group.exceptions[0] from None
        return outcome

    async def _within(
        self, kind: str, batches: list[list[str]], force: bool, budget: float
    ) -> Outcome:
        """One job at a time, each with what the budget has left as its own
        ``max_cost_usd``; once it is spent, no further batch is submitted."""
        outcome = Outcome(Tally(sum(len(batch) for batch in batches)), budget_left=budget)
        for batch in batches:
            left = outcome.budget_left or 0.0
            if left <= 0:
                break
            try:
                accepted = await self.submit(kind, batch, force, left)
            except ApiError as exc:
                outcome.refused = exc
                break
            self._seen(outcome.tally, _queued(accepted, kind))
            final = await self.follow(accepted["job_id"], outcome.tally)
            spent = (final.get("usage") or {}).get("cost_usd") or 0.0
            outcome.budget_left = left - float(spent)
        return outcome

    async def watch(self, accepted: Json, kind: str) -> Outcome:
        """Follow one job the server already accepted (a retry)."""
        outcome = Outcome(Tally(int(accepted["total"])))
        self._seen(outcome.tally, _queued(accepted, kind))
        await self.follow(accepted["job_id"], outcome.tally)
        return outcome

    async def submit(
        self,
        kind: str,
        email_ids: list[str],
        force: bool = False,
        max_cost: float | None = None,
    ) -> Json:
        """One batch, resent when the server is busy or the network failed."""
        key = str(uuid.uuid4())
        lost = busy = 0
        while True:
            try:
                return await self._api.submit(kind, email_ids, force, key, max_cost)
            except NetworkError:
                lost += 1
                if lost > NETWORK_RETRIES:
                    raise
                await self._sleep(float(2 ** (lost - 1)))
            except ApiError as exc:
                busy += 1
                if not exc.temporary or busy > BUSY_RETRIES:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else 5.0
                self._display.note(f"server busy ({exc.detail}); resending in {wait:g} s")
                await self._sleep(wait)
                self._display.note("")

    async def follow(self, job_id: str, tally: Tally) -> Json:
        """The job's final status: from the event stream, else by polling."""
        try:
            async with aclosing(self._api.stream(job_id)) as statuses:
                async for status in statuses:
                    self._seen(tally, status)
                    if status["status"] in FINISHED:
                        return status
        except (NetworkError, ApiError, ValueError):
            # No stream (an older server, a proxy) or a broken one: polling
            # still works, and shows any real problem with the job.
            pass
        lost = 0
        while True:
            try:
                status = await self._api.status(job_id)
            except NetworkError:
                lost += 1
                if lost > NETWORK_RETRIES:
                    raise
            else:
                lost = 0
                self._seen(tally, status)
                if status["status"] in FINISHED:
                    return status
            await self._sleep(POLL_SECONDS)

    async def _follow(self, accepted: Json, tally: Tally, window: asyncio.Semaphore) -> None:
        try:
            await self.follow(accepted["job_id"], tally)
        finally:
            window.release()

    def _seen(self, tally: Tally, status: Json) -> None:
        tally.record(status)
        self._display.update(tally)


def _queued(accepted: Json, kind: str) -> Json:
    """The 202 answer as a status body, until the first real one arrives."""
    return {
        "job_id": accepted["job_id"],
        "kind": kind,
        "status": accepted.get("status", "queued"),
        "total": accepted["total"],
        "processed": 0,
        "succeeded": 0,
        "failed": 0,
        "cancelled": 0,
        "errors": None,
    }
