"""Two overlapping process submissions at once: exactly one is accepted (DESIGN §4).

Over HTTP against the real app, on SQLite and on Postgres, 50 rounds each.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from reasonflow.entrypoints.bootstrap import build_adapters, wire
from reasonflow.entrypoints.http.app import create_app
from tests.conftest import Api, make_settings, sign_in
from tests.dbs import create_postgres_database, drop_postgres_database
from tests.support import GatedClassifier

ROUNDS = 50
PROCESS = "/api/v1/emails/batch/process"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def api(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    overrides: dict[str, Any] = {"max_active_jobs": 2 * ROUNDS, "submit_rate_per_minute": 1000}
    pg_url = None
    if request.param == "postgres":
        pg_url = await create_postgres_database()
        overrides["database_url"] = pg_url
    settings = make_settings(tmp_path, **overrides)
    try:
        # The provider holds every email, so the winner's job is still running
        # (its emails still claimed) when the loser's claim is decided.
        services = wire(replace(build_adapters(settings), classifier=GatedClassifier()), settings)
        async with AsyncTestClient(create_app(settings, services)) as client:
            yield await sign_in(client)
    finally:
        if pg_url is not None:
            await drop_postgres_database(pg_url)


async def test_exactly_one_of_two_overlapping_submissions_wins(api: Api) -> None:
    for _ in range(ROUNDS):
        a, shared, b = await api.add_emails(3, subject="hold")
        first, second = await asyncio.gather(
            api.post(PROCESS, {"email_ids": [a, shared]}),
            api.post(PROCESS, {"email_ids": [shared, b]}),
        )
        codes = sorted([first.status_code, second.status_code])
        assert codes == [202, 409], (first.text, second.text)
        loser = first if first.status_code == 409 else second
        assert loser.json()["extra"]["conflicts"] == {shared: "processing"}
        winner = first if first.status_code == 202 else second
        # The loser claimed nothing: its own email is still free.
        untouched = b if winner is first else a
        assert (await api.get(f"/api/v1/emails/{untouched}")).json()["status"] == "pending"
