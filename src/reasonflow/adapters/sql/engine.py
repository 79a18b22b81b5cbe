"""Engines and sessions for SQLite and Postgres (DESIGN §4, §6).

SQLite takes one writer at a time, so this module makes writes safe under the
many small concurrent commits a batch job produces:

* WAL journal (readers never block the writer), ``synchronous=NORMAL`` (safe
  with WAL), ``foreign_keys=ON`` and a 10 s ``busy_timeout``.
* SQLAlchemy, not the ``sqlite3`` driver, emits ``BEGIN``: the driver would
  start a transaction only at the first DML statement, leaving the reads
  before it (a claim's ownership check) outside the transaction. Writes begin
  ``IMMEDIATE``, taking the write lock up front: a ``DEFERRED`` transaction
  that reads and then writes can fail at once with "database is locked"
  (``SQLITE_BUSY_SNAPSHOT``), which no busy timeout cures. Reads begin
  ``DEFERRED``. A lone statement (``Database.statement``: the per-email read
  and result of a job) sends no ``BEGIN``: SQLite runs it as its own
  transaction, which is atomic and waits on the busy timeout like any other,
  for half the round trips to the driver's thread. On a SQLite file the
  per-email statements skip SQLAlchemy's pool and cursor altogether
  (``Database.run_lone``, ``lone.py``): one hand-off to the driver's thread.
* Writers of one process also queue on one lock (``WriteLock``) rather than
  on SQLite's busy handler, which sleeps instead of waiting fairly. Still one
  writer at a time, first come first served, except that an *urgent* write
  (``run_lone(..., urgent=True)``: the one statement that records a reply the
  mail server accepted) goes ahead of the writes still waiting, never of the
  one under way: it shortens the window in which a crash sends a reply twice.
* The server checkpoints the WAL in the background (``run_checkpointer``).
  Left to SQLite, the commit that takes the WAL past 1,000 pages copies them
  into the database file and syncs it, ~10 ms during which that request, and
  every writer queued behind it, waits (docs/benchmarks.md, row 4). SQLite's
  own automatic checkpoint stays, for writes faster than the background keeps
  up with and for processes that run none (the admin CLI).

Postgres restarting or unreachable: connections are checked before use
(``pool_pre_ping``), so one dropped by a restart is replaced rather than
handed out; an error that says the server cannot be reached (refused, reset,
"terminating connection", "starting up") leaves ``read``, ``write`` and
``statement`` as the domain's ``DatabaseUnavailable``, with none of the
driver's text (SQL, addresses). Any other database error is left as it is.

Nothing here connects, or creates a folder, until ``Database.start`` or the
first query.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import aiosqlite
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.sql.expression import Delete, Select, Update

from reasonflow.adapters.sql.lone import DriverPool, LoneStatement
from reasonflow.adapters.sql.migrate import upgrade
from reasonflow.domain.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

_Lone = Select[Any] | Update | Delete

BUSY_TIMEOUT_MS = 10_000
CHECKPOINT_INTERVAL_SECONDS = 0.1
#: SQLite connections kept open. SQLAlchemy's default (5, then up to 10 more
#: opened and closed again) made a job's wave of 16 concurrent emails open a
#: connection, with its PRAGMAs, for 11 of them each time; an idle SQLite
#: connection costs a thread and its page cache, nothing on the server's side.
SQLITE_POOL_SIZE = 32
#: Every SQLite connection's settings, SQLAlchemy's and ``run_lone``'s alike.
#: The timeout first: switching a new file to WAL needs a lock too.
SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)

# Execution option read by the ``begin`` hook: how a SQLite transaction starts.
_SQLITE_BEGIN = "reasonflow_sqlite_begin"
#: ``NONE``: no ``BEGIN`` at all, for one statement that is its own transaction.
_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "NONE"})
#: ``ready()`` gives up after this long (a server that drops packets never refuses).
READY_TIMEOUT_SECONDS = 5.0


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) says the server cannot be reached now,
    rather than that a statement is wrong: a connection refused, reset or timed
    out, a connection the server closed (restart, ``pg_terminate_backend``), or
    a server still starting up or shutting down."""
    import asyncpg.exceptions as pg

    lost = (
        pg.PostgresConnectionError,  # SQLSTATE class 08, e.g. the connection does not exist
        pg.CannotConnectNowError,  # 57P03: starting up or shutting down
        pg.AdminShutdownError,  # 57P01: terminated by a fast or immediate stop
        pg.CrashShutdownError,
        pg.TooManyConnectionsError,
    )
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (OSError, TimeoutError, *lost)):
            return True
        wrapped = getattr(current, "orig", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__
    return False


@contextlib.asynccontextmanager
async def _unavailable_as_domain_error() -> AsyncIterator[None]:
    try:
        yield
    except DatabaseUnavailable:
        raise
    except Exception as exc:
        if is_unavailable(exc):
            raise DatabaseUnavailable() from exc
        raise


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; for SQLite, tuned as the module docstring says."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # Connections dropped by a restarted server are replaced, not handed out.
        return _create_async_engine(parsed, pool_pre_ping=True)
    if _in_memory(parsed):
        engine = _create_async_engine(parsed)  # one shared connection (StaticPool)
    else:
        engine = _create_async_engine(
            parsed, pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_SIZE
        )
    event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
    return engine


def _in_memory(url: URL) -> bool:
    return not url.database or url.database == ":memory:" or url.query.get("mode") == "memory"


def _make_parent_dir(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # None stops the driver from emitting BEGIN itself; _on_sqlite_begin does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(_SQLITE_BEGIN, "IMMEDIATE")
    if mode not in _BEGIN_MODES:
        raise ValueError(f"unknown SQLite begin mode {mode!r}")
    if mode != "NONE":
        conn.exec_driver_sql(f"BEGIN {mode}")


class WriteLock:
    """A FIFO lock whose urgent waiters go ahead of the others (not of the holder).

    Used as ``async with lock:`` (in turn) or ``async with lock.urgent():``.
    """

    def __init__(self) -> None:
        self._held = False
        self._waiting: dict[bool, collections.deque[asyncio.Future[None]]] = {
            True: collections.deque(),
            False: collections.deque(),
        }

    async def acquire(self, *, urgent: bool = False) -> None:
        if not self._held and not any(self._waiting.values()):
            self._held = True
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[urgent].append(future)
        try:
            await future
        except BaseException:
            if future.done() and not future.cancelled():
                self.release()  # handed over just as the waiter was cancelled
            elif future in self._waiting[urgent]:
                self._waiting[urgent].remove(future)
            raise

    def release(self) -> None:
        for lane in (self._waiting[True], self._waiting[False]):
            while lane:
                future = lane.popleft()
                if not future.done():
                    future.set_result(None)  # ownership passes on: _held stays True
                    return
        self._held = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *_exc: object) -> None:
        self.release()

    @contextlib.asynccontextmanager
    async def urgent(self) -> AsyncIterator[None]:
        await self.acquire(urgent=True)
        try:
            yield
        finally:
            self.release()


class Database:
    """One engine and its sessions. Use ``read()`` to query and ``write()`` to change.

    Anything else that opens a transaction on ``engine`` directly (migrations,
    maintenance) begins ``IMMEDIATE`` on SQLite, the safe default.
    """

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        reader = (
            self.engine.execution_options(**{_SQLITE_BEGIN: "DEFERRED"})
            if self.is_sqlite
            else self.engine
        )
        self._readers = async_sessionmaker(reader, expire_on_commit=False)
        self._lone = (
            self.engine.execution_options(**{_SQLITE_BEGIN: "NONE"})
            if self.is_sqlite
            else self.engine
        )
        self._writers = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock: WriteLock | None = WriteLock() if self.is_sqlite else None
        self._writes = 0
        # In memory there is one shared connection, which only the engine has.
        self._driver = (
            DriverPool(self._open_driver, SQLITE_POOL_SIZE)
            if self.is_sqlite and not _in_memory(self.engine.url)
            else None
        )
        self._compiled: dict[int, tuple[_Lone, LoneStatement]] = {}

    async def start(self) -> None:
        """Make the SQLite file's folder and bring the schema to the newest migration."""
        if self.is_sqlite:
            _make_parent_dir(self.engine.url)
        await upgrade(self.engine)

    async def stop(self) -> None:
        await self.dispose()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries only; it never holds SQLite's write lock."""
        async with _unavailable_as_domain_error(), self._readers() as session:
            yield session

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on exit, rolled back on error.

        On SQLite the transaction holds this process's write lock for its whole
        life, so keep it short: no provider calls inside.
        """
        lock: contextlib.AbstractAsyncContextManager[Any] = (
            self._write_lock if self._write_lock is not None else contextlib.nullcontext()
        )
        async with (
            _unavailable_as_domain_error(),
            lock,
            self._writers() as session,
            session.begin(),
        ):
            yield session
        self._writes += 1

    @contextlib.asynccontextmanager
    async def statement(
        self, *, write: bool, urgent: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A Core connection for exactly one statement, which is its own transaction.

        Cheaper than ``read()`` or ``write()`` (no ORM session; on SQLite no
        ``BEGIN``, the statement commits itself): for the one-row reads and
        writes every email of a job makes. A write queues on this process's
        write lock like ``write()``; it is committed on exit. Execute one
        statement only: two would be two transactions.
        """
        lock: contextlib.AbstractAsyncContextManager[Any] = contextlib.nullcontext()
        if write and self._write_lock is not None:
            lock = self._write_lock.urgent() if urgent else self._write_lock
        async with _unavailable_as_domain_error(), lock, self._lone.connect() as conn:
            yield conn
            if write:
                await conn.commit()
        if write:
            self._writes += 1

    async def run_lone(
        self, statement: _Lone, values: Mapping[str, Any], *, write: bool, urgent: bool = False
    ) -> Sequence[Mapping[str, Any]]:
        """Run one statement as its own transaction; its rows as column key → value.

        ``values`` gives every bound parameter by name. A write queues on this
        process's write lock like ``write()``. On a SQLite file the statement
        goes straight to the driver (``lone.py``), compiled once per statement
        object: pass statements built once, not per call. Elsewhere it runs
        through ``statement()``. An ``urgent`` write goes ahead of the writes
        of this process still waiting for the lock (``WriteLock``).
        """
        if self._driver is None:
            async with self.statement(write=write, urgent=urgent) as conn:
                result = await conn.execute(statement, values)
                if not result.returns_rows:
                    return []
                return [cast(Mapping[str, Any], row._mapping) for row in result.all()]
        compiled = self._compiled.get(id(statement))
        if compiled is None:
            # The statement is kept alongside, so its id is never reused.
            compiled = (statement, LoneStatement.compile(statement, self.engine.dialect))
            self._compiled[id(statement)] = compiled
        lone = compiled[1]
        parameters = lone.parameters(values)
        if not write:
            return lone.rows(await self._driver.fetchall(lone.sql, parameters))
        assert self._write_lock is not None  # a SQLite database always has one
        async with self._write_lock.urgent() if urgent else self._write_lock:
            rows = await self._driver.fetchall(lone.sql, parameters)
        self._writes += 1
        return lone.rows(rows)

    async def _open_driver(self) -> aiosqlite.Connection:
        """A driver connection as the engine opens them: same arguments and PRAGMAs,
        and autocommit (no ``BEGIN``: each statement is its own transaction)."""
        args, kwargs = self.engine.dialect.create_connect_args(self.engine.url)
        conn = await aiosqlite.connect(*args, **{**kwargs, "isolation_level": None})
        try:
            for pragma in SQLITE_PRAGMAS:
                await conn.execute_fetchall(pragma)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def ready(self) -> bool:
        """Whether the database answers a trivial query within a few seconds (readiness)."""
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS), self.read() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file (SQLite), without waiting for or
        blocking readers and writers (``PASSIVE``). Postgres needs nothing."""
        if not self.is_sqlite:
            return
        async with self.engine.connect() as conn:
            # On the driver's connection, outside any transaction: the ``begin``
            # hook would otherwise start one and take the write lock.
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            async with driver.execute("PRAGMA wal_checkpoint(PASSIVE)") as cursor:
                await cursor.fetchall()

    async def run_checkpointer(self, interval: float = CHECKPOINT_INTERVAL_SECONDS) -> None:
        """Checkpoint every ``interval`` seconds after a write; a background task."""
        seen = self._writes
        while True:
            await asyncio.sleep(interval)
            if self._writes == seen:
                continue
            seen = self._writes
            try:
                await self.checkpoint()
            except Exception as exc:  # busy or gone for a moment: the next round retries
                log.warning("WAL checkpoint failed error=%s", type(exc).__name__)

    async def dispose(self) -> None:
        """Close every pooled connection; call once at shutdown."""
        if self._driver is not None:
            await self._driver.close()
        await self.engine.dispose()
