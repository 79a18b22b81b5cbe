"""The UserRepository contract, run against SQLite, Postgres and the unit-test fake alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from reasonflow.domain.errors import EmailTaken
from reasonflow.domain.model import User
from tests.contract.conftest import Backend


def user(address: str = "ada@example.com") -> User:
    tokyo = timezone(timedelta(hours=9))
    return User(
        uuid.uuid4(), address, "$argon2id$v=19$hash", datetime(2024, 5, 1, 21, tzinfo=tokyo)
    )


async def test_a_user_is_found_by_address_and_by_id(repo: Backend) -> None:
    ada = user()
    await repo.users.add(ada)

    assert await repo.users.by_email("ada@example.com") == ada
    assert await repo.users.by_id(ada.id) == ada


async def test_created_at_comes_back_aware_utc(repo: Backend) -> None:
    ada = user()
    await repo.users.add(ada)

    found = await repo.users.by_id(ada.id)

    assert found is not None
    assert found.created_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert found.created_at.utcoffset() == timedelta(0)


async def test_unknown_users_are_none(repo: Backend) -> None:
    assert await repo.users.by_email("nobody@example.com") is None
    assert await repo.users.by_id(uuid.uuid4()) is None


async def test_a_taken_address_is_a_domain_error_and_changes_nothing(repo: Backend) -> None:
    first = user()
    await repo.users.add(first)

    with pytest.raises(EmailTaken):
        await repo.users.add(user())

    assert await repo.users.by_email("ada@example.com") == first
    # The failed insert left no broken transaction behind.
    await repo.users.add(user("grace@example.com"))
    assert await repo.users.by_email("grace@example.com") is not None
