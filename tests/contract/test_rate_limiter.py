"""The ``RateLimiter`` contract, run unchanged against every adapter of the port.

Covers ``TokenBucketRateLimiter`` and ``RedisRateLimiter`` (a real server, a
key prefix per test). Time is a ``FakeTime`` the tests move, so a "minute"
takes no time; each adapter takes the same ``now`` function.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasonflow.adapters.jobs.rate_limit import TokenBucketRateLimiter
from reasonflow.adapters.jobs.redis_rate_limit import RedisRateLimiter
from reasonflow.domain.ports import RateLimiter
from tests.redis_support import connect, delete_prefix, new_prefix

#: ``(per_minute, now) -> limiter``: a fresh limiter reading the given monotonic time.
MakeLimiter = Callable[[int, Callable[[], float]], RateLimiter]


class FakeTime:
    """A monotonic clock (seconds) that stands still until a test moves it."""

    def __init__(self, start: float = 10_000.0) -> None:
        # Not 0: a real monotonic clock is well past it, and the arithmetic differs.
        self.current = start

    def __call__(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


@pytest.fixture(params=["token-bucket", "redis"])
async def make_limiter(request: pytest.FixtureRequest) -> AsyncIterator[MakeLimiter]:
    if request.param == "token-bucket":
        yield lambda per_minute, now: TokenBucketRateLimiter(per_minute, now)
        return
    # One client and key prefix for the test; every limiter built is a fresh
    # view of the shared buckets, and each test uses fresh users.
    client, prefix = await connect(), new_prefix()
    try:
        yield lambda per_minute, now: RedisRateLimiter(client, per_minute, now, prefix=prefix)
    finally:
        await delete_prefix(client, prefix)
        await client.aclose()


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


async def use_up(limiter: RateLimiter, user: uuid.UUID, times: int) -> list[float]:
    return [await limiter.acquire(user) for _ in range(times)]


@pytest.mark.parametrize("per_minute", [1, 6, 60])
async def test_a_burst_of_per_minute_is_allowed_then_the_next_must_wait(
    make_limiter: MakeLimiter, time: FakeTime, per_minute: int
) -> None:
    limiter, user = make_limiter(per_minute, time), uuid.uuid4()

    assert await use_up(limiter, user, per_minute) == [0.0] * per_minute
    assert await limiter.acquire(user) == pytest.approx(60 / per_minute)


async def test_after_the_advertised_wait_exactly_one_more_is_allowed(
    make_limiter: MakeLimiter, time: FakeTime
) -> None:
    limiter, user = make_limiter(6, time), uuid.uuid4()
    await use_up(limiter, user, 6)
    wait = await limiter.acquire(user)

    time.advance(wait)

    assert await limiter.acquire(user) == 0.0
    assert await limiter.acquire(user) == pytest.approx(10.0)


async def test_the_wait_shrinks_as_time_passes(make_limiter: MakeLimiter, time: FakeTime) -> None:
    limiter, user = make_limiter(6, time), uuid.uuid4()
    await use_up(limiter, user, 6)
    assert await limiter.acquire(user) == pytest.approx(10.0)

    time.advance(4.0)

    assert await limiter.acquire(user) == pytest.approx(6.0)


async def test_users_have_separate_allowances(make_limiter: MakeLimiter, time: FakeTime) -> None:
    limiter, alice, bob = make_limiter(3, time), uuid.uuid4(), uuid.uuid4()
    await use_up(limiter, alice, 3)

    assert await use_up(limiter, bob, 3) == [0.0, 0.0, 0.0]
    assert await limiter.acquire(alice) == pytest.approx(20.0)
    assert await limiter.acquire(bob) == pytest.approx(20.0)


async def test_a_refused_attempt_does_not_use_up_allowance(
    make_limiter: MakeLimiter, time: FakeTime
) -> None:
    limiter, user = make_limiter(6, time), uuid.uuid4()
    await use_up(limiter, user, 6)
    wait = await limiter.acquire(user)

    # Hammering while refused neither succeeds nor pushes the next slot back.
    retries = await use_up(limiter, user, 5)
    assert retries == pytest.approx([wait] * 5)

    time.advance(wait)
    assert await limiter.acquire(user) == 0.0


async def test_an_idle_spell_refills_one_burst_and_no_more(
    make_limiter: MakeLimiter, time: FakeTime
) -> None:
    limiter, user = make_limiter(4, time), uuid.uuid4()
    await use_up(limiter, user, 4)

    time.advance(3600.0)

    assert await use_up(limiter, user, 4) == [0.0] * 4
    assert await limiter.acquire(user) == pytest.approx(15.0)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    per_minute=st.integers(min_value=1, max_value=600),
    start=st.floats(min_value=0.0, max_value=1e7, allow_nan=False),
)
async def test_waiting_the_advertised_time_is_always_enough(
    make_limiter: MakeLimiter, per_minute: int, start: float
) -> None:
    # The seconds a caller is told to wait, whatever the rate and the clock reading.
    time = FakeTime(start)
    limiter, user = make_limiter(per_minute, time), uuid.uuid4()
    await use_up(limiter, user, per_minute)
    wait = await limiter.acquire(user)
    assert wait > 0

    time.advance(wait)

    assert await limiter.acquire(user) == 0.0


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    per_minute=st.integers(min_value=1, max_value=120),
    gaps=st.lists(st.floats(min_value=0.0, max_value=30.0), min_size=1, max_size=200),
)
async def test_never_more_than_one_burst_plus_the_rate(
    make_limiter: MakeLimiter, per_minute: int, gaps: list[float]
) -> None:
    time = FakeTime()
    limiter, user = make_limiter(per_minute, time), uuid.uuid4()
    allowed = 0
    for gap in gaps:
        time.advance(gap)
        allowed += await limiter.acquire(user) == 0.0

    assert allowed <= per_minute + sum(gaps) * per_minute / 60
