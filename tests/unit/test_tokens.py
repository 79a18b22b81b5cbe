"""Access tokens: what a verified token is good for, and for how long."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from reasonflow.adapters.auth.tokens import JwtTokens
from reasonflow.domain.errors import InvalidToken

SECRET = "unit-test-secret-" + "y" * 32
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class WallClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at.timestamp()


def tokens(clock: WallClock) -> JwtTokens:
    return JwtTokens(SECRET, timedelta(minutes=30), wall_clock=clock)


def test_a_token_is_good_until_it_expires_however_often_it_is_shown() -> None:
    clock = WallClock(T0)
    issuer = tokens(clock)
    user = uuid.uuid4()
    token = issuer.issue(user, T0).value
    for minutes in (0, 1, 29):
        clock.at = T0 + timedelta(minutes=minutes)
        assert issuer.verify(token) == user
        assert issuer.verify(token) == user
    clock.at = T0 + timedelta(minutes=30)
    with pytest.raises(InvalidToken):
        issuer.verify(token)
    with pytest.raises(InvalidToken):
        issuer.verify(token)


def test_an_expired_token_is_refused_the_first_time_it_is_shown() -> None:
    clock = WallClock(T0 + timedelta(hours=1))
    token = tokens(clock).issue(uuid.uuid4(), T0).value
    with pytest.raises(InvalidToken):
        tokens(clock).verify(token)


def test_a_tampered_or_foreign_token_is_refused_every_time() -> None:
    clock = WallClock(T0)
    issuer = tokens(clock)
    good = issuer.issue(uuid.uuid4(), T0).value
    header, payload, signature = good.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}AA"
    foreign = jwt.encode(
        {"sub": str(uuid.uuid4()), "type": "access", "exp": int(T0.timestamp()) + 60},
        "another-secret-" + "z" * 32,
        algorithm="HS256",
    )
    refresh = jwt.encode(
        {"sub": str(uuid.uuid4()), "type": "refresh", "exp": int(T0.timestamp()) + 60},
        SECRET,
        algorithm="HS256",
    )
    for bad in (tampered, foreign, refresh, "not-a-token", ""):
        for _ in range(2):
            with pytest.raises(InvalidToken):
                issuer.verify(bad)
    assert issuer.verify(good)


def test_a_token_with_a_malformed_expiry_is_refused() -> None:
    clock = WallClock(T0)
    odd = jwt.encode({"sub": str(uuid.uuid4()), "type": "access", "exp": "soon"}, SECRET)
    with pytest.raises(InvalidToken):
        tokens(clock).verify(odd)
