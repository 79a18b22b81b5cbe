"""What every model client shares: the configuration, the limits and the retries.

A client makes one structured-output chat call (``_attempt``) and says what a
failure means (``_failure``); ``ChatClient.complete`` wraps that in our own
limits and retries. Retries in the provider library are off: this retries the
failures worth retrying (rate limits, timeouts, 5xx, lost connections) up to
``max_retries`` times, waiting what the provider asked (``Retry-After``) or an
exponential backoff with jitter, both capped. At most ``max_concurrency``
calls are in flight per process, and with ``rpm`` set, call starts are spaced
``60 / rpm`` seconds apart.

Two clients implement it: ``LiteLLMClient`` (any provider LiteLLM knows) and
``OpenAIHttpClient`` (a lean path for OpenAI-compatible servers, on httpx).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reasonflow.adapters.llm.litellm_errors import Failure
from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import Usage

log = logging.getLogger("reasonflow.adapters.llm.litellm_client")

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
#: A provider asking for a longer pause than this is not waited for: the email fails now.
RETRY_AFTER_CAP_SECONDS = 30.0

#: How much the latest answered call moves the observed latency (a moving average).
LATENCY_WEIGHT = 0.2

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


class Pacer(Protocol):
    """Spaces call starts (``LLM_RPM``): ``RequestPacer`` for one process, or one
    shared by a cluster (``redis_pacer.RedisPacer``)."""

    async def wait(self) -> None: ...


class UnknownModel(ValueError):
    """No provider is known for the configured model string."""


class ChatClient(ABC):
    """One structured-output call to a model, with our own limits and retries."""

    def __init__(
        self, config: LLMConfig, sleep: Sleep = asyncio.sleep, pacer: Pacer | None = None
    ) -> None:
        """``pacer``: how ``config.rpm`` is kept (default: within this process)."""
        self._config = config
        self._sleep = sleep
        self._slots = asyncio.Semaphore(config.max_concurrency)
        if pacer is None and config.rpm:
            pacer = RequestPacer(config.rpm, sleep=sleep)
        self._pacer = pacer
        self._latency: float | None = None

    @property
    def config(self) -> LLMConfig:
        return self._config

    @abstractmethod
    async def start(self) -> None:
        """Load what a call needs; raises ``UnknownModel`` for a model nobody serves."""

    @abstractmethod
    async def aclose(self) -> None:
        """Close the client's connections (idempotent)."""

    @abstractmethod
    async def _attempt(
        self,
        messages: Sequence[Mapping[str, str]],
        response_format: Mapping[str, Any],
        max_tokens: int | None = None,
    ) -> Completion:
        """One call, no retry; raises whatever the transport raises. ``max_tokens``
        (when given) bounds the answer and is sent as the request's ``max_tokens``."""

    @abstractmethod
    def _failure(self, exc: Exception) -> Failure:
        """What a failed attempt means for the user and for the next attempt."""

    def observed_seconds(self) -> float | None:
        """How long an answered call has taken lately (a moving average), or None
        before any: what an estimate's ``seconds`` is built on."""
        return self._latency

    async def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        response_format: Mapping[str, Any],
        max_tokens: int | None = None,
    ) -> Completion:
        """Ask once, retrying what is worth retrying; raises ``ProviderError``."""
        attempt = 0
        while True:
            async with self._slots:
                if self._pacer is not None:
                    # Not the provider's failure if a shared pacer is away (503).
                    await self._pacer.wait()
                started = time.monotonic()
                try:
                    completion = await self._attempt(messages, response_format, max_tokens)
                except Exception as exc:
                    error = exc
                else:
                    self._observe(time.monotonic() - started)
                    return completion
            failure = self._failure(error)
            delay = self._delay(failure, attempt)
            self._log_failure(failure, error, attempt, delay)
            if delay is None:
                raise ProviderError(failure.reason, fatal=failure.fatal) from None
            # Outside the slot: a call waiting to retry leaves room for others.
            await self._sleep(delay)
            attempt += 1

    def _observe(self, seconds: float) -> None:
        previous = self._latency
        self._latency = (
            seconds if previous is None else previous + LATENCY_WEIGHT * (seconds - previous)
        )

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


def count(value: object) -> int:
    """A token count as the provider reported it; anything else is 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
