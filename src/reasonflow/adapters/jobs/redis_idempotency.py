"""``IdempotencyStore`` on Redis: one key per user and ``Idempotency-Key``,
shared by every API process (DESIGN §7).

The key expires after ``ttl`` (24 h); the entry also carries its expiry on
this store's clock, so an entry past it is treated as gone (and may be taken
again) even before Redis drops the key.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import cast
from uuid import UUID

from redis.asyncio import Redis

from reasonflow.adapters.jobs.redis_errors import unavailable_when_down
from reasonflow.domain.ports import Clock, IdempotencyStore

#: ARGV: entry JSON, now (epoch s), ttl (ms). Keeps a live entry: the first one wins.
_REMEMBER = """
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw).expires_at > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
"""


class RedisIdempotencyStore(IdempotencyStore):
    def __init__(
        self,
        redis: Redis,
        clock: Clock,
        ttl: timedelta = timedelta(hours=24),
        prefix: str = "reasonflow:",
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._ttl = ttl
        self._prefix = prefix
        self._remember = redis.register_script(_REMEMBER)

    def _key(self, user_id: UUID, key: str) -> str:
        return f"{self._prefix}idem:{user_id}:{key}"

    @unavailable_when_down
    async def lookup(self, user_id: UUID, key: str) -> tuple[str, str] | None:
        raw = cast(str | None, await self._redis.get(self._key(user_id, key)))
        if raw is None:
            return None
        entry = json.loads(raw)
        if entry["expires_at"] <= self._now():
            return None
        return entry["fingerprint"], entry["job_id"]

    @unavailable_when_down
    async def remember(self, user_id: UUID, key: str, fingerprint: str, job_id: str) -> None:
        now = self._now()
        ttl = self._ttl.total_seconds()
        entry = {"fingerprint": fingerprint, "job_id": job_id, "expires_at": now + ttl}
        await self._remember(
            keys=[self._key(user_id, key)],
            args=[json.dumps(entry), repr(now), int(ttl * 1000)],
        )

    def _now(self) -> float:
        return self._clock.now().astimezone(UTC).timestamp()
