"""``SignInThrottle`` on Redis (``JOB_STORE=redis``): every API process counts
the same failures. Each pair and client is a sorted set of failure times
(scored in ms), trimmed to the window and expiring with it."""

from __future__ import annotations

import hashlib
import uuid

from redis.asyncio import Redis

from reasonflow.adapters.jobs.redis_errors import unavailable_when_down
from reasonflow.domain.accounts import SignInThrottle, SignInThrottled, ThrottleLimits
from reasonflow.domain.ports import Clock

#: KEYS: pair, client. ARGV: now_ms, window_ms, per_pair, per_client.
#: Answers the wait in ms (0 when allowed).
_CHECK = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local limits = {tonumber(ARGV[3]), tonumber(ARGV[4])}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limits[i] then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return math.max(1, tonumber(oldest[2]) + window - now)
  end
end
return 0
"""


class RedisSignInThrottle(SignInThrottle):
    def __init__(
        self,
        redis: Redis,
        clock: Clock,
        limits: ThrottleLimits | None = None,
        prefix: str = "reasonflow:",
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._limits = limits or ThrottleLimits()
        self._prefix = prefix
        self._check = redis.register_script(_CHECK)

    def _keys(self, account: str, client: str) -> tuple[str, str]:
        # Hashed: an address never appears in a key name.
        pair = hashlib.sha256(f"{account}\0{client}".encode()).hexdigest()[:32]
        peer = hashlib.sha256(client.encode()).hexdigest()[:32]
        return f"{self._prefix}signin:pair:{pair}", f"{self._prefix}signin:client:{peer}"

    def _now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    @unavailable_when_down
    async def check(self, account: str, client: str) -> None:
        limits = self._limits
        wait_ms = await self._check(
            keys=list(self._keys(account, client)),
            args=[
                self._now_ms(),
                int(limits.window_seconds * 1000),
                limits.per_pair,
                limits.per_client,
            ],
        )
        if int(wait_ms) > 0:
            raise SignInThrottled(int(wait_ms) / 1000)

    @unavailable_when_down
    async def failed(self, account: str, client: str) -> None:
        now = self._now_ms()
        ttl = int(self._limits.window_seconds * 1000) + 1000
        member = f"{now}:{uuid.uuid4().hex[:8]}"
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in self._keys(account, client):
                pipe.zadd(key, {member: now})
                pipe.pexpire(key, ttl)
            await pipe.execute()

    @unavailable_when_down
    async def succeeded(self, account: str, client: str) -> None:
        await self._redis.delete(self._keys(account, client)[0])
