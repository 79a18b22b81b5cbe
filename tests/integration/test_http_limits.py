"""Oversized request bodies over a real socket: a 413 that says the limit, on
every JSON route of the OpenAPI document, and for mail imports; nothing changed."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.integration.live import live_server

TWO_MIB = 2 << 20


def _json_operations(schema: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), path))
    return found


def _concrete(path: str) -> str:
    """Any value for each path parameter: the body is refused before it is looked at."""
    parts = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            parts.append("cls_0123456789abcdef" if "job" in part else str(uuid.uuid4()))
        else:
            parts.append(part)
    return "/".join(parts)


async def test_a_json_body_over_the_limit_is_a_413_on_every_json_route(tmp_path: Path) -> None:
    async with live_server(tmp_path) as live:
        token = await live.sign_in("big@example.com")
        async with live.client(token) as client:
            schema = (await client.get("/schema/openapi.json")).json()
            operations = _json_operations(schema)
            assert ("POST", "/api/v1/emails") in operations
            assert ("POST", "/api/v1/emails/batch/classify") in operations
            padding = "x" * TWO_MIB
            for method, path in operations:
                response = await client.request(
                    method,
                    _concrete(path),
                    content=b'{"padding": "' + padding.encode() + b'"}',
                    headers={"content-type": "application/json"},
                )
                assert response.status_code == 413, (method, path, response.text[:200])
                assert response.json()["detail"] == (
                    "The request body is larger than the limit of 1 MiB"
                ), (method, path)
            inbox = (await client.get("/api/v1/emails")).json()
            assert inbox["items"] == [], "nothing was stored"


async def test_a_body_under_the_limit_is_read_as_usual(tmp_path: Path) -> None:
    async with live_server(tmp_path) as live:
        token = await live.sign_in("fine@example.com")
        async with live.client(token) as client:
            body = {"subject": "Hello", "body": "y" * 150_000, "sender": "a@example.com"}
            response = await client.post("/api/v1/emails", json=body)
            assert response.status_code == 201, response.text[:200]


async def test_an_upload_over_its_own_limit_is_a_413(tmp_path: Path) -> None:
    async with live_server(tmp_path, import_max_bytes=4096) as live:
        token = await live.sign_in("mbox@example.com")
        message = (
            b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n"
            b"Message-ID: <one@example.com>\r\n\r\nHello\r\n"
        )
        headers = {"content-type": "message/rfc822"}
        async with live.client(token) as client:
            big = await client.post(
                "/api/v1/emails/import", content=message + b"z" * 10_000, headers=headers
            )
            assert big.status_code == 413
            assert big.json()["detail"] == "The upload is larger than the limit of 4 KiB"

            async def chunks() -> Any:  # no Content-Length: counted while read
                yield message
                for _ in range(10):
                    yield b"z" * 1000

            streamed = await client.post("/api/v1/emails/import", content=chunks(), headers=headers)
            assert streamed.status_code == 413
            assert (await client.get("/api/v1/emails")).json()["items"] == []
            small = await client.post("/api/v1/emails/import", content=message, headers=headers)
            assert small.status_code == 200, small.text[:200]
