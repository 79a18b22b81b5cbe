"""Migrations: idempotent, and the schema they build is the one the code expects."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from reasonflow.adapters.sql.migrate import current_revision, head_revision, upgrade
from reasonflow.adapters.sql.tables import metadata
from tests.dbs import Sql


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def test_upgrading_twice_is_harmless_and_reaches_head(sql: Sql) -> None:
    await upgrade(sql.db.engine)
    await upgrade(sql.db.engine)

    assert await current_revision(sql.db.engine) == head_revision() is not None


async def test_migrated_schema_matches_the_table_definitions(sql: Sql) -> None:
    async with sql.db.engine.connect() as conn:
        differences = await conn.run_sync(_differences)

    assert differences == []
