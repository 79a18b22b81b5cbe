"""The PasswordHasher contract, over Argon2 and the unit tests' reversible fake."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reasonflow.adapters.auth.passwords import Argon2PasswordHasher
from reasonflow.domain.ports import PasswordHasher
from tests.fakes import FakePasswordHasher

FACTORIES: dict[str, Callable[[], PasswordHasher]] = {
    # The cheapest Argon2 profile: the contract is about answers, not cost.
    "argon2": lambda: Argon2PasswordHasher(time_cost=1, memory_cost=8),
    "fake": FakePasswordHasher,
}


@pytest.fixture(params=sorted(FACTORIES))
def hasher(request: pytest.FixtureRequest) -> PasswordHasher:
    return FACTORIES[request.param]()


@pytest.mark.parametrize("password", ["correct horse battery", "pässwörd ✓ 12345", "x" * 256])
def test_a_hash_verifies_its_own_password_only(hasher: PasswordHasher, password: str) -> None:
    stored = hasher.hash(password)

    assert stored != password
    assert hasher.verify(stored, password)
    assert not hasher.verify(stored, password + " ")
    assert not hasher.verify(stored, password[:-1])


def test_a_malformed_hash_verifies_nothing(hasher: PasswordHasher) -> None:
    assert not hasher.verify("not a hash", "not a hash")
    assert not hasher.verify("", "")
