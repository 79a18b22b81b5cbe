"""The one table from domain errors to HTTP answers."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.types import ExceptionHandlersMap

from reasonflow.adapters.jobs.runner import RunnerStopped
from reasonflow.domain import errors
from reasonflow.domain.accounts import InvalidAccount

log = logging.getLogger("reasonflow.http")

STATUS_OF: dict[type[Exception], int] = {
    errors.EmptyBatch: 400,
    errors.BatchTooLarge: 400,
    errors.DuplicateEmailIds: 400,
    errors.InvalidCursor: 400,
    errors.DraftRequired: 400,
    InvalidAccount: 400,
    errors.InvalidCredentials: 401,
    errors.EmailsNotFound: 404,
    errors.EmailNotFound: 404,
    errors.JobNotFound: 404,
    errors.EmailsConflict: 409,
    errors.InvalidEmailTransition: 409,
    errors.JobConflict: 409,
    errors.EmailTaken: 409,
    errors.IdempotencyKeyReused: 422,
    errors.TooManyActiveJobs: 429,
    errors.RateLimited: 429,
    errors.DeliveryFailed: 502,
}


def error_body(status: int, detail: str, extra: object = None) -> dict[str, object]:
    """Litestar's own error shape, so clients parse one format."""
    body: dict[str, object] = {"status_code": status, "detail": detail}
    if extra is not None:
        body["extra"] = extra
    return body


def domain_error(_: Request[Any, Any, Any], exc: Exception) -> Response[object]:
    assert isinstance(exc, errors.DomainError)
    status = next(code for kind, code in STATUS_OF.items() if isinstance(exc, kind))
    headers = None
    if isinstance(exc, errors.RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    elif status == 429:
        headers = {"Retry-After": "30"}
    return Response(
        error_body(status, exc.message, exc.extra),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[object]:
    return Response(
        error_body(503, "The server is shutting down; try again shortly"),
        status_code=503,
        headers={"Retry-After": "5"},
    )


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[object]:
    # Only the type is logged: messages of driver errors can carry data or secrets.
    log.error(
        "unhandled error method=%s path=%s error=%s",
        request.method,
        request.url.path,
        type(exc).__name__,
    )
    return Response(error_body(500, "Internal Server Error"), status_code=500)


def exception_handlers() -> ExceptionHandlersMap:
    handlers: ExceptionHandlersMap = dict.fromkeys(STATUS_OF, domain_error)
    handlers[RunnerStopped] = unavailable
    handlers[500] = internal_error
    return handlers
