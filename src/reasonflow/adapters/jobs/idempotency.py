"""In-memory idempotency keys (one process; DESIGN §5)."""

from __future__ import annotations

import heapq
from datetime import UTC, datetime, timedelta
from uuid import UUID

from reasonflow.domain.ports import Clock, IdempotencyStore


class InMemoryIdempotencyStore(IdempotencyStore):
    """Keys live ``ttl`` (24 h) after first use; expiry pops a heap, like the job store."""

    def __init__(self, clock: Clock, ttl: timedelta = timedelta(hours=24)) -> None:
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[tuple[UUID, str], tuple[str, str]] = {}
        self._expiry: list[tuple[datetime, UUID, str]] = []

    async def lookup(self, user_id: UUID, key: str) -> tuple[str, str] | None:
        self._sweep()
        return self._entries.get((user_id, key))

    async def remember(self, user_id: UUID, key: str, fingerprint: str, job_id: str) -> None:
        self._sweep()
        if (user_id, key) in self._entries:
            return
        self._entries[(user_id, key)] = (fingerprint, job_id)
        expires = self._clock.now().astimezone(UTC) + self._ttl
        heapq.heappush(self._expiry, (expires, user_id, key))

    def _sweep(self) -> None:
        now = self._clock.now()
        while self._expiry and self._expiry[0][0] <= now:
            _, user_id, key = heapq.heappop(self._expiry)
            self._entries.pop((user_id, key), None)
