"""One structured-output call to any LiteLLM model, with our own limits and retries.

LiteLLM's retries are off (``num_retries=0``); the limits and retries are
``ChatClient``'s. The names the rest of the code imports from here
(``LLMConfig``, ``RequestPacer``, ``UnknownModel``) live in ``chat_client``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from reasonflow.adapters.llm.chat_client import (
    ChatClient,
    Completion,
    LLMConfig,
    Pacer,
    RequestPacer,
    Sleep,
    UnknownModel,
    count,
)
from reasonflow.adapters.llm.litellm_errors import Failure, failure_of
from reasonflow.adapters.llm.litellm_runtime import import_aiohttp, load_litellm, warm_up
from reasonflow.domain.model import Usage

__all__ = ["Completion", "LLMConfig", "LiteLLMClient", "RequestPacer", "UnknownModel"]


class LiteLLMClient(ChatClient):
    """Building one costs nothing: LiteLLM is imported and warmed up by ``start``
    (or by the first call, for a client nobody started)."""

    def __init__(
        self, config: LLMConfig, sleep: Sleep = asyncio.sleep, pacer: Pacer | None = None
    ) -> None:
        super().__init__(config, sleep, pacer)
        self._litellm: Any = None
        self._session: Any = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Import LiteLLM, check the model string and load what a call to it needs.

        Raises ``UnknownModel`` when LiteLLM has no provider for the model.
        """
        litellm = self._loaded()
        try:
            litellm.get_llm_provider(self._config.model)
        except Exception:
            raise UnknownModel(
                f"LiteLLM knows no provider for {self._config.model!r}; "
                "use a model string such as openai/gpt-4o-mini or ollama/llama3"
            ) from None

    def _loaded(self) -> Any:
        if self._litellm is None:
            self._litellm = load_litellm()
            warm_up(self._config.model)
        return self._litellm

    async def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        response_format: Mapping[str, Any],
        max_tokens: int | None = None,
    ) -> Completion:
        self._loaded()
        return await super().complete(messages, response_format, max_tokens)

    async def aclose(self) -> None:
        """Close the HTTP session this client gave LiteLLM (idempotent)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _failure(self, exc: Exception) -> Failure:
        return failure_of(exc, self._litellm)

    async def _attempt(
        self,
        messages: Sequence[Mapping[str, str]],
        response_format: Mapping[str, Any],
        max_tokens: int | None = None,
    ) -> Completion:
        config = self._config
        kwargs: dict[str, Any] = {
            "model": config.model,
            "messages": [dict(m) for m in messages],
            "response_format": dict(response_format),
            "timeout": config.timeout_seconds,
            "num_retries": 0,
            "shared_session": self._http_session(),
            **config.options,
        }
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if config.api_base:
            kwargs["api_base"] = config.api_base
        if config.api_key:
            kwargs["api_key"] = config.api_key
        # A guard in case a provider path ignores ``timeout``: a slot is never held forever.
        guard = config.timeout_seconds * 1.5 + 1.0
        response = await asyncio.wait_for(self._litellm.acompletion(**kwargs), guard)
        return Completion(_content(response), self._usage(response))

    def _http_session(self) -> Any:
        """One aiohttp session per event loop, owned here so ``aclose`` can close it."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            aiohttp = import_aiohttp()
            connector = aiohttp.TCPConnector(limit=self._config.max_concurrency)
            self._session = aiohttp.ClientSession(connector=connector)
            self._session_loop = loop
        return self._session

    def _usage(self, response: Any) -> Usage:
        usage = getattr(response, "usage", None)
        prompt = count(getattr(usage, "prompt_tokens", 0))
        completion = count(getattr(usage, "completion_tokens", 0))
        return Usage(prompt, completion, self._cost(response))

    def _cost(self, response: Any) -> float | None:
        """USD from LiteLLM's cost table; None when the model has no known price.

        LiteLLM prices each response as it builds it (``_hidden_params``), so the
        table is consulted again only when that is missing.
        """
        hidden = getattr(response, "_hidden_params", None)
        if isinstance(hidden, dict) and "response_cost" in hidden:
            cost = hidden["response_cost"]
        else:
            try:
                cost = self._litellm.completion_cost(completion_response=response)
            except Exception:
                return None
        if isinstance(cost, bool) or not isinstance(cost, int | float):
            return None
        return float(cost) if cost >= 0 else None


def _content(response: Any) -> str | None:
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None
