"""``DispatchQueue`` over SQL: the ``reply_dispatches`` rows and the ``dispatch_leases`` row.

``queue_reply`` runs inside the caller's transaction (``SqlEmailRepository``),
so a reply exists exactly when its email's move to ``sending`` committed.
The lease is one row per name, taken with a conditional UPDATE (or INSERT when
absent): the same statements on SQLite and Postgres. It ends when it expires, or
at once when its holder is a process of this machine that no longer exists
(``local_holder`` names the host, its boot, the pid namespace and the pid): a server restarted
after a crash takes over without waiting out the dead one's lease.

A delivery commits in one statement, the email's move from ``sending`` to
``sent``, on SQLite ahead of the writes still waiting for the lock (``urgent``):
the shorter that commit, the narrower the window in which a crash sends a reply
twice. The row's own bookkeeping (``delivered_at``, ``attempts``) follows in a
second statement; a reply is due only while its email is ``sending``, so a crash
between the two leaves it delivered.
"""

from __future__ import annotations

import functools
import os
import secrets
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from reasonflow.adapters.sql.engine import Database
from reasonflow.adapters.sql.tables import dispatch_leases as lease_t
from reasonflow.adapters.sql.tables import emails as email_t
from reasonflow.adapters.sql.tables import reply_dispatches as t
from reasonflow.domain.model import EmailStatus
from reasonflow.domain.ports import DispatchQueue, QueuedReply
from reasonflow.domain.replies import Reply, ReplyHeaders

#: The lease every dispatcher of a database competes for.
LEASE_NAME = "reply-dispatcher"
_SEP = "|"


@functools.cache
def _machine() -> str:
    """This host, boot and pid namespace: a pid names one process only within all
    three (containers sharing a hostname and kernel differ in pid namespace)."""
    boot = Path("/proc/sys/kernel/random/boot_id")
    boot_id = boot.read_text().strip() if boot.exists() else "-"
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = "-"
    return _SEP.join((socket.gethostname(), boot_id, namespace))


def local_holder() -> str:
    """A lease holder id for a dispatcher of this process: machine, pid, random."""
    return _SEP.join((_machine(), str(os.getpid()), secrets.token_hex(4)))


def _gone(holder: str) -> bool:
    """Whether ``holder`` is a dispatcher of a process of this machine that has ended."""
    machine, sep, _random = holder.rpartition(_SEP)
    machine, sep2, pid = machine.rpartition(_SEP)
    if not (sep and sep2 and pid.isdigit()) or machine != _machine():
        return False  # another machine's (or an unknown form): only expiry ends it
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, someone else's
    return False


async def queue_reply(session: AsyncSession, reply: Reply, now: datetime, db: Database) -> None:
    """Queue ``reply`` for delivery now, in ``session``'s transaction; an earlier,
    undelivered reply of the same email (one that gave up) is replaced."""
    values: dict[str, Any] = {
        "user_id": reply.user_id,
        "sender": reply.sender,
        "recipient": reply.recipient,
        "subject": reply.subject,
        "body": reply.body,
        "message_id": reply.headers.message_id,
        "in_reply_to": reply.headers.in_reply_to,
        "reference_ids": " ".join(reply.headers.references) or None,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "delivered_at": None,
        "last_error": None,
    }
    dialect = sqlite if db.is_sqlite else postgresql
    statement = dialect.insert(t).values(email_id=reply.email_id, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=[t.c.email_id], set_=values)
    )


def _queued(row: Any) -> QueuedReply:
    refs = row.reference_ids
    headers = ReplyHeaders(row.message_id, row.in_reply_to, tuple(refs.split()) if refs else ())
    reply = Reply(
        row.email_id, row.user_id, row.sender, row.recipient, row.subject, row.body, headers
    )
    return QueuedReply(reply, row.attempts)


# Built once: ``Database.run_lone`` compiles a statement once per object.
_MARK_SENT = (
    update(email_t)
    .where(
        email_t.c.id == bindparam("b_email_id", type_=email_t.c.id.type),
        email_t.c.status == EmailStatus.SENDING.value,
    )
    .values(
        status=EmailStatus.SENT.value,
        last_error=None,
        updated_at=bindparam("b_now", type_=email_t.c.updated_at.type),
    )
)
_MARK_DELIVERED = (
    update(t)
    .where(
        t.c.email_id == bindparam("b_email_id", type_=t.c.email_id.type), t.c.delivered_at.is_(None)
    )
    .values(
        delivered_at=bindparam("b_now", type_=t.c.delivered_at.type),
        next_attempt_at=None,
        attempts=t.c.attempts + 1,
        last_error=None,
    )
)


