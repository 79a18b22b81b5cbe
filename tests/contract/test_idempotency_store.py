"""The ``IdempotencyStore`` contract, run unchanged against every adapter of the port.

Covers ``InMemoryIdempotencyStore`` and ``RedisIdempotencyStore`` (a real
server, a key prefix per test), on a ``FakeClock`` the tests move.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from reasonflow.adapters.jobs.idempotency import InMemoryIdempotencyStore
from reasonflow.adapters.jobs.redis_idempotency import RedisIdempotencyStore
from reasonflow.domain.ports import IdempotencyStore
from tests.fakes import FakeClock
from tests.redis_support import connect, delete_prefix, new_prefix

#: How long a key is remembered when the adapter is built with its defaults.
TTL = timedelta(hours=24).total_seconds()


@dataclass(frozen=True)
class StoreCase:
    store: IdempotencyStore
    clock: FakeClock


@pytest.fixture(params=["memory", "redis"])
async def case(request: pytest.FixtureRequest) -> AsyncIterator[StoreCase]:
    clock = FakeClock()
    if request.param == "memory":
        yield StoreCase(InMemoryIdempotencyStore(clock), clock)
        return
    client, prefix = await connect(), new_prefix()
    try:
        yield StoreCase(RedisIdempotencyStore(client, clock, prefix=prefix), clock)
    finally:
        await delete_prefix(client, prefix)
        await client.aclose()


async def test_an_unknown_key_is_not_found(case: StoreCase) -> None:
    assert await case.store.lookup(uuid.uuid4(), "never-used") is None


async def test_a_remembered_key_gives_back_its_fingerprint_and_job(case: StoreCase) -> None:
    user = uuid.uuid4()

    await case.store.remember(user, "key-1", "fp-a", "job-1")
    await case.store.remember(user, "key-2", "fp-b", "job-2")

    assert await case.store.lookup(user, "key-1") == ("fp-a", "job-1")
    assert await case.store.lookup(user, "key-2") == ("fp-b", "job-2")


async def test_the_first_remember_wins(case: StoreCase) -> None:
    user = uuid.uuid4()
    await case.store.remember(user, "key-1", "fp-a", "job-1")

    await case.store.remember(user, "key-1", "fp-b", "job-2")

    assert await case.store.lookup(user, "key-1") == ("fp-a", "job-1")


async def test_keys_belong_to_one_user(case: StoreCase) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    await case.store.remember(alice, "key-1", "fp-a", "job-1")

    assert await case.store.lookup(bob, "key-1") is None
    await case.store.remember(bob, "key-1", "fp-b", "job-2")
    assert await case.store.lookup(alice, "key-1") == ("fp-a", "job-1")
    assert await case.store.lookup(bob, "key-1") == ("fp-b", "job-2")


async def test_a_key_is_kept_for_the_whole_ttl_and_forgotten_after(case: StoreCase) -> None:
    user = uuid.uuid4()
    await case.store.remember(user, "key-1", "fp-a", "job-1")

    case.clock.advance(TTL - 1)
    assert await case.store.lookup(user, "key-1") == ("fp-a", "job-1")

    case.clock.advance(2)
    assert await case.store.lookup(user, "key-1") is None


async def test_remembering_again_does_not_extend_the_ttl(case: StoreCase) -> None:
    user = uuid.uuid4()
    await case.store.remember(user, "key-1", "fp-a", "job-1")
    case.clock.advance(TTL / 2)

    await case.store.remember(user, "key-1", "fp-b", "job-2")
    case.clock.advance(TTL / 2 + 1)

    assert await case.store.lookup(user, "key-1") is None


async def test_an_expired_key_can_be_used_again(case: StoreCase) -> None:
    user = uuid.uuid4()
    await case.store.remember(user, "key-1", "fp-a", "job-1")
    case.clock.advance(TTL + 1)

    await case.store.remember(user, "key-1", "fp-b", "job-2")

    assert await case.store.lookup(user, "key-1") == ("fp-b", "job-2")
    case.clock.advance(TTL - 1)
    assert await case.store.lookup(user, "key-1") == ("fp-b", "job-2")


async def test_each_key_expires_on_its_own_schedule(case: StoreCase) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    await case.store.remember(alice, "key-1", "fp-a", "job-1")
    case.clock.advance(3600)
    await case.store.remember(bob, "key-1", "fp-b", "job-2")

    case.clock.advance(TTL - 3600 + 1)

    assert await case.store.lookup(alice, "key-1") is None
    assert await case.store.lookup(bob, "key-1") == ("fp-b", "job-2")
