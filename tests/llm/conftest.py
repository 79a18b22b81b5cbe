"""Fixtures: the fake OpenAI-compatible server on 127.0.0.1 and model clients over it.

``clients`` runs each test that uses it twice: through LiteLLM and through the
lean OpenAI-compatible client (``openai_http``), which must behave alike. A
config the lean client cannot serve (no API base, LiteLLM ``options``) gets
LiteLLM in both.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from reasonflow.adapters.llm.chat_client import ChatClient, LLMConfig
from reasonflow.entrypoints.provider_choice import build_client
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


#: The ``LLM_CLIENT`` setting of each path: ``auto`` picks the lean client when it can.
PATHS = {"litellm": "litellm", "lean": "auto"}


class Clients:
    """Model clients made by a test on one path, closed when it ends."""

    def __init__(self, path: str = "litellm") -> None:
        self.path = path
        self.made: list[ChatClient] = []

    def __call__(self, config: LLMConfig) -> ChatClient:
        client = build_client(config, PATHS[self.path])
        self.made.append(client)
        return client


@pytest.fixture(params=list(PATHS))
def client_path(request: pytest.FixtureRequest) -> str:
    path: str = request.param
    return path


@pytest.fixture
async def clients(client_path: str) -> Any:
    made = Clients(client_path)
    yield made
    for client in made.made:
        await client.aclose()


@pytest.fixture
async def litellm_clients() -> Any:
    """LiteLLM only: for models and options the lean client never serves."""
    made = Clients("litellm")
    yield made
    for client in made.made:
        await client.aclose()
