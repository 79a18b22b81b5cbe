"""The UserRepository contract, run against SQLite and Postgres alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from reasonflow.domain.errors import EmailTaken
from reasonflow.domain.model import User
from tests.dbs import Sql


def user(address: str = "ada@example.com") -> User:
    tokyo = timezone(timedelta(hours=9))
    return User(
        uuid.uuid4(), address, "$argon2id$v=19$hash", datetime(2024, 5, 1, 21, tzinfo=tokyo)
    )


async def test_a_user_is_found_by_address_and_by_id(sql: Sql) -> None:
    ada = user()
    await sql.users.add(ada)

    assert await sql.users.by_email("ada@example.com") == ada
    assert await sql.users.by_id(ada.id) == ada


async def test_created_at_comes_back_aware_utc(sql: Sql) -> None:
    ada = user()
    await sql.users.add(ada)

    found = await sql.users.by_id(ada.id)

    assert found is not None
    assert found.created_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert found.created_at.utcoffset() == timedelta(0)


async def test_unknown_users_are_none(sql: Sql) -> None:
    assert await sql.users.by_email("nobody@example.com") is None
    assert await sql.users.by_id(uuid.uuid4()) is None


async def test_a_taken_address_is_a_domain_error_and_changes_nothing(sql: Sql) -> None:
    first = user()
    await sql.users.add(first)

    with pytest.raises(EmailTaken):
        await sql.users.add(user())

    assert await sql.users.by_email("ada@example.com") == first
    # The failed insert left no broken transaction behind.
    await sql.users.add(user("grace@example.com"))
    assert await sql.users.by_email("grace@example.com") is not None
