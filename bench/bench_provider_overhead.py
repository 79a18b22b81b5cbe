"""Row 7: provider overhead. Our LiteLLM adapter's CPU per call against a raw HTTP client.

The fake OpenAI-compatible provider runs as its own process on 127.0.0.1
(no latency), so its CPU is not counted. In this process, each client makes
``--calls`` classification calls to it, first one at a time and then 16 at a
time, and ``time.process_time()`` (every thread of the process) is divided
by the number of calls:

* **ours**: ``LiteLLMClassifier.classify`` (prompt, LiteLLM ``acompletion``
  with our session, limits and retry wrapper, answer validation, usage and
  cost), exactly as the server calls it with ``LLM_CLIENT=litellm``, once
  for a model LiteLLM has no price for (``openai/bench-model``, as rows 1-3
  use) and once for a priced one (``openai/gpt-4o-mini``; the fake answers
  whatever the name);
* **lean**: the same classifier over ``OpenAIHttpClient``, the httpx client
  the server uses by default for ``openai/...`` with an API base;
* **httpx**: ``httpx.AsyncClient.post`` of the same request body, then
  ``response.json()``;
* **aiohttp**: the same with ``aiohttp.ClientSession``, the transport our
  adapter hands LiteLLM.

Target: reported (no threshold).

    .venv/bin/python -m bench.bench_provider_overhead
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx
from bench.support import Load, machine, save, scratch, spread, start_fake_llm

from reasonflow.adapters.llm.litellm_answers import CLASSIFICATION_FORMAT
from reasonflow.adapters.llm.litellm_client import LiteLLMClient, LLMConfig
from reasonflow.adapters.llm.litellm_prompts import classification_messages
from reasonflow.adapters.llm.litellm_provider import LiteLLMClassifier
from reasonflow.adapters.llm.openai_http import OpenAIHttpClient
from reasonflow.domain.model import Email

Call = Callable[[], Awaitable[object]]
MODELS = ("openai/bench-model", "openai/gpt-4o-mini")
KEY = "sk-bench"


def sample_email() -> Email:
    now = datetime.now(UTC)
    return Email(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        subject="Pricing question",
        body="Hello, could you tell me what the premium plan costs for a team of 12?",
        sender="Ada Lovelace <ada@example.com>",
        recipient="support@example.com",
        received_at=now,
        updated_at=now,
    )


async def cpu_per_call(call: Call, calls: int, parallel: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per call, ``parallel`` calls in flight at a time."""
    for _ in range(20):  # connections, lazy imports, caches
        await call()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls // parallel):
        await asyncio.gather(*(call() for _ in range(parallel)))
    done = calls // parallel * parallel
    return (
        (time.process_time() - cpu) / done * 1000,
        (time.perf_counter() - wall) / done * 1000,
    )


async def measure(base: str, calls: int, parallel: int) -> dict[str, tuple[float, float]]:
    email = sample_email()
    body = {
        "model": "bench-model",
        "messages": classification_messages(email),
        "response_format": CLASSIFICATION_FORMAT,
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    endpoint = f"{base}/v1/chat/completions"
    results: dict[str, tuple[float, float]] = {}

    for model in MODELS:
        config = LLMConfig(model=model, api_base=f"{base}/v1", api_key=KEY, max_concurrency=16)
        classifier = LiteLLMClassifier(LiteLLMClient(config))
        try:
            results[f"ours ({model.split('/')[1]})"] = await cpu_per_call(
                lambda classifier=classifier: classifier.classify(email), calls, parallel
            )
        finally:
            await classifier.aclose()
        lean = LiteLLMClassifier(OpenAIHttpClient(config))
        try:
            results[f"lean ({model.split('/')[1]})"] = await cpu_per_call(
                lambda classifier=lean: classifier.classify(email), calls, parallel
            )
        finally:
            await lean.aclose()

    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:

        async def raw_httpx() -> Any:
            response = await http.post(endpoint, json=body, headers=headers)
            response.raise_for_status()
            return response.json()

        results["httpx"] = await cpu_per_call(raw_httpx, calls, parallel)

    connector = aiohttp.TCPConnector(limit=16)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def raw_aiohttp() -> Any:
            async with session.post(endpoint, json=body, headers=headers) as response:
                response.raise_for_status()
                return await response.json()

        results["aiohttp"] = await cpu_per_call(raw_aiohttp, calls, parallel)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    load = Load()
    figures: dict[str, dict[str, list[float]]] = {}
    with scratch("bench-provider-") as work:
        fake, url = start_fake_llm(work, 0.0)
        try:
            for run in range(1, args.runs + 1):
                for parallel in (1, 16):
                    results = asyncio.run(measure(url, args.calls, parallel))
                    for name, (cpu, wall) in results.items():
                        key = f"{name}, {parallel} at a time"
                        figures.setdefault(key, {"cpu_ms": [], "wall_ms": []})
                        figures[key]["cpu_ms"].append(cpu)
                        figures[key]["wall_ms"].append(wall)
                        print(f"run {run}: {key}: {cpu:.2f} ms CPU, {wall:.2f} ms wall per call")
        finally:
            fake.stop()
    ran = load.finish()

    print("\nrow 7: CPU per call in this process (median of runs, spread):")
    summary = {}
    for key, series in figures.items():
        cpu, wall = spread(series["cpu_ms"]), spread(series["wall_ms"])
        summary[key] = {"cpu_ms": cpu, "wall_ms": wall}
        print(
            f"  {key:<34} {cpu['median']:6.2f} ms CPU ({cpu['min']:.2f}-{cpu['max']:.2f}), "
            f"{wall['median']:6.2f} ms wall"
        )
    for parallel in (1, 16):
        raw = summary[f"httpx, {parallel} at a time"]["cpu_ms"]["median"]
        for model in MODELS:
            name = model.split("/")[1]
            for client in ("ours", "lean"):
                ours = summary[f"{client} ({name}), {parallel} at a time"]["cpu_ms"]["median"]
                print(
                    f"  {parallel} at a time, {name}: {client} costs {ours / raw:.1f} x "
                    "a raw httpx call's CPU"
                )
    print(f"load while it ran: {ran}")
    save("row7_provider_overhead", {"machine": machine(), "load": ran, "args": vars(args),
                                    "per_call": summary})  # fmt: skip


if __name__ == "__main__":
    main()
