"""``RateLimiter`` on Redis: the per-user submission allowance shared by every
API process (DESIGN §7), the same token bucket as ``TokenBucketRateLimiter``.

The bucket is taken and refilled in one Lua step. Time comes from the
caller's wall clock (``time.time`` by default), the one clock processes on
several machines share; a bucket full again expires, so idle users cost nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

from redis.asyncio import Redis

from reasonflow.adapters.jobs.redis_errors import unavailable_when_down
from reasonflow.domain.ports import RateLimiter

#: ARGV: capacity, rate (tokens/s), now (s), rounding. Answers the wait (s) as a string.
_ACQUIRE = """
local capacity, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'since')
local tokens, since = tonumber(state[1]) or capacity, tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - since) * rate)
local wait = 0
if tokens < 1 - tonumber(ARGV[4]) then
  wait = (1 - tokens) / rate
else
  tokens = math.max(0, tokens - 1)
end
local function exact(x) return string.format('%.17g', x) end
redis.call('HSET', KEYS[1], 'tokens', exact(tokens), 'since', exact(now))
-- Gone once it would be full again: a missing bucket reads as full.
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return exact(wait)
"""

#: Same tolerance as the in-memory bucket: float rounding, never a real allowance.
_ROUNDING = 1e-6


class RedisRateLimiter(RateLimiter):
    def __init__(
        self,
        redis: Redis,
        per_minute: int,
        now: Callable[[], float] = time.time,
        prefix: str = "reasonflow:",
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._redis = redis
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._now = now
        self._prefix = prefix
        self._acquire = redis.register_script(_ACQUIRE)

    @unavailable_when_down
    async def acquire(self, user_id: UUID) -> float:
        wait = await self._acquire(
            keys=[f"{self._prefix}rate:{user_id}"],
            args=[repr(self._capacity), repr(self._rate), repr(self._now()), repr(_ROUNDING)],
        )
        return float(wait)
