"""``UserRepository`` over SQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from reasonflow.adapters.sql.engine import Database
from reasonflow.adapters.sql.tables import users as t
from reasonflow.domain.errors import EmailTaken
from reasonflow.domain.model import User
from reasonflow.domain.ports import UserRepository


class SqlUserRepository(UserRepository):
    """Addresses are stored as given; the account service lower-cases them first."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, user: User) -> None:
        try:
            async with self._db.write() as s:
                await s.execute(
                    insert(t).values(
                        id=user.id,
                        email=user.email,
                        password_hash=user.password_hash,
                        created_at=user.created_at,
                    )
                )
        except IntegrityError as exc:
            # The only unique column besides a fresh random id is the address,
            # so a violation here means two registrations raced or repeated.
            raise EmailTaken() from exc

    async def by_email(self, email: str) -> User | None:
        return await self._one(t.c.email == email)

    async def by_id(self, user_id: UUID) -> User | None:
        return await self._one(t.c.id == user_id)

    async def _one(self, where: ColumnElement[bool]) -> User | None:
        async with self._db.read() as s:
            row = (await s.execute(select(t).where(where))).first()
        return None if row is None else _to_user(row)


def _to_user(row: Row[Any]) -> User:
    return User(row.id, row.email, row.password_hash, row.created_at)
