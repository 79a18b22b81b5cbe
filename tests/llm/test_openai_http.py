"""The lean OpenAI-compatible client: chosen when it can serve, and alike LiteLLM when it does.

Everything else it must do (answers, faults and their reasons, retries and
``Retry-After``, limits) runs on both paths in ``test_litellm_adapter.py``
and the model-step contract.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from reasonflow.adapters.llm.chat_client import LLMConfig
from reasonflow.adapters.llm.litellm_client import LiteLLMClient
from reasonflow.adapters.llm.litellm_provider import LiteLLMClassifier, LiteLLMDrafter
from reasonflow.adapters.llm.litellm_runtime import load_litellm
from reasonflow.adapters.llm.openai_http import OpenAIHttpClient, SendTurns
from reasonflow.adapters.llm.prices import price_of
from reasonflow.domain.model import Intent
from reasonflow.entrypoints.provider_choice import build_provider
from tests.conftest import make_settings
from tests.fakes_llm import make_email
from tests.llm.conftest import Clients, llm_config
from tests.llm.fake_openai import FakeOpenAI
from tests.support import wait_for

PRICED = "openai/gpt-4o-mini"


def litellm_cost(model: str, prompt: int, completion: int, cached_tokens: int = 0) -> float:
    litellm = load_litellm()
    prompt_cost, completion_cost = litellm.cost_per_token(
        model=model, prompt_tokens=prompt, completion_tokens=completion,
        cache_read_input_tokens=cached_tokens,
    )  # fmt: skip
    return float(prompt_cost + completion_cost)


async def test_both_paths_send_the_same_request(fake_llm: FakeOpenAI) -> None:
    email = make_email("Pricing [[intent:complaint]]", "What does it cost?")
    results = []
    for path in ("litellm", "lean"):
        made = Clients(path)
        try:
            classifier = LiteLLMClassifier(made(llm_config(fake_llm)))
            drafter = LiteLLMDrafter(made(llm_config(fake_llm)))
            results.append(await classifier.classify(email))
            await drafter.draft(email, Intent.COMPLAINT, [])
        finally:
            for client in made.made:
                await client.aclose()

    assert results[0] == results[1]
    requests = fake_llm.stats.requests
    assert len(requests) == 4
    for via_litellm, lean in ((requests[0], requests[2]), (requests[1], requests[3])):
        assert lean == via_litellm
    authorizations = {h["authorization"] for h in fake_llm.stats.headers}
    assert len(authorizations) == 1


async def test_usage_and_cost_are_litellms(fake_llm: FakeOpenAI) -> None:
    email = make_email("Pricing question", "What does the annual plan cost for 40 seats?")
    usages = []
    for path in ("litellm", "lean"):
        made = Clients(path)
        try:
            classifier = LiteLLMClassifier(made(llm_config(fake_llm, model=PRICED)))
            usages.append((await classifier.classify(email)).usage)
        finally:
            for client in made.made:
                await client.aclose()

    via_litellm, lean = usages
    assert (lean.prompt_tokens, lean.completion_tokens) == (
        via_litellm.prompt_tokens,
        via_litellm.completion_tokens,
    )
    assert lean.prompt_tokens == fake_llm.stats.prompt_tokens // 2
    expected = litellm_cost(PRICED, lean.prompt_tokens, lean.completion_tokens)
    assert lean.cost_usd == pytest.approx(expected, rel=1e-9)
    assert via_litellm.cost_usd == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("model", [PRICED, "openai/gpt-4o", "openai/gpt-4.1-nano"])
def test_prices_follow_litellms_price_map(model: str) -> None:
    price = price_of(model)

    assert price is not None
    assert price.cost(12_345, 678) == pytest.approx(litellm_cost(model, 12_345, 678), rel=1e-9)
    assert price.cost(12_345, 678, cached_tokens=4_000) == pytest.approx(
        litellm_cost(model, 12_345, 678, cached_tokens=4_000), rel=1e-9
    )


def test_a_model_without_a_price_has_no_cost() -> None:
    assert price_of("openai/bench-model") is None


@pytest.mark.parametrize(
    ("model", "api_base", "choice", "lean"),
    [
        ("openai/llama3", "http://127.0.0.1:11434/v1", "auto", True),
        ("openai/gpt-4o-mini", "http://127.0.0.1:8001/v1", "litellm", False),
        ("openai/gpt-4o-mini", None, "auto", False),
        ("ollama/llama3", "http://127.0.0.1:11434", "auto", False),
    ],
)
async def test_the_lean_client_serves_openai_compatible_servers_only(
    tmp_path: Path, model: str, api_base: str | None, choice: str, lean: bool
) -> None:
    settings = make_settings(tmp_path, llm_model=model, llm_api_base=api_base, llm_client=choice)

    provider = build_provider(settings)
    await provider.start()
    try:
        expected = OpenAIHttpClient if lean else LiteLLMClient
        assert isinstance(provider.client, expected)
    finally:
        await provider.stop()


async def test_a_started_lean_client_closes_its_connections(fake_llm: FakeOpenAI) -> None:
    client = OpenAIHttpClient(llm_config(fake_llm))
    await client.start()
    await LiteLLMClassifier(client).classify(make_email("Hello"))

    await client.aclose()
    await client.aclose()  # idempotent

    assert client._http is None


def test_the_lean_client_needs_an_openai_compatible_server() -> None:
    with pytest.raises(ValueError, match="api_base"):
        OpenAIHttpClient(LLMConfig("openai/gpt-4o-mini"))


async def test_a_call_logs_nothing_at_info(
    fake_llm: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = OpenAIHttpClient(llm_config(fake_llm))
    try:
        await LiteLLMClassifier(client).classify(make_email("Hello"))
    finally:
        await client.aclose()

    assert [r.getMessage() for r in caplog.records] == []


# --- send turns: a wave's requests go out one at a time, in order ------------


async def test_requests_send_one_at_a_time_in_the_order_they_asked() -> None:
    turns = SendTurns(timeout=5)
    entered: list[str] = []
    ready = {name: asyncio.Event() for name in "abcd"}

    async def request(name: str) -> None:
        async with turns.turn() as trace:
            entered.append(name)
            await ready[name].wait()
            await trace("http11.send_request_headers.complete", {})  # not written yet
            await trace("http11.send_request_body.complete", {})
            await asyncio.Event().wait()  # waiting for the answer, the turn given up

    async def seen() -> list[str]:
        return list(entered)

    tasks = [asyncio.create_task(request(name)) for name in "abcd"]
    try:
        await wait_for(seen, lambda s: s == ["a"])
        ready["b"].set()  # b is ready, but it is a's turn
        await asyncio.sleep(0.05)  # a deliberate pause, to show nothing moves
        assert entered == ["a"]
        ready["a"].set()  # a is written: b goes, is written at once, then c's turn
        await wait_for(seen, lambda s: s == ["a", "b", "c"])
        tasks[2].cancel()  # a request that ends before it is written gives its turn up
        await wait_for(seen, lambda s: s == ["a", "b", "c", "d"])
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_request_that_never_sends_is_overtaken_after_the_turn_timeout() -> None:
    turns = SendTurns(timeout=0.05)
    stuck = asyncio.Event()

    async def never_sends() -> None:
        async with turns.turn():
            stuck.set()
            await asyncio.Event().wait()

    holder = asyncio.create_task(never_sends())
    try:
        await stuck.wait()
        started = time.monotonic()
        async with asyncio.timeout(5), turns.turn():
            waited = time.monotonic() - started
        assert 0.04 <= waited < 1.0
    finally:
        holder.cancel()
        await asyncio.gather(holder, return_exceptions=True)


async def test_a_wave_of_calls_all_get_their_turn_and_leave_none_held(
    fake_llm: FakeOpenAI,
) -> None:
    client = OpenAIHttpClient(llm_config(fake_llm, max_concurrency=16))
    classifier = LiteLLMClassifier(client)
    try:
        for _ in range(2):  # new connections, then kept-alive ones
            emails = [make_email(f"Question {n} [[intent:inquiry]]") for n in range(16)]
            results = await asyncio.gather(*(classifier.classify(e) for e in emails))
            assert [r.intent for r in results] == [Intent.INQUIRY] * 16
            assert not client._turns._lock.locked()
    finally:
        await client.aclose()
    assert len(fake_llm.stats.requests) == 32
