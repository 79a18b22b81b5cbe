"""Alembic environment.

``migrate.upgrade`` hands over an open connection in
``config.attributes["connection"]`` (Alembic's connection-sharing recipe), so
migrations run inside the caller's transaction and event loop. Without one, as
from the ``alembic`` command line, it connects to ``sqlalchemy.url`` itself.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from reasonflow.adapters.sql.engine import create_engine
from reasonflow.adapters.sql.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def _main() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
    elif url:
        asyncio.run(_run_standalone(url))
    else:
        raise RuntimeError("no connection in config.attributes and no sqlalchemy.url")


_main()
