"""The ``SignInThrottle`` contract, over the in-memory adapter and Redis (a real
server, a key prefix per test). Time is a ``FakeClock`` the tests move."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from reasonflow.adapters.auth.redis_throttle import RedisSignInThrottle
from reasonflow.adapters.auth.throttle import MemorySignInThrottle
from reasonflow.domain.accounts import SignInThrottle, SignInThrottled, ThrottleLimits
from tests.fakes import FakeClock
from tests.redis_support import connect, delete_prefix, new_prefix

LIMITS = ThrottleLimits(per_pair=3, per_client=5, window_seconds=60)
MakeThrottle = Callable[[FakeClock], SignInThrottle]


@pytest.fixture(params=["memory", "redis"])
async def make_throttle(request: pytest.FixtureRequest) -> AsyncIterator[MakeThrottle]:
    if request.param == "memory":
        yield lambda clock: MemorySignInThrottle(clock, LIMITS)
        return
    client, prefix = await connect(), new_prefix()
    try:
        yield lambda clock: RedisSignInThrottle(client, clock, LIMITS, prefix=prefix)
    finally:
        await delete_prefix(client, prefix)
        await client.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def fail(throttle: SignInThrottle, account: str, client: str, times: int) -> None:
    for _ in range(times):
        await throttle.check(account, client)
        await throttle.failed(account, client)


async def test_a_pair_at_its_limit_is_refused_until_the_window_passes(
    make_throttle: MakeThrottle, clock: FakeClock
) -> None:
    throttle = make_throttle(clock)
    await fail(throttle, "ada@example.com", "203.0.113.7", 3)

    with pytest.raises(SignInThrottled) as refused:
        await throttle.check("ada@example.com", "203.0.113.7")
    assert refused.value.retry_after == 60

    clock.advance(45)
    with pytest.raises(SignInThrottled) as refused:
        await throttle.check("ada@example.com", "203.0.113.7")
    assert refused.value.retry_after == 15

    clock.advance(15)
    await throttle.check("ada@example.com", "203.0.113.7")


async def test_another_address_and_another_account_are_not_held_back(
    make_throttle: MakeThrottle, clock: FakeClock
) -> None:
    throttle = make_throttle(clock)
    await fail(throttle, "ada@example.com", "203.0.113.7", 3)

    await throttle.check("ada@example.com", "198.51.100.9")
    await throttle.check("bob@example.com", "203.0.113.7")


async def test_a_client_at_its_overall_limit_is_refused_for_every_account(
    make_throttle: MakeThrottle, clock: FakeClock
) -> None:
    throttle = make_throttle(clock)
    await fail(throttle, "ada@example.com", "203.0.113.7", 2)
    await fail(throttle, "bob@example.com", "203.0.113.7", 2)
    await fail(throttle, "cy@example.com", "203.0.113.7", 1)

    with pytest.raises(SignInThrottled):
        await throttle.check("dee@example.com", "203.0.113.7")
    await throttle.check("dee@example.com", "198.51.100.9")


async def test_a_success_clears_the_pairs_failures(
    make_throttle: MakeThrottle, clock: FakeClock
) -> None:
    throttle = make_throttle(clock)
    await fail(throttle, "ada@example.com", "203.0.113.7", 2)
    await throttle.succeeded("ada@example.com", "203.0.113.7")

    await fail(throttle, "ada@example.com", "203.0.113.7", 2)
    await throttle.check("ada@example.com", "203.0.113.7")
