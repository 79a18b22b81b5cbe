"""One log line per HTTP request, and its id echoed as ``X-Request-ID``.

Wraps the whole application (``Litestar.asgi_handler``), not one route's
middleware stack, so unmatched routes (404, 405) and errors raised before a
handler runs are logged too. The line holds the route *template*, never the
raw path or query (ids and filters stay out of logs), and nothing from the
request or response body.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("reasonflow.http")

HEADER = b"x-request-id"
#: An incoming id is kept when it is 1-128 of these characters; anything else
#: (too long, spaces, quotes, control characters) is replaced by a fresh id, so
#: a client cannot write arbitrary text into the log.
WELL_FORMED = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str | None:
    """The id the request log gave this request (set before the app runs)."""
    state: dict[str, Any] = scope.get("state", {})
    value = state.get("request_id")
    return value if isinstance(value, str) else None


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == HEADER:
            return value.decode("ascii") if WELL_FORMED.fullmatch(value) else None
    return None


class RequestLog:
    """ASGI wrapper: assigns the request id, adds the header, logs when the response ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        header = (HEADER, request_id.encode("ascii"))
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message = {**message, "headers": [*kept, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            user = scope.get("user")
            log.info(
                "request",
                extra={
                    "fields": {
                        "event": "http_request",
                        "request_id": request_id,
                        "method": scope.get("method"),
                        "route": scope.get("path_template") or None,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "user_id": None if user is None else str(user),
                    }
                },
            )
