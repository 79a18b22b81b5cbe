"""AccountService: registration and password sign-in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasonflow.domain.accounts import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    AccountService,
    InvalidAccount,
    normalise_address,
)
from reasonflow.domain.errors import EmailTaken, InvalidCredentials
from tests.fakes import FakeClock, FakePasswordHasher, FakeUserRepository, fake_services

PASSWORD = "correct horse battery"


def build() -> tuple[AccountService, FakeUserRepository, FakePasswordHasher, FakeClock]:
    users, hasher, clock = FakeUserRepository(), FakePasswordHasher(), FakeClock()
    services, _ = fake_services(clock, users=users, hasher=hasher)
    return services.accounts, users, hasher, clock


async def test_register_stores_a_normalised_address_and_only_a_hash() -> None:
    accounts, users, _, clock = build()
    user = await accounts.register("  Ada.Lovelace@Example.COM ", PASSWORD)
    assert user.email == "ada.lovelace@example.com"
    assert user.password_hash == FakePasswordHasher.PREFIX + PASSWORD
    assert user.created_at == clock.now()
    assert await users.by_id(user.id) == user


async def test_the_same_address_in_another_case_is_taken() -> None:
    accounts, users, _, _ = build()
    await accounts.register("ada@example.com", PASSWORD)
    with pytest.raises(EmailTaken):
        await accounts.register(" ADA@example.com", "another password")
    assert len(users.users) == 1


@pytest.mark.parametrize(
    "address",
    ["", "   ", "ada", "ada@", "@example.com", "ada@example", "a da@example.com", "ada@@"],
)
async def test_a_malformed_address_is_refused(address: str) -> None:
    accounts, users, _, _ = build()
    with pytest.raises(InvalidAccount, match="valid address"):
        await accounts.register(address, PASSWORD)
    assert users.users == {}


def test_an_address_longer_than_254_characters_is_refused() -> None:
    local = "a" * 64
    fits = f"{local}@{'b' * (254 - 64 - 1 - 4)}.com"
    assert normalise_address(fits) == fits
    with pytest.raises(InvalidAccount):
        normalise_address("x" + fits)


@pytest.mark.parametrize("length", [MIN_PASSWORD, MIN_PASSWORD + 1, MAX_PASSWORD])
async def test_passwords_within_bounds_are_accepted(length: int) -> None:
    accounts, _, _, _ = build()
    user = await accounts.register("ada@example.com", "p" * length)
    assert (await accounts.authenticate("ada@example.com", "p" * length)).id == user.id


@pytest.mark.parametrize("length", [0, MIN_PASSWORD - 1, MAX_PASSWORD + 1])
async def test_passwords_out_of_bounds_are_refused(length: int) -> None:
    accounts, users, _, _ = build()
    with pytest.raises(InvalidAccount, match=f"{MIN_PASSWORD} to {MAX_PASSWORD}"):
        await accounts.register("ada@example.com", "p" * length)
    assert users.users == {}


def test_password_bounds() -> None:
    assert (MIN_PASSWORD, MAX_PASSWORD) == (8, 256)


async def test_sign_in_ignores_address_case_and_surrounding_spaces() -> None:
    accounts, _, _, _ = build()
    user = await accounts.register("ada@example.com", PASSWORD)
    assert await accounts.authenticate("  ADA@Example.com ", PASSWORD) == user


async def test_a_wrong_password_and_an_unknown_user_are_the_same_error() -> None:
    accounts, _, hasher, _ = build()
    await accounts.register("ada@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials) as wrong:
        await accounts.authenticate("ada@example.com", PASSWORD + "!")
    checks = hasher.verify_calls
    with pytest.raises(InvalidCredentials) as unknown:
        await accounts.authenticate("bob@example.com", PASSWORD)
    assert wrong.value.message == unknown.value.message
    # An unknown user still costs one hash check, so timing does not tell them apart.
    assert hasher.verify_calls == checks + 1


@given(st.emails(), st.sampled_from(["", " ", "\t"]))
def test_any_valid_address_is_accepted_lowercased(address: str, pad: str) -> None:
    normalised = normalise_address(pad + address.upper() + pad)
    assert normalised == address.lower()
    assert normalise_address(normalised) == normalised
