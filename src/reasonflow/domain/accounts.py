"""Accounts: registration and password sign-in. Tokens are the HTTP layer's concern."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar

from reasonflow.domain.errors import DomainError, InvalidCredentials
from reasonflow.domain.model import User
from reasonflow.domain.ports import Clock, PasswordHasher, UserRepository

T = TypeVar("T")

MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_ADDRESS = 254


class InvalidAccount(DomainError):
    pass


def normalise_address(address: str) -> str:
    address = address.strip().lower()
    local, at, domain = address.partition("@")
    if not local or not at or "." not in domain or " " in address or len(address) > MAX_ADDRESS:
        raise InvalidAccount("email must be a valid address such as ada@example.com")
    return address


class SignInThrottled(DomainError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("Too many failed sign-ins; wait before trying again")
        self.retry_after = max(1, int(retry_after + 0.999))


@dataclass(frozen=True, slots=True)
class ThrottleLimits:
    """Failed sign-ins allowed per window: per (account, client) pair and per client."""

    per_pair: int = 5
    per_client: int = 20
    window_seconds: float = 60.0


class SignInThrottle(Protocol):
    """Counts failed sign-ins per (account, client address) pair and per client.

    A pair or a client at its limit is refused, even with the right password,
    until its oldest failure leaves the window; a success clears the pair.
    """

    async def check(self, account: str, client: str) -> None:
        """Raise ``SignInThrottled`` while the pair or the client is at its limit."""
        ...

    async def failed(self, account: str, client: str) -> None: ...

    async def succeeded(self, account: str, client: str) -> None: ...


class AccountService:
    def __init__(
        self,
        users: UserRepository,
        hasher: PasswordHasher,
        clock: Clock,
        throttle: SignInThrottle,
        hash_threads: int = 1,
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._clock = clock
        self._decoy: str | None = None
        self._throttle = throttle
        # A small bounded pool, not the loop's default one: a burst of sign-ins
        # then takes at most ``hash_threads`` cores, and the event loop keeps one.
        self._hashing = ThreadPoolExecutor(max_workers=hash_threads, thread_name_prefix="argon2")

    def start(self) -> None:
        """Compute the decoy hash now, so the first unknown sign-in is not the slow one."""
        self._decoy_hash()

    def _decoy_hash(self) -> str:
        # Verifying against a real hash when the user is unknown keeps the
        # answer time the same, so sign-in does not reveal who has an account.
        if self._decoy is None:
            self._decoy = self._hasher.hash("decoy-password-never-matches")
        return self._decoy

    async def _in_pool(self, call: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._hashing, call, *args)

    async def register(self, address: str, password: str) -> User:
        address = normalise_address(address)
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidAccount(
                f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long"
            )
        # Argon2 costs tens of milliseconds of CPU: off the event loop.
        password_hash = await self._in_pool(self._hasher.hash, password)
        user = User(uuid.uuid4(), address, password_hash, self._clock.now())
        await self._users.add(user)
        return user

    async def authenticate(self, address: str, password: str, client: str = "") -> User:
        account = address.strip().lower()
        await self._throttle.check(account, client)
        user = await self._users.by_email(account)
        # The unknown account verifies against the decoy, in the thread too,
        # so both answers take the same time and neither blocks the loop.
        stored = self._decoy_hash() if user is None else user.password_hash
        matches = await self._in_pool(self._hasher.verify, stored, password)
        if user is None or not matches:
            await self._throttle.failed(account, client)
            raise InvalidCredentials()
        await self._throttle.succeeded(account, client)
        return user
