"""The lean path: structured-output calls to an OpenAI-compatible server over httpx.

Used for ``openai/<model>`` with ``LLM_API_BASE`` set (vLLM, Ollama's OpenAI
API, LM Studio, a gateway), unless ``LLM_CLIENT=litellm``; every other model
goes through LiteLLM. It sends what LiteLLM sends for such a model (``model``
without its ``openai/`` prefix, ``messages``, ``response_format``) to
``<api_base>/chat/completions`` and reads the same answer, for about a fifth of
LiteLLM's CPU per call (``docs/benchmarks.md``, per-email CPU): no request and
response models, no logging objects, no cost calculation beyond two
multiplications.

One pooled ``httpx.AsyncClient`` per process (``max_concurrency`` connections,
kept alive), opened by ``start`` and closed by ``aclose``. Limits, retries and
``Retry-After`` are ``ChatClient``'s; HTTP statuses map to the same reasons as
LiteLLM's exceptions (``litellm_errors.failure_of_status``); tokens come from
the answer's ``usage`` and ``cost_usd`` from LiteLLM's price map (``prices``).

Requests get their bytes out one at a time, in the order they asked
(``SendTurns``): a wave of calls started together would otherwise interleave
on the event loop, each request's few steps (pool, headers, body) between the
others', so that none left before all of them were nearly ready, and their
answers came back in one clump. In turn, the first leaves after its own work
only and the answers come back spread out, so a job given the next free slot
(DESIGN §4) gets its call out without waiting behind a wave (row 3 of
``docs/benchmarks.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx
import msgspec

from reasonflow.adapters.llm.chat_client import (
    ChatClient,
    Completion,
    LLMConfig,
    Pacer,
    Sleep,
    count,
)
from reasonflow.adapters.llm.litellm_errors import (
    INVALID_ANSWER,
    TIMED_OUT,
    UNAVAILABLE,
    UNEXPECTED,
    Failure,
    failure_of_status,
)
from reasonflow.adapters.llm.litellm_runtime import quiet_http_logs
from reasonflow.adapters.llm.prices import Price, price_of
from reasonflow.domain.model import Usage

PREFIX = "openai/"
USER_AGENT = "reasonflow"
#: How long a request waits for its turn to send before it goes anyway: far
#: above the CPU a request needs to get out (~0.1-1 ms), so only a request
#: stuck on something else (none is known) is ever overtaken.
SEND_TURN_TIMEOUT = 0.05
#: httpcore trace events after which a request no longer needs its turn: its
#: body is written, or it waits on the network for a new connection.
_SENT = frozenset(
    {
        "http11.send_request_body.complete",
        "http2.send_request_body.complete",
        "connection.connect_tcp.started",
        "connection.connect_unix_socket.started",
    }
)

Trace = Callable[[str, dict[str, Any]], Awaitable[None]]


def serves(model: str, api_base: str | None) -> bool:
    """Whether the lean path can serve this model: an OpenAI-compatible server we were given."""
    return model.startswith(PREFIX) and len(model) > len(PREFIX) and bool(api_base)


class HTTPStatusFailure(Exception):
    """A non-2xx answer. Carries the status and headers (``Retry-After``), never the body."""

    def __init__(self, status_code: int, headers: Mapping[str, str]) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.litellm_response_headers = dict(headers)


class UnreadableAnswer(Exception):
    """A 2xx answer that is not a JSON object."""


class SendTurns:
    """Requests send one at a time, first come first served (``asyncio.Lock`` wakes
    its waiters in order); a turn ends once the request is written (httpcore's
    ``trace`` extension) or when the request ends, whichever is first."""

    def __init__(self, timeout: float = SEND_TURN_TIMEOUT) -> None:
        self._lock = asyncio.Lock()
        self._timeout = timeout

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[Trace]:
        """Wait for the turn (at most ``timeout``); yields the request's trace callback."""
        held = True
        if self._lock.locked():
            try:
                async with asyncio.timeout(self._timeout):
                    await self._lock.acquire()
            except TimeoutError:
                held = False
        else:
            await self._lock.acquire()  # free: returns at once, without yielding

        async def trace(event: str, info: dict[str, Any]) -> None:
            nonlocal held
            if held and event in _SENT:
                held = False
                self._lock.release()

        try:
            yield trace
        finally:
            if held:
                self._lock.release()


