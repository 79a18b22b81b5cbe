"""SQLite's WAL is checkpointed in the background, so no request pays for it.

A row is "in the database file" when a reader that ignores the WAL
(``immutable=1``) sees it: only a checkpoint puts it there.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reasonflow.adapters.sql.emails import SqlEmailRepository
from reasonflow.adapters.sql.engine import Database
from reasonflow.domain.inbox import NewEmail
from reasonflow.domain.model import Email
from reasonflow.entrypoints.bootstrap import build_services
from tests.conftest import make_settings
from tests.dbs import create_migrated_postgres_database, drop_postgres_database, migrated_database
from tests.support import wait_for


def mail() -> Email:
    now = datetime(2026, 3, 1, 9, tzinfo=UTC)
    return Email(uuid.uuid4(), uuid.uuid4(), "Hi", "Body", "c@example.com", "", now, now)


def in_database_file(path: Path, email_id: uuid.UUID) -> bool:
    """Whether the row is in the main file, read as if no WAL existed."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
        try:
            found = conn.execute("SELECT count(*) FROM emails WHERE id = ?", (email_id.hex,))
        except sqlite3.OperationalError:  # not even the table has left the WAL yet
            return False
        return bool(found.fetchone()[0])


async def fresh(path: Path) -> Database:
    db = await migrated_database(f"sqlite+aiosqlite:///{path}")
    await db.checkpoint()  # the schema itself, so the file has an emails table
    return db


async def test_a_checkpoint_moves_committed_writes_into_the_database_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reasonflow.db"
    db = await fresh(path)
    try:
        email = mail()
        await SqlEmailRepository(db).add(email)
        assert not in_database_file(path, email.id), "still only in the WAL"

        await db.checkpoint()

        assert in_database_file(path, email.id)
    finally:
        await db.dispose()


async def test_the_background_checkpointer_follows_writes(tmp_path: Path) -> None:
    path = tmp_path / "reasonflow.db"
    db = await fresh(path)
    checkpointer = asyncio.create_task(db.run_checkpointer(interval=0.01))
    try:
        for _ in range(3):
            email = mail()
            await SqlEmailRepository(db).add(email)

            async def probe(email_id: uuid.UUID = email.id) -> bool:
                return in_database_file(path, email_id)

            await wait_for(probe, bool, timeout=5)
    finally:
        checkpointer.cancel()
        await asyncio.gather(checkpointer, return_exceptions=True)
        await db.dispose()


async def test_the_server_checkpoints_in_the_background(tmp_path: Path) -> None:
    services = build_services(make_settings(tmp_path))
    await services.lifecycle.start()
    try:
        email = await services.inbox.add(uuid.uuid4(), NewEmail("Hi", "Body", "c@example.com"))

        async def probe() -> bool:
            return in_database_file(tmp_path / "reasonflow.db", email.id)

        await wait_for(probe, bool, timeout=5)
    finally:
        await services.lifecycle.stop()


@pytest.mark.postgres
async def test_postgres_needs_no_checkpoint() -> None:
    url = await create_migrated_postgres_database()
    db = Database(url)
    try:
        await db.checkpoint()
        assert await db.ready()
    finally:
        await db.dispose()
        await drop_postgres_database(url)
