"""An OpenAI-compatible chat-completions server for the LLM tests and the benchmark.

A bare ASGI app served by uvicorn on 127.0.0.1, either in a background thread
(``FakeOpenAI().start()``, for tests that read its record directly) or as a
process (``python -m tests.llm.fake_openai --port N --latency 0.5``, whose
record is at ``GET /_stats`` and ``POST /_reset`` clears it).

Faults are chosen per request by markers in the prompt, so a test puts them in
an email's subject: ``[[fault:429]]`` fails every attempt with that fault,
``[[fault:429x1]]`` only the first attempt of that exact prompt. Faults:
``429`` (with ``Retry-After``), ``500``, ``503``, ``401``, ``400``, ``timeout``
(never answers), ``malformed`` (200 with a body that is not JSON) and
``invalid`` (a well-formed completion whose content is not the asked-for JSON).
``fail_all`` applies one fault to every request. ``[[intent:x]]`` and
``[[confidence:x]]`` set the classification's answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_FAULT = re.compile(r"\[\[fault:(\w+?)(?:x(\d+))?\]\]")
_INTENT = re.compile(r"\[\[intent:([\w-]+)\]\]")
_CONFIDENCE = re.compile(r"\[\[confidence:([-\d.]+)\]\]")
_ERRORS = {
    "429": (429, "rate_limit_exceeded", "Rate limit reached for requests"),
    "500": (500, "server_error", "The server had an error while processing your request"),
    "503": (503, "server_error", "The engine is currently overloaded"),
    "401": (401, "invalid_api_key", "Incorrect API key provided"),
    "400": (400, "invalid_request_error", "Invalid schema for response_format"),
}


@dataclass
class Stats:
    """What the server saw. Mutated on the server's loop, read from any thread."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    started_at: list[float] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: Counter[str] = field(default_factory=Counter)
    first_arrival_epoch: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": len(self.requests),
            "max_in_flight": self.max_in_flight,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            # When each request arrived, in seconds after the first.
            "arrivals": [round(t - self.started_at[0], 4) for t in self.started_at],
            "first_arrival_epoch": self.first_arrival_epoch,
        }


