"""The per-email statements on a SQLite file run straight on the driver (``lone.py``).

What a user could notice if that path drifted from SQLAlchemy's: values stored
differently (paging order, times), a write failing with "database is locked"
while another connection holds the lock, or a server that cannot exit because
a driver thread is left running.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

from reasonflow.adapters.sql.emails import SqlEmailRepository
from reasonflow.domain.model import Email, EmailStatus, Intent, PipelineResult
from reasonflow.domain.ports import EmailFilter
from tests.dbs import migrated_database, sqlite_url
from tests.support import wait_for

USER = uuid.UUID("00000000-0000-4000-8000-0000000000cc")
WHEN = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return WHEN


def mail() -> Email:
    return Email(uuid.uuid4(), USER, "Hi", "Body", "c@example.com", "", WHEN, WHEN)


def stored_row(path: Path, email_id: uuid.UUID) -> tuple[object, ...]:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT id, received_at, updated_at, intent, confidence FROM emails WHERE id = ?",
            (email_id.hex,),
        ).fetchone()
    assert row is not None
    return tuple(row)


async def test_a_result_is_stored_as_sqlalchemy_stores_it_and_reads_back_the_same(
    tmp_path: Path,
) -> None:
    db = await migrated_database(sqlite_url(tmp_path))
    try:
        emails = SqlEmailRepository(db, FixedClock())
        email = mail()
        await emails.add(email)  # through SQLAlchemy: received_at = updated_at = WHEN

        await emails.save_classification(email.id, Intent.INQUIRY, 0.75)  # the driver path

        email_id, received_at, updated_at, intent, confidence = stored_row(
            tmp_path / "reasonflow.db", email.id
        )
        assert (email_id, intent, confidence) == (email.id.hex, "inquiry", 0.75)
        assert updated_at == received_at  # the same time, the same text
        read = await emails.get(USER, email.id)
        (paged,) = (await emails.page(USER, EmailFilter(), 10, None)).items
        assert read == paged
        assert read is not None and read.updated_at == WHEN and read.intent is Intent.INQUIRY
    finally:
        await db.dispose()


async def test_a_result_waits_for_another_connections_write_lock_instead_of_failing(
    tmp_path: Path,
) -> None:
    db = await migrated_database(sqlite_url(tmp_path))
    try:
        emails = SqlEmailRepository(db, FixedClock())
        email = mail()
        await emails.add(email)
        await emails.claim(USER, [email.id], "prc_lock")
        result = PipelineResult(Intent.INQUIRY, 0.9, EmailStatus.DRAFTED, "Thanks")
        other = sqlite3.connect(tmp_path / "reasonflow.db", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process's writer
            finish = asyncio.ensure_future(emails.finish_claimed(email.id, "prc_lock", result))
            await asyncio.sleep(0.3)  # the write is held for this long on purpose
            assert not finish.done()
            other.execute("COMMIT")
            assert await asyncio.wait_for(finish, timeout=10)
        finally:
            other.close()
        saved = await emails.get(USER, email.id)
        assert saved is not None
        assert (saved.status, saved.job_id, saved.draft) == (EmailStatus.DRAFTED, None, "Thanks")
    finally:
        await db.dispose()


async def test_dispose_leaves_no_driver_thread_running(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    db = await migrated_database(sqlite_url(tmp_path))
    emails = SqlEmailRepository(db, FixedClock())
    email = mail()
    await emails.add(email)
    # Sixteen at once, as a job's wave reads them: several driver connections.
    await asyncio.gather(*(emails.get(USER, email.id) for _ in range(16)))
    await asyncio.gather(
        *(emails.save_classification(email.id, Intent.INQUIRY, 0.5) for _ in range(16))
    )

    await db.dispose()

    async def running() -> set[threading.Thread]:
        return set(threading.enumerate()) - before

    await wait_for(running, lambda left: not left, timeout=5)
