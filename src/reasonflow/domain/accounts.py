"""Accounts: registration and password sign-in. Tokens are the HTTP layer's concern."""

from __future__ import annotations

import uuid

from reasonflow.domain.errors import DomainError, InvalidCredentials
from reasonflow.domain.model import User
from reasonflow.domain.ports import Clock, PasswordHasher, UserRepository

MIN_PASSWORD = 8
MAX_PASSWORD = 256


class InvalidAccount(DomainError):
    pass


def normalise_address(address: str) -> str:
    address = address.strip().lower()
    local, at, domain = address.partition("@")
    if not local or not at or "." not in domain or " " in address or len(address) > 254:
        raise InvalidAccount("email must be a valid address such as ada@example.com")
    return address


class AccountService:
    def __init__(self, users: UserRepository, hasher: PasswordHasher, clock: Clock) -> None:
        self._users = users
        self._hasher = hasher
        self._clock = clock
        self._decoy: str | None = None

    def start(self) -> None:
        """Compute the decoy hash now, so the first unknown sign-in is not the slow one."""
        self._decoy_hash()

    def _decoy_hash(self) -> str:
        # Verifying against a real hash when the user is unknown keeps the
        # answer time the same, so sign-in does not reveal who has an account.
        if self._decoy is None:
            self._decoy = self._hasher.hash("decoy-password-never-matches")
        return self._decoy

    async def register(self, address: str, password: str) -> User:
        address = normalise_address(address)
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidAccount(
                f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long"
            )
        user = User(uuid.uuid4(), address, self._hasher.hash(password), self._clock.now())
        await self._users.add(user)
        return user

    async def authenticate(self, address: str, password: str) -> User:
        user = await self._users.by_email(address.strip().lower())
        if user is None:
            self._hasher.verify(self._decoy_hash(), password)
            raise InvalidCredentials()
        if not self._hasher.verify(user.password_hash, password):
            raise InvalidCredentials()
        return user
