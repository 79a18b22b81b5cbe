"""In-memory idempotency keys and per-user submission rate limits (one process)."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from reasonflow.domain.ports import Clock, IdempotencyStore, RateLimiter


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


class TokenBucketRateLimiter(RateLimiter):
    """``per_minute`` submissions a minute per user, with bursts up to ``per_minute``.

    A full bucket holds ``per_minute`` tokens and refills continuously, so a
    user who waits is never punished for an earlier burst. Buckets that are
    full again are dropped, keeping memory proportional to active users.
    """

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._now = now
        self._buckets: dict[UUID, tuple[float, float]] = {}

    async def acquire(self, user_id: UUID) -> float:
        now = self._now()
        tokens, since = self._buckets.get(user_id, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - since) * self._rate)
        if tokens < 1.0:
            self._buckets[user_id] = (tokens, now)
            return (1.0 - tokens) / self._rate
        self._buckets[user_id] = (tokens - 1.0, now)
        if len(self._buckets) > 10_000:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        full = [
            user
            for user, (tokens, since) in self._buckets.items()
            if tokens + (now - since) * self._rate >= self._capacity
        ]
        for user in full:
            del self._buckets[user]
