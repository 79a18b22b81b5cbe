"""Accounts: registration and password sign-in. Tokens are the HTTP layer's concern."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

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


class SignInThrottled(DomainError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("Too many failed sign-ins; wait before trying again")
        self.retry_after = max(1, int(retry_after + 0.999))


@dataclass(frozen=True, slots=True)
class ThrottleLimits:
    per_pair: int = 5
    per_address: int = 20
    window_seconds: float = 60.0


class MemorySignInThrottle:
    """Failed sign-ins counted in one process, per (account, client) and per client.

    A pair (or a client) at its limit is refused, even with the right password,
    until its oldest failure leaves the window.
    """

    def __init__(self, clock: Clock, limits: ThrottleLimits | None = None) -> None:
        self._clock = clock
        self._limits = limits or ThrottleLimits()
        self._pairs: dict[tuple[str, str], deque[datetime]] = {}
        self._clients: dict[str, deque[datetime]] = {}

    def _live(self, failures: deque[datetime] | None, now: datetime) -> deque[datetime] | None:
        if failures is None:
            return None
        horizon = now - timedelta(seconds=self._limits.window_seconds)
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures

    def check(self, account: str, client: str) -> None:
        now = self._clock.now()
        window = self._limits.window_seconds
        for failures, limit in (
            (self._live(self._pairs.get((account, client)), now), self._limits.per_pair),
            (self._live(self._clients.get(client), now), self._limits.per_address),
        ):
            if failures is not None and len(failures) >= limit:
                wait = window - (now - failures[0]).total_seconds()
                raise SignInThrottled(wait)

    def failed(self, account: str, client: str) -> None:
        now = self._clock.now()
        self._pairs.setdefault((account, client), deque()).append(now)
        self._clients.setdefault(client, deque()).append(now)

    def succeeded(self, account: str, client: str) -> None:
        self._pairs.pop((account, client), None)


class AccountService:
    def __init__(
        self,
        users: UserRepository,
        hasher: PasswordHasher,
        clock: Clock,
        throttle: MemorySignInThrottle | None = None,
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._clock = clock
        self._decoy: str | None = None
        self._throttle = throttle or MemorySignInThrottle(clock)

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
        # Argon2 costs tens of milliseconds of CPU: off the event loop.
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        user = User(uuid.uuid4(), address, password_hash, self._clock.now())
        await self._users.add(user)
        return user

    async def authenticate(self, address: str, password: str, client: str = "") -> User:
        account = address.strip().lower()
        self._throttle.check(account, client)
        user = await self._users.by_email(account)
        # The unknown account verifies against the decoy, in the thread too,
        # so both answers take the same time and neither blocks the loop.
        stored = self._decoy_hash() if user is None else user.password_hash
        matches = await asyncio.to_thread(self._hasher.verify, stored, password)
        if user is None or not matches:
            self._throttle.failed(account, client)
            raise InvalidCredentials()
        self._throttle.succeeded(account, client)
        return user
