"""``LLM_RPM`` shared by every worker of a cluster (DESIGN §7).

The in-process ``RequestPacer`` spaces one process's call starts ``60 / rpm``
seconds apart; with several workers each would use the whole allowance. This
pacer keeps the next free start time in Redis, one key per model, and a Lua
step reserves it: each caller gets the next slot and sleeps until it, so
waiting costs no polling and no Redis traffic. Time is the caller's wall
clock (``time.time``), the one clock processes on several machines share; the
key expires once its slot has passed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from reasonflow.adapters.jobs.redis_errors import unavailable_when_down

#: KEYS: the slot. ARGV: interval (s), now (s). Answers the wait (s) as a string.
_RESERVE = """
local interval, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local free = tonumber(redis.call('GET', KEYS[1])) or now
local start = math.max(now, free)
local function exact(x) return string.format('%.17g', x) end
redis.call('SET', KEYS[1], exact(start + interval), 'PX',
           math.ceil((start + interval - now) * 1000) + 1000)
return exact(start - now)
"""


class RedisPacer:
    """Spaces call starts ``60 / rpm`` seconds apart across every process sharing ``redis``."""

    def __init__(
        self,
        redis: Redis,
        rpm: int,
        model: str,
        *,
        prefix: str = "reasonflow:",
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rpm < 1:
            raise ValueError("rpm must be at least 1")
        self._interval = 60.0 / rpm
        self._key = f"{prefix}llm-pace:{model}"
        self._now = now
        self._sleep = sleep
        self._reserve = redis.register_script(_RESERVE)

    async def wait(self) -> None:
        delay = await self._reserved()
        if delay > 0:
            await self._sleep(delay)

    @unavailable_when_down
    async def _reserved(self) -> float:
        answer = await self._reserve(
            keys=[self._key], args=[repr(self._interval), repr(self._now())]
        )
        return float(answer)
