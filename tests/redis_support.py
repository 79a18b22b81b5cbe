"""A real Redis for tests (DESIGN §9): every run uses its own key prefix and
deletes its keys afterwards. A server that cannot be reached is an error,
never a skip. ``REASONFLOW_TEST_REDIS`` overrides the server URL.
"""

from __future__ import annotations

import os
import secrets

from redis.asyncio import Redis
from redis.exceptions import RedisError

DEFAULT_SERVER = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    return os.environ.get("REASONFLOW_TEST_REDIS", DEFAULT_SERVER)


def new_prefix() -> str:
    """A key prefix no other run or test shares."""
    return f"rf_test_{secrets.token_hex(6)}:"


async def connect() -> Redis:
    """A client that has answered a PING; the caller closes it (``aclose``)."""
    client = Redis.from_url(redis_url(), decode_responses=True)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        await client.aclose()
        raise RuntimeError(
            f"Redis is not reachable at {redis_url()} ({exc!r}); "
            "start it (make test does) or set REASONFLOW_TEST_REDIS"
        ) from exc
    return client


async def delete_prefix(client: Redis, prefix: str) -> int:
    """Delete every key under ``prefix`` (which must be a test prefix)."""
    if not prefix.startswith("rf_test_"):
        raise ValueError(f"refusing to delete {prefix!r}: not a test prefix")
    deleted = 0
    async for key in client.scan_iter(match=f"{prefix}*", count=500):
        deleted += await client.delete(key)
    return deleted
