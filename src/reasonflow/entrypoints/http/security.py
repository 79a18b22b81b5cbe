"""Bearer-token authentication for the ``/api/v1/emails`` routes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from reasonflow.domain.errors import InvalidToken
from reasonflow.domain.ports import AccessTokens
from reasonflow.entrypoints.http.errors import CHALLENGE


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("Missing bearer token", headers=CHALLENGE)
        tokens: AccessTokens = connection.app.state.services.tokens
        try:
            user_id = tokens.verify(token.strip())
        except InvalidToken as exc:
            raise NotAuthorizedException("Invalid or expired token", headers=CHALLENGE) from exc
        return AuthenticationResult(user=user_id, auth=token)


def current_user(request: ASGIConnection[Any, UUID, Any, Any]) -> UUID:
    """The authenticated user's id (the middleware guarantees one)."""
    return request.user
