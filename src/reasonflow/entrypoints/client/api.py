"""The HTTP API as Python calls: one method per route the commands use."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from reasonflow import __version__
from reasonflow.entrypoints.client.errors import (
    ApiError,
    NetworkError,
    NotLoggedIn,
    ServerUnreachable,
)
from reasonflow.entrypoints.client.sse import parse_events

Json = dict[str, Any]
BATCH = "/api/v1/emails/batch"
TIMEOUT = httpx.Timeout(30.0)
#: The server sends a heartbeat every 15 s; four missed ones mean the stream is dead.
STREAM_TIMEOUT = httpx.Timeout(30.0, read=60.0)
#: Parsing a large mailbox takes the server a while.
UPLOAD_TIMEOUT = httpx.Timeout(30.0, read=600.0)
CHUNK = 1 << 20


class ApiClient:
    """A signed-in (or anonymous, for login) session with one server."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": f"reasonflow-cli/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url
        self._http = httpx.AsyncClient(
            base_url=url, headers=headers, timeout=TIMEOUT, transport=transport
        )

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def login(self, email: str, password: str) -> Json:
        return await self._json(
            "POST", "/api/v1/auth/login", json_body={"email": email, "password": password}
        )

    async def emails(self, status: str | None, cursor: str | None, limit: int = 100) -> Json:
        params: dict[str, str | int] = {"limit": limit}
        if status:
            params["status"] = status
        if cursor:
            params["cursor"] = cursor
        return await self._json("GET", "/api/v1/emails", params=params)

    async def email(self, email_id: str) -> Json:
        return await self._json("GET", f"/api/v1/emails/{email_id}")

    async def submit(
        self,
        kind: str,
        email_ids: list[str],
        force: bool,
        key: str,
        max_cost_usd: float | None = None,
    ) -> Json:
        body = _batch_body(kind, email_ids, force)
        if max_cost_usd is not None:
            body["max_cost_usd"] = max_cost_usd
        headers = {"Idempotency-Key": key}
        return await self._json("POST", f"{BATCH}/{kind}", json_body=body, headers=headers)

    async def estimate(self, kind: str, email_ids: list[str], force: bool) -> Json:
        """What the job of this batch would spend; the server starts nothing."""
        body = _batch_body(kind, email_ids, force)
        return await self._json("POST", f"{BATCH}/{kind}/estimate", json_body=body)

    async def status(self, job_id: str) -> Json:
        return await self._json("GET", f"{BATCH}/status/{job_id}")

    async def jobs(self, limit: int, cursor: str | None) -> Json:
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return await self._json("GET", f"{BATCH}/jobs", params=params)

    async def cancel(self, job_id: str) -> Json:
        return await self._json("POST", f"{BATCH}/{job_id}/cancel")

    async def retry(self, job_id: str) -> Json:
        return await self._json("POST", f"{BATCH}/{job_id}/retry")

    async def import_file(self, path: Path, content_type: str) -> Json:
        size = (await asyncio.to_thread(path.stat)).st_size
        headers = {"Content-Type": content_type, "Content-Length": str(size)}
        return await self._json(
            "POST",
            "/api/v1/emails/import",
            content=_chunks(path),
            headers=headers,
            timeouts=UPLOAD_TIMEOUT,
        )

    async def stream(self, job_id: str) -> AsyncGenerator[Json, None]:
        """Each ``progress`` event's status body, until the server closes the stream."""
        path = f"{BATCH}/status/{job_id}/stream"
        request = self._http.build_request(
            "GET", path, headers={"Accept": "text/event-stream"}, timeout=STREAM_TIMEOUT
        )
        response = await self._send(request, stream=True)
        try:
            await _raise_for_status(response)
            async for event in parse_events(self._lines(response)):
                if event.event == "progress":
                    body: Json = json.loads(event.data)
                    yield body
        finally:
            await response.aclose()

    async def _lines(self, response: httpx.Response) -> AsyncIterator[str]:
        try:
            async for line in response.aiter_lines():
                yield line
        except httpx.TransportError as exc:
            raise NetworkError(self.url, type(exc).__name__) from None

    async def _json(
        self,
        method: str,
        path: str,
        *,
        json_body: Json | None = None,
        content: AsyncIterable[bytes] | None = None,
        params: dict[str, str | int] | None = None,
        headers: dict[str, str] | None = None,
        timeouts: httpx.Timeout = TIMEOUT,
    ) -> Json:
        request = self._http.build_request(
            method,
            path,
            json=json_body,
            content=content,
            params=params,
            headers=headers,
            timeout=timeouts,
        )
        response = await self._send(request)
        await _raise_for_status(response)
        try:
            body: Json = response.json()
        except ValueError:
            raise ApiError(
                response.status_code, "the server answered with something not JSON"
            ) from None
        return body

    async def _send(self, request: httpx.Request, stream: bool = False) -> httpx.Response:
        try:
            return await self._http.send(request, stream=stream)
        except httpx.ConnectError:
            raise ServerUnreachable(self.url) from None
        except httpx.TransportError as exc:
            raise NetworkError(self.url, type(exc).__name__) from None


def _batch_body(kind: str, email_ids: list[str], force: bool) -> Json:
    body: Json = {"email_ids": email_ids}
    if force and kind == "classify":
        body["force"] = True
    return body


async def _raise_for_status(response: httpx.Response) -> None:
    if response.is_success:
        return
    await response.aread()
    detail, extra = response.reason_phrase or "error", None
    try:
        body = response.json()
        if isinstance(body, dict):
            detail, extra = str(body.get("detail", detail)), body.get("extra")
    except ValueError:
        pass
    if response.status_code == 401 and response.request.url.path != "/api/v1/auth/login":
        raise NotLoggedIn("the server did not accept your token (signed out or expired)")
    retry_after = _seconds(response.headers.get("Retry-After"))
    raise ApiError(response.status_code, detail, extra, retry_after)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    file = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk
    finally:
        file.close()
