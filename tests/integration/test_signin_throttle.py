"""Sign-in throttling over HTTP: per (account, client address) and per address."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from reasonflow.domain.ports import PasswordHasher
from reasonflow.entrypoints.bootstrap import build_adapters, wire
from reasonflow.entrypoints.http.app import create_app
from tests.conftest import make_settings
from tests.fakes import FakeClock

PASSWORD = "correct horse battery"
ADDRESS = "owner@example.com"


def from_peer(app: Any, host: str) -> httpx.AsyncClient:
    """A client whose requests reach the app from ``host`` (the direct peer)."""
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def login(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": ADDRESS, "password": password})


async def test_guessing_is_throttled_per_address_and_the_owner_signs_in_elsewhere(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    clock = FakeClock(datetime.now(UTC))
    services = wire(replace(build_adapters(settings), clock=clock), settings)
    app = create_app(settings, services)
    async with AsyncTestClient(app) as lifespan:
        registered = await lifespan.post(
            "/api/v1/auth/register", json={"email": ADDRESS, "password": PASSWORD}
        )
        assert registered.status_code == 201
        async with (
            from_peer(app, "203.0.113.7") as guesser,
            from_peer(app, "198.51.100.9") as owner,
        ):
            statuses = [(await login(guesser, f"wrong guess {n}")).status_code for n in range(30)]
            assert statuses[:5] == [401] * 5
            assert set(statuses[5:]) == {429}
            refused = await login(guesser, PASSWORD)
            assert refused.status_code == 429
            assert 1 <= int(refused.headers["Retry-After"]) <= 60
            assert refused.json() == {
                "status_code": 429,
                "detail": "Too many failed sign-ins; wait before trying again",
            }

            signed_in = await login(owner, PASSWORD)
            assert signed_in.status_code == 200

            clock.advance(61)
            assert (await login(guesser, PASSWORD)).status_code == 200


class HeldHasher:
    """Argon2 whose ``verify`` holds until released, to see what the loop does meanwhile."""

    def __init__(self, inner: PasswordHasher) -> None:
        self._inner = inner
        self.verifying = threading.Event()
        self.release = threading.Event()

    def hash(self, password: str) -> str:
        return self._inner.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifying.set()
        self.release.wait(timeout=5)
        return self._inner.verify(password_hash, password)


async def test_a_sign_in_does_not_block_other_requests(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    adapters = build_adapters(settings)
    hasher = HeldHasher(adapters.hasher)
    app = create_app(settings, wire(replace(adapters, hasher=hasher), settings))
    async with AsyncTestClient(app) as client:
        await client.post("/api/v1/auth/register", json={"email": ADDRESS, "password": PASSWORD})
        async with from_peer(app, "192.0.2.1") as peer:
            sign_in = asyncio.create_task(login(peer, PASSWORD))
            deadline = asyncio.get_running_loop().time() + 5
            while not hasher.verifying.is_set():
                assert asyncio.get_running_loop().time() < deadline, "verification never started"
                await asyncio.sleep(0.01)
            # Verification is under way: another request is answered meanwhile.
            health = await asyncio.wait_for(peer.get("/health"), timeout=4)
            assert health.status_code == 200
            assert not sign_in.done()
            hasher.release.set()
            assert (await sign_in).status_code == 200
