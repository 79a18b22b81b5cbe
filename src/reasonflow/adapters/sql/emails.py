"""``EmailRepository`` over SQL (DESIGN §4): atomic claims, one commit per result
(with its queued reply, when one is sent)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import and_, bindparam, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import Select

from reasonflow.adapters.clock import SystemClock
from reasonflow.adapters.sql.dispatches import queue_reply
from reasonflow.adapters.sql.engine import Database
from reasonflow.adapters.sql.rows import decode_cursor, email_values, encode_cursor, to_email
from reasonflow.adapters.sql.tables import emails as t
from reasonflow.domain.model import Email, EmailStatus, Intent, Page, PipelineResult
from reasonflow.domain.ports import Clock, EmailFilter, EmailRepository
from reasonflow.domain.replies import Reply
from reasonflow.domain.submission import PROCESS_BLOCKING


def _param(name: str) -> Any:
    """A bound parameter typed as column ``name`` (``b_<name>``: column names are reserved)."""
    return bindparam(f"b_{name}", type_=t.c[name].type)


# Built once, the statements every email of a job runs: building and hashing a
# statement per email cost as much CPU as executing it. ``Database.run_lone``
# runs each as its own transaction (on a SQLite file, straight on the driver).
_GET = select(t).where(t.c.user_id == _param("user_id"), t.c.id == _param("id"))
_SAVE_CLASSIFICATION = (
    update(t)
    .where(t.c.id == _param("id"))
    .values(
        intent=_param("intent"), confidence=_param("confidence"), updated_at=_param("updated_at")
    )
)
_FINISHED = {"job_id": None, "previous_status": None, "updated_at": _param("updated_at")}
_FINISH = update(t).where(t.c.id == _param("id"), t.c.job_id == _param("job_id")).returning(t.c.id)
_FINISH_DONE = _FINISH.values(
    **_FINISHED,
    **{c: _param(c) for c in ("intent", "confidence", "status", "draft", "last_error")},
)
_FINISH_FAILED = _FINISH.values(
    **_FINISHED, status=_param("status"), last_error=_param("last_error")
)


class SqlEmailRepository(EmailRepository):
    """Every write is its own short transaction through ``Database.write()``."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self._db = db
        self._clock = clock or SystemClock()

    async def add(self, email: Email) -> None:
        async with self._db.write() as s:
            await s.execute(insert(t).values(email_values(email)))

    async def get(self, user_id: UUID, email_id: UUID) -> Email | None:
        rows = await self._db.run_lone(_GET, {"b_user_id": user_id, "b_id": email_id}, write=False)
        return to_email(rows[0]) if rows else None

    async def page(
        self, user_id: UUID, filters: EmailFilter, limit: int, cursor: str | None
    ) -> Page[Email]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = select(t).where(t.c.user_id == user_id)
        if filters.status is not None:
            query = query.where(t.c.status == filters.status.value)
        if filters.intent is not None:
            query = query.where(t.c.intent == filters.intent.value)
        if filters.thread_id is not None:
            query = query.where(t.c.thread_id == filters.thread_id)
        key = tuple_(t.c.received_at, t.c.id)
        if cursor is not None:
            # Strictly after the last row shown, in (received_at, id) order, so
            # rows with equal timestamps are neither repeated nor skipped.
            last = decode_cursor(cursor)
            query = query.where(key > last if filters.oldest_first else key < last)
        if filters.oldest_first:
            query = query.order_by(t.c.received_at.asc(), t.c.id.asc())
        else:
            query = query.order_by(t.c.received_at.desc(), t.c.id.desc())
        query = query.limit(limit + 1)
        async with self._db.read() as s:
            rows = (await s.execute(query)).all()
        items = [to_email(row) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items, encode_cursor(items[-1].received_at, items[-1].id) if more else None)

    async def statuses(self, user_id: UUID, ids: Sequence[UUID]) -> dict[UUID, EmailStatus]:
        # Every submission and estimate asks this once for up to 100 ids: one
        # statement per selection size, built once, run in one hand-off to the
        # driver (docs/benchmarks.md, row 4); a longer list goes in chunks.
        wanted = _unique(ids)
        found: dict[UUID, EmailStatus] = {}
        for start in range(0, len(wanted), _STATUSES_MAX):
            chunk = wanted[start : start + _STATUSES_MAX]
            values: dict[str, Any] = {"b_user_id": user_id}
            values.update((f"b_id{n}", email_id) for n, email_id in enumerate(chunk))
            rows = await self._db.run_lone(_statuses_of(len(chunk)), values, write=False)
            found.update((row["id"], EmailStatus(row["status"])) for row in rows)
        return found

    async def claim(self, user_id: UUID, ids: Sequence[UUID], job_id: str) -> bool:
        wanted = _unique(ids)
        # The caller's rows among the ids, locked in id order (Postgres; SQLite's write
        # transaction already excludes other writers), so concurrent claims queue up
        # rather than deadlock, and each sees the other's committed result.
        mine = (
            select(t.c.id)
            .where(t.c.user_id == user_id, t.c.id.in_(wanted))
            .order_by(t.c.id)
            .with_for_update()
        )
        try:
            async with self._db.write() as s:
                # One statement when the claim succeeds, as it almost always does.
                claimed = await s.execute(
                    update(t)
                    .where(t.c.id.in_(mine.scalar_subquery()), _claimable())
                    .values(
                        status=EmailStatus.PROCESSING.value,
                        job_id=job_id,
                        previous_status=t.c.status,
                        updated_at=self._clock.now(),
                    )
                    .returning(t.c.id)
                )
                if len(claimed.all()) < len(wanted):
                    # Missing, someone else's, or busy: never keep part of a selection.
                    raise _Refused()
        except _Refused:
            return False  # rolled back: nothing changed
        return True

    async def save_classification(self, email_id: UUID, intent: Intent, confidence: float) -> None:
        values = {
            "b_id": email_id,
            "b_intent": intent.value,
            "b_confidence": confidence,
            "b_updated_at": self._clock.now(),
        }
        await self._db.run_lone(_SAVE_CLASSIFICATION, values, write=True)

    async def finish_claimed(
        self,
        email_id: UUID,
        job_id: str,
        result: PipelineResult | None,
        error: str | None = None,
    ) -> bool:
        statement = _FINISH_FAILED if result is None else _FINISH_DONE
        values: dict[str, Any] = {"b_id": email_id, "b_job_id": job_id}
        if result is None:
            values |= {"b_status": EmailStatus.NEEDS_REVIEW.value, "b_last_error": error}
        else:
            values |= {
                "b_intent": result.intent.value,
                "b_confidence": result.confidence,
                "b_status": result.status.value,
                "b_draft": result.draft,
                "b_last_error": None,
            }
        now = self._clock.now()
        values["b_updated_at"] = now
        if result is None or result.reply is None:
            return bool(await self._db.run_lone(statement, values, write=True))
        # Auto-send: the reply is queued in the very transaction that commits the result.
        async with self._db.write() as s:
            finished = (await s.execute(statement, values)).first()
            if finished is not None:
                await queue_reply(s, result.reply, now, self._db)
            return finished is not None

    async def release(self, job_id: str, ids: Collection[UUID] | None = None) -> int:
        where = [t.c.job_id == job_id]
        if ids is not None:
            if not ids:
                return 0
            where.append(t.c.id.in_(_unique(ids)))
        return await self._unclaim(and_(*where))

    async def recover_orphans(
        self, running_job_ids: Collection[str], claimed_before: datetime | None = None
    ) -> int:
        where: ColumnElement[bool] = t.c.job_id.is_not(None)
        if claimed_before is not None:
            where = and_(where, t.c.updated_at < claimed_before)
        if running_job_ids:
            where = and_(where, t.c.job_id.not_in(list(running_job_ids)))
        return await self._unclaim(where)

    async def _unclaim(self, where: ColumnElement[bool]) -> int:
        """One UPDATE giving claimed emails their previous status back.

        Rows are locked in id order first, the order ``claim`` locks them in,
        so a release racing a claim waits instead of deadlocking (Postgres).
        """
        locked = select(t.c.id).where(where).order_by(t.c.id).with_for_update()
        async with self._db.write() as s:
            result = await s.execute(
                update(t)
                .where(t.c.id.in_(locked.scalar_subquery()))
                .values(
                    status=func.coalesce(t.c.previous_status, EmailStatus.PENDING.value),
                    job_id=None,
                    previous_status=None,
                    updated_at=self._clock.now(),
                )
                .returning(t.c.id)
            )
            return len(result.all())

    async def context(self, email: Email, limit: int = 5) -> list[Email]:
        related = and_(t.c.sender == email.sender, t.c.received_at < email.received_at)
        if email.thread_id is not None:
            related = or_(t.c.thread_id == email.thread_id, related)
        query = (
            select(t)
            .where(t.c.user_id == email.user_id, t.c.id != email.id, related)
            .order_by(t.c.received_at.desc(), t.c.id.desc())
            .limit(limit)
        )
        async with self._db.read() as s:
            return [to_email(row) for row in (await s.execute(query)).all()]

    async def update_review(
        self, email: Email, expected: EmailStatus, reply: Reply | None = None
    ) -> bool:
        async with self._db.write() as s:
            result = await s.execute(
                update(t)
                .where(
                    t.c.id == email.id,
                    t.c.user_id == email.user_id,
                    t.c.status == expected.value,
                )
                .values(
                    status=email.status.value,
                    draft=email.draft,
                    last_error=email.last_error,
                    updated_at=email.updated_at,
                )
                .returning(t.c.id)
            )
            wrote = result.first() is not None
            if wrote and reply is not None:
                await queue_reply(s, reply, email.updated_at, self._db)
            return wrote

    async def add_many_new(self, emails: Sequence[Email]) -> int:
        if not emails:
            return 0
        dialect = postgresql if self._db.engine.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(t)
            .on_conflict_do_nothing(index_elements=[t.c.user_id, t.c.message_id])
            .returning(t.c.id)
        )
        # In key order, so two imports inserting overlapping mail wait for each
        # other on Postgres instead of deadlocking.
        rows = sorted(
            (email_values(e) for e in emails),
            key=lambda v: (str(v["user_id"]), v["message_id"] or ""),
        )
        async with self._db.write() as s:
            # Many parameter sets: SQLAlchemy sends them as multi-row INSERTs
            # ("insertmanyvalues"), in batches below each driver's limits.
            added = await s.execute(statement, rows)
            return len(added.all())


#: The most ids one ownership read asks for (a classify batch).
_STATUSES_MAX = 100
_STATUSES: dict[int, Select[Any]] = {}


def _statuses_of(count: int) -> Select[Any]:
    """``SELECT id, status`` of ``count`` ids the user owns, built once per count."""
    statement = _STATUSES.get(count)
    if statement is None:
        ids = [bindparam(f"b_id{n}", type_=t.c.id.type) for n in range(count)]
        where = (t.c.user_id == _param("user_id"), t.c.id.in_(ids))
        query = select(t.c.id, t.c.status).where(*where)
        statement = _STATUSES[count] = cast(Select[Any], query)
    return statement


def _unique(ids: Collection[UUID]) -> list[UUID]:
    return list(dict.fromkeys(ids))


class _Refused(Exception):
    """Raised inside a claim's transaction to roll it back."""


def _claimable() -> ColumnElement[bool]:
    return t.c.status.not_in([s.value for s in PROCESS_BLOCKING])
