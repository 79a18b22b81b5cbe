"""One-statement transactions on SQLite's driver, one hand-off to its thread each.

Every email of a job reads its row and writes its result with one statement
each (``SqlEmailRepository.get``, ``save_classification``, ``finish_claimed``).
Through SQLAlchemy's aiosqlite adapter one such statement crosses to the
driver's thread five times (cursor, execute, fetch, close, and the pool's
reset) and pays the pool's checkout and return: ~350 µs of CPU, against
~30 µs for the same SQL in one ``execute_fetchall`` (docs/benchmarks.md,
"Per-email CPU"). So on a SQLite file these statements run here instead:

* ``LoneStatement`` is the SQLAlchemy Core statement compiled once by the
  engine's own dialect (the statement stays the one source of its SQL), with
  the column types' bind and result processors, so values are stored and read
  back exactly as SQLAlchemy stores and reads them.
* ``DriverPool`` keeps aiosqlite connections opened with the engine's connect
  arguments and the same PRAGMAs (``engine.SQLITE_PRAGMAS``), in autocommit
  mode: each statement is its own transaction, atomic, and waits on the busy
  timeout like any other. ``Database.run_lone`` serialises writes on the same
  process-wide write lock as every other write.

Postgres, and SQLite in memory (one shared connection), keep SQLAlchemy's path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Delete, Select, Update

_Processor = Callable[[Any], Any] | None
_REQUIRED: Any = object()


@dataclass(frozen=True, slots=True)
class LoneStatement:
    """A statement's SQL for one dialect, its parameters in order and its result columns."""

    sql: str
    #: (name, processor, the driver's value when ``values`` has none): a value the
    #: statement holds itself, such as ``job_id=None``, processed once.
    binds: tuple[tuple[str, _Processor, Any], ...]
    columns: tuple[tuple[str, _Processor], ...]

    @classmethod
    def compile(cls, statement: Select[Any] | Update | Delete, dialect: Dialect) -> LoneStatement:
        compiled = statement.compile(dialect=dialect)
        if compiled.positiontup is None:
            raise ValueError(f"{dialect.name} does not use positional parameters")
        binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                default: Any = _REQUIRED
            else:
                default = bind.effective_value if process is None else process(bind.effective_value)
            binds.append((name, process, default))
        columns = []
        for column in statement.exported_columns:
            if column.key is None:
                raise ValueError("every result column needs a name")
            processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
            columns.append((column.key, processor))
        return cls(compiled.string, tuple(binds), tuple(columns))

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The driver's parameters for ``values`` (bind name → value).

        ``KeyError`` names a parameter that has neither a value nor one of its own.
        """
        return tuple(
            (values[name] if process is None else process(values[name]))
            if default is _REQUIRED or name in values
            else default
            for name, process, default in self.binds
        )

    def rows(self, raw: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
        """Result rows as column key → value, converted as SQLAlchemy converts them."""
        return [
            {
                key: value if process is None else process(value)
                for (key, process), value in zip(self.columns, row, strict=True)
            }
            for row in raw
        ]


class DriverPool:
    """Open aiosqlite connections, reused; at most ``size`` are kept idle.

    A connection that raised is closed rather than reused. ``close`` closes the
    idle ones and any in use once they come back; later statements open new
    connections, as a disposed SQLAlchemy engine does.
    """

    def __init__(self, connect: Callable[[], Awaitable[aiosqlite.Connection]], size: int) -> None:
        self._connect = connect
        self._size = size
        self._idle: list[aiosqlite.Connection] = []
        self._generation = 0

    async def fetchall(self, sql: str, parameters: Sequence[Any]) -> list[Sequence[Any]]:
        """Run ``sql`` as its own transaction and return every row it gives."""
        generation = self._generation
        conn = self._idle.pop() if self._idle else await self._connect()
        try:
            rows = await conn.execute_fetchall(sql, parameters)
        except BaseException:
            await _close_quietly(conn)
            raise
        if generation == self._generation and len(self._idle) < self._size:
            self._idle.append(conn)
        else:
            await _close_quietly(conn)
        return list(rows)

    async def close(self) -> None:
        self._generation += 1
        idle, self._idle = self._idle, []
        for conn in idle:
            await _close_quietly(conn)


async def _close_quietly(conn: aiosqlite.Connection) -> None:
    try:
        await asyncio.shield(conn.close())
    except Exception:  # already gone: nothing left to release
        return
