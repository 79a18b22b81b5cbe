"""The ``LLM_RPM`` pacing contract, run unchanged against the in-process
``RequestPacer`` and the cluster's ``RedisPacer`` (a real server, a key prefix
per test). Time is a fake the test moves; sleeping records the wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import pytest

from reasonflow.adapters.llm.litellm_client import RequestPacer
from reasonflow.adapters.llm.redis_pacer import RedisPacer
from tests.redis_support import connect, delete_prefix, new_prefix

MODEL = "openai/gpt-4o-mini"


class Pacer(Protocol):
    async def wait(self) -> None: ...


class Time:
    """Seconds that stand still until the test moves them; ``sleep`` records each wait."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 6))


MakePacer = Callable[[int, Time], Pacer]


@pytest.fixture(params=["memory", "redis"])
async def make_pacer(request: pytest.FixtureRequest) -> AsyncIterator[MakePacer]:
    if request.param == "memory":
        yield lambda rpm, t: RequestPacer(rpm, clock=t, sleep=t.sleep)
        return
    client, prefix = await connect(), new_prefix()
    try:
        yield lambda rpm, t: RedisPacer(client, rpm, MODEL, prefix=prefix, now=t, sleep=t.sleep)
    finally:
        await delete_prefix(client, prefix)
        await client.aclose()


async def test_calls_at_the_same_moment_start_one_interval_apart(make_pacer: MakePacer) -> None:
    t = Time()
    pacer = make_pacer(120, t)  # 0.5 s apart
    for _ in range(4):
        await pacer.wait()
    assert t.waits == [0.5, 1.0, 1.5], "the first call goes at once, each next one later"


async def test_a_call_after_a_quiet_spell_goes_at_once(make_pacer: MakePacer) -> None:
    t = Time()
    pacer = make_pacer(60, t)
    await pacer.wait()
    await pacer.wait()
    assert t.waits == [1.0]
    t.now += 5
    await pacer.wait()
    assert t.waits == [1.0], "no wait once the reserved slots have passed"


async def test_concurrent_callers_each_get_their_own_slot(make_pacer: MakePacer) -> None:
    t = Time()
    pacer = make_pacer(600, t)  # 0.1 s apart
    await asyncio.gather(*(pacer.wait() for _ in range(5)))
    assert sorted(t.waits) == [0.1, 0.2, 0.3, 0.4]


async def test_workers_share_one_allowance() -> None:
    """Two pacers on one Redis (two worker processes) space their calls together."""
    client, prefix = await connect(), new_prefix()
    t = Time()
    try:
        first, second = (
            RedisPacer(client, 60, MODEL, prefix=prefix, now=t, sleep=t.sleep) for _ in range(2)
        )
        other_model = RedisPacer(client, 60, "ollama/llama3", prefix=prefix, now=t, sleep=t.sleep)
        await first.wait()
        await second.wait()
        await first.wait()
        await other_model.wait()
        assert t.waits == [1.0, 2.0], "one allowance per model, shared by every process"
    finally:
        await delete_prefix(client, prefix)
        await client.aclose()


async def test_the_slot_key_goes_once_its_slot_has_passed() -> None:
    client, prefix = await connect(), new_prefix()
    t = Time()
    try:
        pacer = RedisPacer(client, 60, MODEL, prefix=prefix, now=t, sleep=t.sleep)
        await pacer.wait()
        ttl = await client.pttl(f"{prefix}llm-pace:{MODEL}")
        assert 0 < ttl <= 2_000
    finally:
        await delete_prefix(client, prefix)
        await client.aclose()
