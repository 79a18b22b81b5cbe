"""HS256 JWT access tokens: ``sub`` = user id, ``type`` = access."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import jwt

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, of another type or badly signed."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    value: str
    expires_in: int


class JwtTokens:
    def __init__(self, secret: str, lifetime: timedelta = timedelta(minutes=30)) -> None:
        if len(secret) < 32:
            raise ValueError("the JWT secret must be at least 32 characters")
        self._secret = secret
        self._lifetime = lifetime

    def issue(self, user_id: UUID, now: datetime) -> IssuedToken:
        claims = {
            "sub": str(user_id),
            "type": "access",
            "iat": int(now.timestamp()),
            "exp": int((now + self._lifetime).timestamp()),
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token, int(self._lifetime.total_seconds()))

    def verify(self, token: str) -> UUID:
        """The user id of a valid access token; raises ``InvalidToken`` otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "exp", "type"]},
            )
            if claims["type"] != "access":
                raise InvalidToken("not an access token")
            return UUID(str(claims["sub"]))
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken("invalid token") from exc


def load_or_create_secret(path: Path) -> str:
    """The development secret: generated once, kept (mode 0600) at ``path``."""
    if path.exists():
        secret = path.read_text().strip()
        if len(secret) >= 32:
            return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(secret + "\n")
    return secret
