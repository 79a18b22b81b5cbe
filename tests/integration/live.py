"""A real uvicorn server in the test's own event loop, reached over loopback HTTP.

Streaming responses need a real socket (the ASGI test client buffers whole
bodies), and sharing the loop lets a test look at the server's tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from reasonflow.domain.ports import IntentClassifier
from reasonflow.entrypoints.bootstrap import Services
from reasonflow.entrypoints.http.app import create_app
from tests.conftest import make_settings
from tests.support import services_over


@dataclass
class Live:
    url: str
    services: Services

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10)

    async def sign_in(self, address: str) -> str:
        async with self.client() as client:
            creds = {"email": address, "password": "correct horse battery"}
            await client.post("/api/v1/auth/register", json=creds)
            response = await client.post("/api/v1/auth/login", json=creds)
            token: str = response.json()["access_token"]
            return token


@contextlib.asynccontextmanager
async def live_server(
    tmp_path: Path, classifier: IntentClassifier | None = None, **overrides: Any
) -> AsyncIterator[Live]:
    settings = make_settings(tmp_path, **overrides)
    services = services_over(settings, classifier)
    app = create_app(settings, services)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield Live(f"http://127.0.0.1:{port}", services)
    finally:
        server.should_exit = True
        await task
        sock.close()
