"""The SQL repositories over every backend: each test gets a migrated, empty database.

``repo`` adds the unit tests' fakes (``FakeEmailRepository``,
``FakeUserRepository``) to the backends of the repository contracts, so each
fake is held to what the real ones meet.

SQLite: a fresh file per test. Postgres: one database per session (created,
migrated, and dropped at the end), emptied before each test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reasonflow.adapters.sql.emails import SqlEmailRepository
from reasonflow.adapters.sql.engine import Database
from reasonflow.adapters.sql.users import SqlUserRepository
from reasonflow.domain.ports import EmailRepository, UserRepository
from tests.dbs import (
    Sql,
    StepClock,
    create_migrated_postgres_database,
    drop_postgres_database,
    empty_tables,
    migrated_database,
    sqlite_url,
)
from tests.fakes import FakeEmailRepository, FakeUserRepository


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    # Synchronous, each step on its own short-lived loop, so no engine or
    # connection outlives the loop it was made on.
    url = asyncio.run(create_migrated_postgres_database())
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def sql(backend_url: str) -> AsyncIterator[Sql]:
    db: Database = await migrated_database(backend_url)
    try:
        if not db.is_sqlite:
            await empty_tables(db)
        yield Sql.over(db)
    finally:
        await db.dispose()


@dataclass
class Backend:
    emails: EmailRepository
    users: UserRepository
    clock: StepClock


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "fake"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database URL, or 'fake'; the Postgres server is set up here, outside any loop."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return sqlite_url(tmp_path) if request.param == "sqlite" else "fake"


@pytest.fixture
async def repo(backend: str) -> AsyncIterator[Backend]:
    clock = StepClock()
    if backend == "fake":
        yield Backend(FakeEmailRepository(clock), FakeUserRepository(), clock)
        return
    db = await migrated_database(backend)
    try:
        if not db.is_sqlite:
            await empty_tables(db)
        yield Backend(SqlEmailRepository(db, clock), SqlUserRepository(db), clock)
    finally:
        await db.dispose()
