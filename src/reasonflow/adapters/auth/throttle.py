"""``SignInThrottle`` in one process's memory (``JOB_STORE=memory``)."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

from reasonflow.domain.accounts import SignInThrottle, SignInThrottled, ThrottleLimits
from reasonflow.domain.ports import Clock


class MemorySignInThrottle(SignInThrottle):
    def __init__(self, clock: Clock, limits: ThrottleLimits | None = None) -> None:
        self._clock = clock
        self._limits = limits or ThrottleLimits()
        self._pairs: dict[tuple[str, str], deque[datetime]] = {}
        self._clients: dict[str, deque[datetime]] = {}

    def _live(self, table: dict[Any, deque[datetime]], key: object, now: datetime) -> int:
        failures = table.get(key)
        if failures is None:
            return 0
        horizon = now - timedelta(seconds=self._limits.window_seconds)
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del table[key]  # idle pairs and clients cost nothing
            return 0
        return len(failures)

    def _wait(self, failures: deque[datetime], now: datetime) -> float:
        return self._limits.window_seconds - (now - failures[0]).total_seconds()

    async def check(self, account: str, client: str) -> None:
        now = self._clock.now()
        if self._live(self._pairs, (account, client), now) >= self._limits.per_pair:
            raise SignInThrottled(self._wait(self._pairs[(account, client)], now))
        if self._live(self._clients, client, now) >= self._limits.per_client:
            raise SignInThrottled(self._wait(self._clients[client], now))

    async def failed(self, account: str, client: str) -> None:
        now = self._clock.now()
        self._pairs.setdefault((account, client), deque()).append(now)
        self._clients.setdefault(client, deque()).append(now)

    async def succeeded(self, account: str, client: str) -> None:
        self._pairs.pop((account, client), None)
