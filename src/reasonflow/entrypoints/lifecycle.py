"""Start, stop and readiness of a process: the same object for the API, the CLI and workers."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol

from reasonflow.domain.accounts import AccountService
from reasonflow.domain.dispatch import ReplyDispatcher
from reasonflow.domain.services import BatchService

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[bool]]


class Resource(Protocol):
    """An adapter that holds something outside the process: a file, connections, a task."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Lifecycle:
    """Starts ``resources`` in order and stops the started ones in reverse.

    With ``jobs`` (a process that runs batch jobs), start also gives back the
    emails a previous run left claimed (unless ``recover_at_start`` is off: in a
    cluster, other processes' jobs are running; periodic recovery does it
    there), and stop first lets running emails
    finish within ``grace`` seconds, then releases the rest. Nothing is
    started twice; a failed start stops what had started.
    """

    def __init__(
        self,
        resources: Sequence[Resource],
        probes: Sequence[Probe] = (),
        *,
        jobs: BatchService | None = None,
        accounts: AccountService | None = None,
        grace: float = 10.0,
        recover_at_start: bool = True,
    ) -> None:
        self._resources = list(resources)
        self._probes = list(probes)
        self._jobs = jobs
        self._accounts = accounts
        self._grace = grace
        self._recover_at_start = recover_at_start
        self._started: list[Resource] = []

    async def start(self) -> None:
        try:
            for resource in self._resources:
                if resource not in self._started:
                    await resource.start()
                    self._started.append(resource)
            if self._accounts is not None:
                self._accounts.start()
            if self._jobs is not None and self._recover_at_start:
                released = await self._jobs.recover()
                if released:
                    log.warning("recovered %d emails left processing by a previous run", released)
        except BaseException:
            await self._stop_resources()
            raise

    async def stop(self) -> None:
        try:
            if self._jobs is not None:
                await self._jobs.shutdown(self._grace)
        finally:
            await self._stop_resources()

    async def ready(self) -> bool:
        """Taking work (not shutting down) and every probe (the database) answers."""
        if self._jobs is not None and self._jobs.stopping:
            return False
        for probe in self._probes:
            if not await probe():
                return False
        return True

    async def _stop_resources(self) -> None:
        while self._started:
            resource = self._started.pop()
            try:
                await resource.stop()
            except Exception as exc:  # stop the others all the same
                log.error(
                    "stopping %s failed error=%s", type(resource).__name__, type(exc).__name__
                )


class Background(Resource):
    """Runs ``work()`` (a loop that never returns) as a task while started."""

    def __init__(self, name: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._name = name
        self._work = work
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._work(), name=self._name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def every(interval: float, action: Callable[[], object]) -> None:
    """Call (and await, if it answers an awaitable) ``action`` every ``interval``
    seconds, forever (for ``Background``); a failed round is logged, not fatal."""
    while True:
        await asyncio.sleep(interval)
        try:
            result = action()
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # Redis or the database away for a moment: next round
            log.warning("periodic %s failed error=%s", _name(action), type(exc).__name__)


def _name(action: Callable[[], object]) -> str:
    inner = getattr(action, "func", action)
    return str(getattr(inner, "__name__", type(inner).__name__))


class DispatcherTask(Resource):
    """Runs a ``ReplyDispatcher`` while started. Stopping lets the delivery under
    way finish (within ``grace`` seconds), then lets the lease go so another
    process takes over at once instead of when it expires."""

    def __init__(self, dispatcher: ReplyDispatcher, grace: float = 10.0) -> None:
        self.dispatcher = dispatcher
        self._grace = grace
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.dispatcher.run(), name="reply-dispatcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        await self.dispatcher.stop()
        try:
            await asyncio.wait_for(task, self._grace)
        except TimeoutError:
            pass  # cancelled by wait_for: the reply stays due and is sent again later
        except Exception as exc:
            log.error("the reply dispatcher failed error=%s", type(exc).__name__)
        try:
            await self.dispatcher.release()
        except Exception as exc:  # the database is away: the lease expires by itself
            log.warning("could not release the dispatch lease error=%s", type(exc).__name__)
