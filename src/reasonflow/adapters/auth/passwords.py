"""Argon2id password hashes."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from reasonflow.domain.ports import PasswordHasher


class Argon2PasswordHasher(PasswordHasher):
    def __init__(self, time_cost: int = 2, memory_cost: int = 19_456) -> None:
        # OWASP's minimum argon2id profile: 19 MiB, 2 iterations, 1 lane.
        self._argon = _Argon2(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)

    def hash(self, password: str) -> str:
        return self._argon.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
