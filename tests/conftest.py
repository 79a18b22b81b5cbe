"""Fixtures: a real app over a real SQLite file (or Postgres), driven over HTTP."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from reasonflow.domain.ports import IntentClassifier
from reasonflow.entrypoints.http.app import create_app
from reasonflow.entrypoints.http.contract import complete
from reasonflow.entrypoints.settings import Settings
from tests.support import services_over

JWT_SECRET = "test-secret-" + "x" * 40


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    base = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'reasonflow.db'}",
        var_dir=str(tmp_path / "var"),
        jwt_secret=JWT_SECRET,
        shutdown_grace_seconds=1.0,
    )
    return msgspec.structs.replace(base, **overrides)


class Api:
    """A signed-in user's view of the API."""

    def __init__(self, client: AsyncTestClient[Any], token: str, user_id: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        self.user_id = user_id

    async def add_emails(self, count: int, subject: str = "Question about pricing") -> list[str]:
        ids = []
        for n in range(count):
            response = await self.client.post(
                "/api/v1/emails",
                json={
                    "subject": f"{subject} #{n}",
                    "body": "Hello, could you tell me more about your plans? Thanks.",
                    "sender": f"customer{n}@example.com",
                },
                headers=self.headers,
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        return ids

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.client.post(path, json=body, headers=self.headers)

    async def get(self, path: str) -> Any:
        return await self.client.get(path, headers=self.headers)

    async def job(self, job_id: str) -> dict[str, Any]:
        response = await self.get(f"/api/v1/emails/batch/status/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def finished_job(self, job_id: str, timeout: float = 10.0) -> dict[str, Any]:
        from tests.support import wait_for

        return await wait_for(
            lambda: self.job(job_id),
            lambda j: j["status"] in ("completed", "failed", "cancelled"),
            timeout,
        )


async def sign_in(client: AsyncTestClient[Any], address: str | None = None) -> Api:
    address = address or f"user-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery"
    response = await client.post(
        "/api/v1/auth/register", json={"email": address, "password": password}
    )
    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    response = await client.post(
        "/api/v1/auth/login", json={"email": address, "password": password}
    )
    assert response.status_code == 200, response.text
    return Api(client, response.json()["access_token"], user_id)


AppFactory = Callable[..., Awaitable[AsyncTestClient[Any]]]


def documented_only(app: Litestar) -> Callable[[httpx.Response], Awaitable[None]]:
    """A response hook failing the test on a status its route does not document.

    Every HTTP test then checks the OpenAPI contract too: whatever error it
    provokes (a throttle, a shutdown, a failed delivery) must be in the
    document. Paths outside the document (the UI, /schema) and methods a path
    does not have (405) are left to their own tests."""
    document = complete(app.openapi_schema.to_schema())
    routes = [
        (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "/?$"), method.upper(), op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]

    async def check(response: httpx.Response) -> None:
        request = response.request
        for pattern, method, operation in routes:
            if method == request.method and pattern.match(request.url.path):
                assert str(response.status_code) in operation["responses"], (
                    f"{request.method} {request.url.path} answered {response.status_code}, "
                    f"which {operation['operationId']} does not document"
                )
                return

    return check


@pytest.fixture
async def app_client(tmp_path: Path) -> AsyncIterator[AppFactory]:
    """Start the real app (real SQLite file) with optional settings and classifier."""
    clients: list[AsyncTestClient[Any]] = []

    async def start(
        classifier: IntentClassifier | None = None, **overrides: Any
    ) -> AsyncTestClient[Any]:
        settings = make_settings(tmp_path, **overrides)
        app = create_app(settings, services_over(settings, classifier))
        client: AsyncTestClient[Any] = AsyncTestClient(app)
        client.event_hooks["response"].append(documented_only(app))
        await client.__aenter__()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        await client.__aexit__(None, None, None)


@pytest.fixture
async def client(app_client: AppFactory) -> AsyncTestClient[Any]:
    return await app_client()


@pytest.fixture
async def alice(client: AsyncTestClient[Any]) -> Api:
    return await sign_in(client, "alice@example.com")


@pytest.fixture
async def bob(client: AsyncTestClient[Any]) -> Api:
    return await sign_in(client, "bob@example.com")