class OpenAIHttpClient(ChatClient):
    """Building one costs nothing; ``start`` opens the pool and reads the model's price
    (a client nobody started does both on its first call)."""

    def __init__(
        self, config: LLMConfig, sleep: Sleep = asyncio.sleep, pacer: Pacer | None = None
    ) -> None:
        if not serves(config.model, config.api_base):
            raise ValueError("the lean client needs an openai/<model> and an api_base")
        super().__init__(config, sleep, pacer)
        quiet_http_logs()
        assert config.api_base is not None
        self._url = config.api_base.rstrip("/") + "/chat/completions"
        self._model = config.model.removeprefix(PREFIX)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        headers["User-Agent"] = USER_AGENT
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        self._headers = headers
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._turns = SendTurns()
        self._price: Price | None = None
        self._priced = False
        self._encoder = msgspec.json.Encoder()
        # A guard in case a read trickles forever: a slot is never held past it.
        self._guard = config.timeout_seconds * 1.5 + 1.0

    async def start(self) -> None:
        self._client()
        self._load_price()

    async def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        response_format: Mapping[str, Any],
        max_tokens: int | None = None,
    ) -> Completion:
        # Set up before the limits and the pacer, for a client nobody started.
        self._client()
        self._load_price()
        return await super().complete(messages, response_format, max_tokens)

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None and not http.is_closed:
            await http.aclose()

    def _load_price(self) -> Price | None:
        if not self._priced:
            self._price = price_of(self._config.model)
            self._priced = True
        return self._price

    def _client(self) -> httpx.AsyncClient:
        """The pool, one per event loop (tests run several loops in one process)."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._http.is_closed or self._http_loop is not loop:
            size = self._config.max_concurrency
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self._config.timeout_seconds),
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                headers=self._headers,
            )
            self._http_loop = loop
            self._turns = SendTurns()  # its lock belongs to this loop too
        return self._http

    async def _attempt(
        self,
        messages: Sequence[Mapping[str, str]],
        response_format: Mapping[str, Any],
        max_tokens: int | None = None,
    ) -> Completion:
        request: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "response_format": response_format,
        }
        if max_tokens is not None:
            request["max_tokens"] = max_tokens
        body = self._encoder.encode(request)
        http = self._client()
        async with asyncio.timeout(self._guard), self._turns.turn() as trace:
            response = await http.post(self._url, content=body, extensions={"trace": trace})
        if not 200 <= response.status_code < 300:
            raise HTTPStatusFailure(response.status_code, response.headers)
        try:
            answer = msgspec.json.decode(response.content)
        except msgspec.DecodeError:
            raise UnreadableAnswer() from None
        if not isinstance(answer, dict):
            raise UnreadableAnswer()
        return Completion(_content(answer), self._usage(answer.get("usage")))

    def _usage(self, usage: object) -> Usage:
        if not isinstance(usage, dict):
            usage = {}
        prompt = count(usage.get("prompt_tokens"))
        completion = count(usage.get("completion_tokens"))
        price = self._load_price()
        if price is None:
            return Usage(prompt, completion, None)
        details = usage.get("prompt_tokens_details")
        cached = count(details.get("cached_tokens")) if isinstance(details, dict) else 0
        return price.usage(prompt, completion, cached)

    def _failure(self, exc: Exception) -> Failure:
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            return Failure(TIMED_OUT, retryable=True)
        if isinstance(exc, HTTPStatusFailure):
            return failure_of_status(exc)
        if isinstance(exc, UnreadableAnswer):
            return Failure(INVALID_ANSWER)
        if isinstance(exc, httpx.TransportError):
            # Refused, reset or cut off: the server is not there (yet), as LiteLLM says.
            return Failure(UNAVAILABLE, retryable=True)
        return Failure(UNEXPECTED)


def _content(answer: dict[str, Any]) -> str | None:
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None
