"""Fixtures: the fake OpenAI-compatible server on 127.0.0.1 and LiteLLM clients over it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from reasonflow.adapters.llm.litellm_client import LiteLLMClient, LLMConfig
from tests.llm.fake_openai import FakeOpenAI

API_KEY = "sk-test-9f3c1d7e5b2a4c68-do-not-leak"
MODEL = "openai/fake-model"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def llm_config(fake: FakeOpenAI, **overrides: Any) -> LLMConfig:
    values: dict[str, Any] = {
        "model": MODEL,
        "api_base": fake.url,
        "api_key": API_KEY,
        "timeout_seconds": 5.0,
        "max_retries": 2,
        "max_concurrency": 8,
        "backoff_seconds": 0.01,
    }
    values.update(overrides)
    return LLMConfig(**values)


def llm_settings(fake: FakeOpenAI, **overrides: Any) -> dict[str, Any]:
    """Settings overrides that point the real app at the fake server."""
    values: dict[str, Any] = {
        "llm_model": MODEL,
        "llm_api_base": fake.url,
        "llm_api_key": API_KEY,
        "llm_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return values


class Clients:
    """LiteLLM clients made by a test, closed when it ends."""

    def __init__(self) -> None:
        self.made: list[LiteLLMClient] = []

    def __call__(self, config: LLMConfig) -> LiteLLMClient:
        client = LiteLLMClient(config)
        self.made.append(client)
        return client


@pytest.fixture
async def clients() -> Any:
    made = Clients()
    yield made
    for client in made.made:
        await client.aclose()