class FakeOpenAI:
    def __init__(
        self,
        latency: float = 0.0,
        retry_after: str | None = "0",
        fail_all: str | None = None,
        echo_prompt: bool = False,
        litellm_tokens: bool = False,
        spend_max_tokens: bool = False,
    ) -> None:
        self.latency = latency
        #: Report LiteLLM's ``token_counter`` of the request as its usage, as a
        #: provider with that tokenizer would (default: a cheap length-based guess).
        self.litellm_tokens = litellm_tokens
        #: Report every answer as using all of the request's ``max_tokens``: the
        #: most a verbose model could charge (the bound an estimate assumes).
        self.spend_max_tokens = spend_max_tokens
        #: Error bodies quote the whole prompt, as some providers do.
        self.echo_prompt = echo_prompt
        self.retry_after = retry_after
        self.fail_all = fail_all
        self.stats = Stats()
        self._release: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- running ---------------------------------------------------------------

    def config(self, sock: socket.socket) -> uvicorn.Config:
        host, port = sock.getsockname()
        self.url = f"http://{host}:{port}/v1"
        return uvicorn.Config(
            self,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )

    def start(self) -> FakeOpenAI:
        sock = _tcp_socket()
        sock.bind(("127.0.0.1", 0))
        self._server = uvicorn.Server(self.config(sock))
        server = self._server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            if self._loop is not None and self._release is not None:
                # Requests held by the ``timeout`` fault answer now, so shutdown is quick.
                self._loop.call_soon_threadsafe(self._release.set)
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- the ASGI app ----------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if self._release is None:
            self._loop, self._release = asyncio.get_running_loop(), asyncio.Event()
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/_stats":
            await _respond(send, 200, json.dumps(self.stats.as_json()).encode())
        elif scope["path"] == "/_reset" and scope["method"] == "POST":
            self.stats = Stats()
            await _respond(send, 200, b"{}")
        elif scope["method"] == "POST" and scope["path"].endswith("/chat/completions"):
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            await self._completion(json.loads(body), headers, send)
        else:
            await _respond(send, 404, b'{"error": {"message": "not found"}}')

    async def _completion(
        self, request: dict[str, Any], headers: dict[str, str], send: Send
    ) -> None:
        stats = self.stats
        stats.requests.append(request)
        stats.headers.append(headers)
        stats.started_at.append(time.monotonic())
        if stats.first_arrival_epoch is None:
            stats.first_arrival_epoch = time.time()
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            await self._answer(request, headers, send)
        finally:
            stats.in_flight -= 1

    async def _answer(self, request: dict[str, Any], headers: dict[str, str], send: Send) -> None:
        prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", []))
        fault = self._fault(prompt)
        if fault == "timeout":
            assert self._release is not None
            await self._release.wait()
            await _respond(send, 504, b'{"error": {"message": "held until shutdown"}}')
            return
        if fault == "malformed":
            await _respond(send, 200, b'{"id": "chatcmpl-1", "choices": [')
            return
        if fault in _ERRORS:
            status, code, text = _ERRORS[fault]
            extra = {"retry-after": self.retry_after} if fault == "429" and self.retry_after else {}
            if fault == "401":
                # Like some providers, echo the key: it must never reach a user or a log.
                text += f": {headers.get('authorization', '')}"
            if self.echo_prompt:
                text += f" (prompt was: {prompt})"
            error = {"error": {"message": text, "type": code, "code": code}}
            await _respond(send, status, json.dumps(error).encode(), extra)
            return
        content = "I think this is about pricing." if fault == "invalid" else _content(request)
        usage = self._usage(request, prompt, content)
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        self.stats.prompt_tokens += usage["prompt_tokens"]
        self.stats.completion_tokens += usage["completion_tokens"]
        completion = {
            "id": f"chatcmpl-{len(self.stats.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
        }
        await _respond(send, 200, json.dumps(completion).encode())

    def _usage(self, request: dict[str, Any], prompt: str, content: str) -> dict[str, int]:
        usage = {"prompt_tokens": 10 + len(prompt) // 4, "completion_tokens": 5 + len(content) // 4}
        if self.litellm_tokens:
            from reasonflow.adapters.llm.litellm_runtime import load_litellm

            litellm = load_litellm()
            model = str(request.get("model", ""))
            usage["prompt_tokens"] = int(
                litellm.token_counter(model=model, messages=request["messages"])
            )
            usage["completion_tokens"] = int(litellm.token_counter(model=model, text=content))
        if self.spend_max_tokens and isinstance(request.get("max_tokens"), int):
            usage["completion_tokens"] = request["max_tokens"]
        return usage

    def _fault(self, prompt: str) -> str | None:
        if self.fail_all:
            return self.fail_all
        match = _FAULT.search(prompt)
        if match is None:
            return None
        self.stats.attempts[prompt] += 1
        limit = match.group(2)
        if limit is not None and self.stats.attempts[prompt] > int(limit):
            return None
        return match.group(1)


def _content(request: dict[str, Any]) -> str:
    schema = request.get("response_format", {}).get("json_schema", {})
    prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", []))
    if schema.get("name") == "reply_draft":
        earlier = prompt.count("<earlier_email")
        text = f"Thank you for your email. (I read {earlier} earlier emails.)"
        return json.dumps({"draft": text, "confidence": 0.9})
    intent = _INTENT.search(prompt)
    confidence = _CONFIDENCE.search(prompt)
    return json.dumps(
        {
            "intent": intent.group(1) if intent else "inquiry",
            "confidence": float(confidence.group(1)) if confidence else 0.9,
            "reasoning": "The sender asks a question.",
        }
    )


async def _respond(
    send: Send, status: int, body: bytes, headers: dict[str, str] | None = None
) -> None:
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _tcp_socket() -> socket.socket:
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets
    # that say they are TCP, and without it every answer waits ~40 ms for an ACK.
    return socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    sock = _tcp_socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    fake = FakeOpenAI(latency=args.latency)
    asyncio.run(uvicorn.Server(fake.config(sock)).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
