"""The PasswordHasher contract, over Argon2 and the unit tests' reversible fake."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

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


def test_checks_from_several_threads_at_once_answer_as_alone(hasher: PasswordHasher) -> None:
    # Sign-in runs the hasher in a pool of threads: answers must not mix.
    stored = {f"password {n}": hasher.hash(f"password {n}") for n in range(4)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        right = list(pool.map(lambda p: hasher.verify(stored[p], p), stored))
        wrong = list(pool.map(lambda p: hasher.verify(stored[p], p + "!"), stored))
    assert right == [True] * 4
    assert wrong == [False] * 4
