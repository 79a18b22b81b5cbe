"""In-memory per-user submission rate limit (one process; DESIGN §5)."""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

from reasonflow.domain.ports import RateLimiter

#: A millionth of a token: rounding of large monotonic readings, never a real allowance.
_ROUNDING = 1e-6


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
        # A caller who waited exactly the advertised time gets its turn, whatever
        # the float rounding of the refill (it can fall short of 1 by ~1e-9).
        if tokens < 1.0 - _ROUNDING:
            self._buckets[user_id] = (tokens, now)
            return (1.0 - tokens) / self._rate
        self._buckets[user_id] = (max(0.0, tokens - 1.0), now)
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
