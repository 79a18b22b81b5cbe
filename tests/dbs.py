"""Real databases for tests (DESIGN §9): a fresh SQLite file or Postgres database.

The Postgres server outlives test runs, so every run creates its own uniquely
named database and drops it afterwards. A server that cannot be reached is an
error, never a skip. ``REASONFLOW_TEST_POSTGRES`` overrides the server URL.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from reasonflow.adapters.sql.emails import SqlEmailRepository
from reasonflow.adapters.sql.engine import Database
from reasonflow.adapters.sql.migrate import upgrade
from reasonflow.adapters.sql.users import SqlUserRepository
from reasonflow.domain.ports import Clock

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _server() -> str:
    return os.environ.get("REASONFLOW_TEST_POSTGRES", DEFAULT_SERVER)


def sqlite_url(tmp_path: Path, name: str = "reasonflow.db") -> str:
    return f"sqlite+aiosqlite:///{tmp_path / name}"


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(_server(), timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {_server()} ({exc!r}); "
            "start it (make test does) or set REASONFLOW_TEST_POSTGRES"
        ) from exc


async def create_postgres_database() -> str:
    """Create ``rf_test_<hex>`` and return its ``postgresql+asyncpg://`` URL."""
    name = f"rf_test_{secrets.token_hex(6)}"
    conn = await _admin()
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    server = make_url(_server())
    return server.set(drivername="postgresql+asyncpg", database=name).render_as_string(
        hide_password=False
    )


async def drop_postgres_database(url: str) -> None:
    """Drop the database ``url`` names, closing any connection still open to it."""
    name = make_url(url).database
    if not name or not name.startswith("rf_test_"):
        raise ValueError(f"refusing to drop {name!r}: not a test database")
    conn = await _admin()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def migrated_database(url: str) -> Database:
    """A ``Database`` at the newest schema; the caller must ``dispose()`` it."""
    db = Database(url)
    try:
        await upgrade(db.engine)
    except BaseException:
        await db.dispose()
        raise
    return db


async def create_migrated_postgres_database() -> str:
    """``create_postgres_database`` at the newest schema (dropped again on failure)."""
    url = await create_postgres_database()
    try:
        db = await migrated_database(url)
        await db.dispose()
    except BaseException:
        await drop_postgres_database(url)
        raise
    return url


async def empty_tables(db: Database) -> None:
    """Delete every row, for a database shared by several tests."""
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            for table in ("dev_mailbox", "reply_dispatches", "dispatch_leases", "emails", "users"):
                await conn.execute(text(f"DELETE FROM {table}"))
        else:
            await conn.execute(
                text("TRUNCATE dev_mailbox, reply_dispatches, dispatch_leases, emails, users")
            )


class StepClock(Clock):
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float = 1.0) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current


@dataclass
class Sql:
    """A migrated database and the repositories over it."""

    db: Database
    emails: SqlEmailRepository
    users: SqlUserRepository
    clock: StepClock

    @classmethod
    def over(cls, db: Database) -> Sql:
        clock = StepClock()
        return cls(db, SqlEmailRepository(db, clock), SqlUserRepository(db), clock)
