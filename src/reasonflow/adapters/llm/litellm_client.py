"""One structured-output call to any LiteLLM model, with our own limits and retries.

LiteLLM's retries are off (``num_retries=0``): this client retries failures
worth retrying (rate limits, timeouts, 5xx, lost connections) up to
``max_retries`` times, waiting what the provider asked (``Retry-After``) or an
exponential backoff with jitter, both capped. At most ``max_concurrency``
calls are in flight per process, and with ``rpm`` set, call starts are spaced
``60 / rpm`` seconds apart.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reasonflow.adapters.llm.litellm_errors import Failure, failure_of
from reasonflow.adapters.llm.litellm_runtime import import_aiohttp, load_litellm, warm_up
from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import Usage

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
#: A provider asking for a longer pause than this is not waited for: the email fails now.
RETRY_AFTER_CAP_SECONDS = 30.0

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class LLMConfig:
    model: str
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0
    max_retries: int = 2
    max_concurrency: int = 8
    rpm: int | None = None
    #: First backoff step; each retry doubles it, up to ``BACKOFF_CAP_SECONDS``.
    backoff_seconds: float = BACKOFF_BASE_SECONDS
    #: Passed through to ``litellm.acompletion`` (tests use ``mock_response``).
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class Completion:
    content: str | None
    usage: Usage


class RequestPacer:
    """Spaces call starts ``60 / rpm`` seconds apart. Each caller reserves the next
    start time and sleeps until it, so waiting costs no polling."""

    def __init__(
        self, rpm: int, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._interval = 60.0 / rpm
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    async def wait(self) -> None:
        now = self._clock()
        start = max(now, self._next)
        self._next = start + self._interval
        if start > now:
            await self._sleep(start - now)


class UnknownModel(ValueError):
    """LiteLLM knows no provider for the configured model string."""


class LiteLLMClient:
    """Building one costs nothing: LiteLLM is imported and warmed up by ``start``
    (or by the first call, for a client nobody started)."""

    def __init__(self, config: LLMConfig, sleep: Sleep = asyncio.sleep) -> None:
        self._config = config
        self._litellm: Any = None
        self._sleep = sleep
        self._slots = asyncio.Semaphore(config.max_concurrency)
        self._pacer = RequestPacer(config.rpm, sleep=sleep) if config.rpm else None
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
        self, messages: Sequence[Mapping[str, str]], response_format: Mapping[str, Any]
    ) -> Completion:
        """Ask once, retrying what is worth retrying; raises ``ProviderError``."""
        self._loaded()
        attempt = 0
        while True:
            try:
                async with self._slots:
                    if self._pacer is not None:
                        await self._pacer.wait()
                    response = await self._call(messages, response_format)
            except Exception as exc:
                failure = failure_of(exc, self._litellm)
                delay = self._delay(failure, attempt)
                self._log_failure(failure, exc, attempt, delay)
                if delay is None:
                    raise ProviderError(failure.reason, fatal=failure.fatal) from None
                # Outside the slot: a call waiting to retry leaves room for others.
                await self._sleep(delay)
                attempt += 1
                continue
            return Completion(_content(response), self._usage(response))

    async def aclose(self) -> None:
        """Close the HTTP session this client gave LiteLLM (idempotent)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def _call(
        self, messages: Sequence[Mapping[str, str]], response_format: Mapping[str, Any]
    ) -> Any:
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
        if config.api_base:
            kwargs["api_base"] = config.api_base
        if config.api_key:
            kwargs["api_key"] = config.api_key
        # A guard in case a provider path ignores ``timeout``: a slot is never held forever.
        guard = config.timeout_seconds * 1.5 + 1.0
        return await asyncio.wait_for(self._litellm.acompletion(**kwargs), guard)

    def _http_session(self) -> Any:
        """One aiohttp session per event loop, owned here so ``aclose`` can close it."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            aiohttp = import_aiohttp()
            connector = aiohttp.TCPConnector(limit=self._config.max_concurrency)
            self._session = aiohttp.ClientSession(connector=connector)
            self._session_loop = loop
        return self._session

    def _delay(self, failure: Failure, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if not failure.retryable or attempt >= self._config.max_retries:
            return None
        if failure.retry_after is not None:
            if failure.retry_after > RETRY_AFTER_CAP_SECONDS:
                return None
            # A little jitter so callers told the same pause do not return in lockstep.
            return failure.retry_after + random.uniform(0, 0.1)
        ceiling = min(BACKOFF_CAP_SECONDS, self._config.backoff_seconds * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _log_failure(
        self, failure: Failure, exc: Exception, attempt: int, delay: float | None
    ) -> None:
        # The type and our own phrase only: provider text can echo prompts or keys.
        outcome = f"retrying in {delay:.2f}s" if delay is not None else "giving up"
        log.warning(
            "llm call failed model=%s attempt=%d reason=%s error=%s; %s",
            self._config.model,
            attempt + 1,
            failure.reason,
            type(exc).__name__,
            outcome,
        )

    def _usage(self, response: Any) -> Usage:
        usage = getattr(response, "usage", None)
        prompt = _count(getattr(usage, "prompt_tokens", 0))
        completion = _count(getattr(usage, "completion_tokens", 0))
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


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
