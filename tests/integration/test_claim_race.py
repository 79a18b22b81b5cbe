"""Concurrency on real databases (DESIGN §4).

Two overlapping process submissions can never both claim their emails, and
SQLite never answers "database is locked" to the many small concurrent commits
a batch job makes. "two-engines" shares one SQLite file between two
``Database`` objects, as two processes would: nothing in-process orders their
writers, only SQLite's own locking.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from reasonflow.adapters.sql.engine import Database
from reasonflow.domain.errors import EmailsConflict
from reasonflow.domain.model import Email, EmailStatus, Intent, JobKind, PipelineResult
from reasonflow.domain.ports import EmailFilter
from reasonflow.domain.submission import refusal
from tests.dbs import (
    Sql,
    create_migrated_postgres_database,
    drop_postgres_database,
    migrated_database,
    sqlite_url,
)

ROUNDS = 50
WRITERS = 16
USER = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
T0 = datetime(2024, 5, 1, 9, tzinfo=UTC)


def mail(n: int = 0) -> Email:
    when = T0 + timedelta(seconds=n)
    return Email(uuid.uuid4(), USER, f"Hi #{n}", "Body", "c@example.com", "", when, when)


def job_id(n: int) -> str:
    return f"prc_{n:016x}"


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    url = asyncio.run(create_migrated_postgres_database())
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


@pytest.fixture(
    params=["sqlite", "two-engines", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, int]:
    """The database URL and how many ``Database`` objects share it."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url, 2
    return sqlite_url(tmp_path), 2 if request.param == "two-engines" else 1


@pytest.fixture
async def racers(setup: tuple[str, int]) -> AsyncIterator[tuple[Sql, Sql]]:
    """Two views of one database; on Postgres each has its own connection pool."""
    url, engines = setup
    first = await migrated_database(url)
    second = Database(url) if engines == 2 else first
    try:
        yield Sql.over(first), Sql.over(second)
    finally:
        await second.dispose()
        await first.dispose()


async def fetch(sql: Sql, ids: list[UUID]) -> dict[UUID, Email]:
    found = {i: await sql.emails.get(USER, i) for i in ids}
    return {i: e for i, e in found.items() if e is not None}


async def test_overlapping_claims_never_both_succeed(racers: tuple[Sql, Sql]) -> None:
    left, right = racers
    for n in range(ROUNDS):
        a, shared, c = mail(), mail(), mail()
        for email in (a, shared, c):
            await left.emails.add(email)
        left_job, right_job = job_id(2 * n), job_id(2 * n + 1)
        left_claim = left.emails.claim(USER, [a.id, shared.id], left_job)
        right_claim = right.emails.claim(USER, [shared.id, c.id], right_job)
        # Alternate who starts first so that either side gets to win.
        if n % 2:
            right_result, left_result = await asyncio.gather(right_claim, left_claim)
        else:
            left_result, right_result = await asyncio.gather(left_claim, right_claim)

        assert left_result != right_result, f"round {n}: both {left_result}"
        if left_result:
            holder, kept, untouched, loser = left_job, a, c, [shared.id, c.id]
        else:
            holder, kept, untouched, loser = right_job, c, a, [a.id, shared.id]
        why = refusal(JobKind.PROCESS, loser, await left.emails.statuses(USER, loser))
        assert isinstance(why, EmailsConflict)
        assert why.conflicts == {shared.id: EmailStatus.PROCESSING}
        now = await fetch(left, [a.id, shared.id, c.id])
        assert now[kept.id].job_id == now[shared.id].job_id == holder
        assert now[shared.id].status is EmailStatus.PROCESSING
        assert (now[untouched.id].status, now[untouched.id].job_id) == (EmailStatus.PENDING, None)


@pytest.mark.parametrize("engines", [1, 2], ids=["one-engine", "two-engines"])
async def test_concurrent_writers_never_find_sqlite_locked(tmp_path: Path, engines: int) -> None:
    url = sqlite_url(tmp_path)
    first = await migrated_database(url)
    dbs = [first] + [Database(url) for _ in range(engines - 1)]
    try:
        views = [Sql.over(db) for db in dbs]
        for n in range(5):
            claimed = [mail(i) for i in range(WRITERS)]
            classified = [mail(i) for i in range(WRITERS)]
            for email in claimed + classified:
                await views[0].emails.add(email)
            job = job_id(n)
            assert await views[0].emails.claim(USER, [e.id for e in claimed], job)
            result = PipelineResult(Intent.INQUIRY, 0.9, EmailStatus.DRAFTED, "Reply")

            writes = [
                op
                for i in range(WRITERS)
                for op in (
                    views[i % engines].emails.finish_claimed(claimed[i].id, job, result),
                    views[i % engines].emails.save_classification(
                        classified[i].id, Intent.SPAM, 0.5
                    ),
                    views[i % engines].emails.add(mail(i)),
                    views[i % engines].emails.page(USER, EmailFilter(), 10, None),
                )
            ]
            outcomes = await asyncio.gather(*writes)

            assert outcomes[0::4] == [True] * WRITERS
            after = await fetch(views[0], [e.id for e in claimed + classified])
            assert {after[e.id].status for e in claimed} == {EmailStatus.DRAFTED}
            assert {after[e.id].intent for e in classified} == {Intent.SPAM}
    finally:
        for db in reversed(dbs):
            await db.dispose()