class SqlDispatchQueue(DispatchQueue):
    def __init__(self, db: Database, lease_name: str = LEASE_NAME) -> None:
        self._db = db
        self._lease = lease_name

    async def due(self, now: datetime, limit: int) -> list[QueuedReply]:
        query = (
            select(t)
            .join(email_t, email_t.c.id == t.c.email_id)
            .where(
                t.c.next_attempt_at.is_not(None),
                t.c.next_attempt_at <= now,
                # Marked sent but the row's bookkeeping not yet (a crash between).
                email_t.c.status == EmailStatus.SENDING.value,
            )
            .order_by(t.c.next_attempt_at, t.c.email_id)
            .limit(limit)
        )
        async with self._db.read() as s:
            return [_queued(row) for row in (await s.execute(query)).all()]

    async def delivered(self, email_id: UUID, now: datetime) -> None:
        values = {"b_email_id": email_id, "b_now": now}
        # The commit that counts: from here on the reply is no longer due.
        await self._db.run_lone(_MARK_SENT, values, write=True, urgent=True)
        await self._db.run_lone(_MARK_DELIVERED, values, write=True)

    async def failed(
        self, email_id: UUID, now: datetime, error: str, retry_at: datetime | None
    ) -> None:
        async with self._db.write() as s:
            await s.execute(
                update(t)
                .where(t.c.email_id == email_id, t.c.delivered_at.is_(None))
                .values(next_attempt_at=retry_at, attempts=t.c.attempts + 1, last_error=error)
            )
            status = EmailStatus.SENDING if retry_at is not None else EmailStatus.SEND_FAILED
            await s.execute(
                update(email_t)
                .where(email_t.c.id == email_id, email_t.c.status == EmailStatus.SENDING.value)
                .values(status=status.value, last_error=error, updated_at=now)
            )

    async def acquire_lease(self, holder: str, now: datetime, seconds: float) -> bool:
        until = now + timedelta(seconds=seconds)
        async with self._db.write() as s:
            taken = await s.execute(
                update(lease_t)
                .where(
                    lease_t.c.name == self._lease,
                    or_(lease_t.c.holder == holder, lease_t.c.expires_at <= now),
                )
                .values(holder=holder, expires_at=until)
                .returning(lease_t.c.name)
            )
            if taken.first() is not None:
                return True
            current = (
                await s.execute(select(lease_t.c.holder).where(lease_t.c.name == self._lease))
            ).scalar_one_or_none()
            if current is not None:
                if not _gone(current):
                    return False
                # Its holder crashed: take over now (compare-and-set on the dead holder).
                stolen = await s.execute(
                    update(lease_t)
                    .where(lease_t.c.name == self._lease, lease_t.c.holder == current)
                    .values(holder=holder, expires_at=until)
                    .returning(lease_t.c.name)
                )
                return stolen.first() is not None
            dialect = sqlite if self._db.is_sqlite else postgresql
            inserted = await s.execute(
                dialect.insert(lease_t)
                .values(name=self._lease, holder=holder, expires_at=until)
                .on_conflict_do_nothing(index_elements=[lease_t.c.name])
                .returning(lease_t.c.name)
            )
            return inserted.first() is not None

    async def renew_lease(self, holder: str, now: datetime, seconds: float) -> bool:
        async with self._db.write() as s:
            renewed = await s.execute(
                update(lease_t)
                .where(
                    and_(
                        lease_t.c.name == self._lease,
                        lease_t.c.holder == holder,
                        lease_t.c.expires_at > now,
                    )
                )
                .values(expires_at=now + timedelta(seconds=seconds))
                .returning(lease_t.c.name)
            )
            return renewed.first() is not None

    async def release_lease(self, holder: str) -> None:
        async with self._db.write() as s:
            await s.execute(
                delete(lease_t).where(lease_t.c.name == self._lease, lease_t.c.holder == holder)
            )
