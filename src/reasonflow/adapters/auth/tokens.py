"""HS256 JWT access tokens: ``sub`` = user id, ``type`` = access.

A client sends the same token with every request (the UI polls a job's
status every 2 s), and verifying it with PyJWT costs more CPU than reading
the job. So each verified token is remembered, with its user and expiry,
in a bounded LRU map: a token seen again is answered from it until its
``exp`` passes. Only tokens that verified are kept, so nobody without the
secret can put anything in the map.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import jwt

from reasonflow.domain.errors import InvalidToken
from reasonflow.domain.ports import AccessTokens, IssuedToken

ALGORITHM = "HS256"
#: Verified tokens remembered per process (a few hundred bytes each).
VERIFIED_CACHE_SIZE = 10_000


class JwtTokens(AccessTokens):
    """Signs with ``secret``, or with the development secret kept in ``secret_file``,
    which ``start`` reads (or creates) so that building the app touches no file."""

    def __init__(
        self,
        secret: str | None = None,
        lifetime: timedelta = timedelta(minutes=30),
        *,
        secret_file: Path | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if secret is None and secret_file is None:
            raise ValueError("give a JWT secret or a file to keep one in")
        if secret is not None and len(secret) < 32:
            raise ValueError("the JWT secret must be at least 32 characters")
        self._secret = secret
        self._secret_file = secret_file
        self._lifetime = lifetime
        self._wall_clock = wall_clock
        self._verified: OrderedDict[str, tuple[UUID, float]] = OrderedDict()

    async def start(self) -> None:
        if self._secret is None and self._secret_file is not None:
            self._secret = load_or_create_secret(self._secret_file)

    async def stop(self) -> None:
        return None

    def _key(self) -> str:
        if self._secret is None:
            raise RuntimeError("JwtTokens.start() was not called")
        return self._secret

    def issue(self, user_id: UUID, now: datetime) -> IssuedToken:
        claims = {
            "sub": str(user_id),
            "type": "access",
            "iat": int(now.timestamp()),
            "exp": int((now + self._lifetime).timestamp()),
        }
        token = jwt.encode(claims, self._key(), algorithm=ALGORITHM)
        return IssuedToken(token, int(self._lifetime.total_seconds()))

    def verify(self, token: str) -> UUID:
        known = self._verified.get(token)
        if known is not None:
            user_id, expires = known
            if self._wall_clock() < expires:
                self._verified.move_to_end(token)
                return user_id
            del self._verified[token]
        user_id, expires = self._decode(token)
        self._verified[token] = (user_id, expires)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return user_id

    def _decode(self, token: str) -> tuple[UUID, float]:
        try:
            claims = jwt.decode(
                token,
                self._key(),
                algorithms=[ALGORITHM],
                # The expiry is checked here, on the same clock as the map's.
                options={"require": ["sub", "exp", "type"], "verify_exp": False},
            )
            expires = float(claims["exp"])
            if claims["type"] != "access" or expires <= self._wall_clock():
                raise InvalidToken()
            return UUID(str(claims["sub"])), expires
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken() from exc


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
