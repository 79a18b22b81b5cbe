"""Sign-in throttling over HTTP: per (account, client address) and per address."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

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


async def test_a_sign_in_does_not_block_other_requests(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = create_app(settings, wire(build_adapters(settings), settings))
    async with AsyncTestClient(app) as client:
        await client.post("/api/v1/auth/register", json={"email": ADDRESS, "password": PASSWORD})
        async with from_peer(app, "192.0.2.1") as peer:
            finished: list[str] = []

            async def sign_in() -> None:
                await login(peer, PASSWORD)
                finished.append("sign-in")

            async def health() -> None:
                # Starts just after the sign-in, so it waits for it only if
                # the Argon2 check holds the event loop.
                await asyncio.sleep(0)
                assert (await peer.get("/health")).status_code == 200
                finished.append("health")

            await asyncio.gather(sign_in(), health())
            assert finished == ["health", "sign-in"]
