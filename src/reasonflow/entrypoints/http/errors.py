"""The one table from domain errors to HTTP answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from litestar import MediaType, Request, Response
from litestar.types import ExceptionHandlersMap

from reasonflow.domain import errors
from reasonflow.domain.accounts import InvalidAccount, SignInThrottled
from reasonflow.entrypoints.http.request_log import request_id_of

log = logging.getLogger("reasonflow.http")


@dataclass(frozen=True, slots=True)
class Answer:
    """How the API answers an error: its status and, where a retry helps, when."""

    status: int
    #: ``Retry-After`` seconds: a number, or the error's own ``retry_after``
    #: (``RateLimited`` knows when the next submission will be allowed).
    retry_after: int | Literal["from error"] | None = None


#: The one table from error types to answers; the first matching type wins.
ANSWERS: dict[type[Exception], Answer] = {
    errors.EmptyBatch: Answer(400),
    errors.BatchTooLarge: Answer(400),
    errors.DuplicateEmailIds: Answer(400),
    errors.InvalidCursor: Answer(400),
    errors.DraftRequired: Answer(400),
    InvalidAccount: Answer(400),
    errors.InvalidCredentials: Answer(401),
    errors.InvalidToken: Answer(401),
    errors.EmailsNotFound: Answer(404),
    errors.EmailNotFound: Answer(404),
    errors.JobNotFound: Answer(404),
    errors.EmailsConflict: Answer(409),
    errors.InvalidEmailTransition: Answer(409),
    errors.JobConflict: Answer(409),
    errors.EmailTaken: Answer(409),
    errors.BodyTooLarge: Answer(413),
    errors.UnsupportedUpload: Answer(415),
    errors.IdempotencyKeyReused: Answer(422),
    # A guess: jobs take seconds to minutes, and the client has nothing better.
    errors.TooManyActiveJobs: Answer(429, retry_after=30),
    errors.RateLimited: Answer(429, retry_after="from error"),
    SignInThrottled: Answer(429, retry_after="from error"),
    errors.DeliveryFailed: Answer(502),
    errors.ServiceUnavailable: Answer(503, retry_after=5),
    errors.DatabaseUnavailable: Answer(503, retry_after=5),
}


def error_body(status: int, detail: str, extra: object = None) -> dict[str, object]:
    """Litestar's own error shape, so clients parse one format."""
    body: dict[str, object] = {"status_code": status, "detail": detail}
    if extra is not None:
        body["extra"] = extra
    return body


def answer_for(exc: errors.DomainError) -> Answer:
    return next(answer for kind, answer in ANSWERS.items() if isinstance(exc, kind))


def domain_error(_: Request[Any, Any, Any], exc: Exception) -> Response[object]:
    assert isinstance(exc, errors.DomainError)
    answer = answer_for(exc)
    retry_after = answer.retry_after
    if retry_after == "from error":
        retry_after = int(getattr(exc, "retry_after"))  # noqa: B009 - the table promises it
    return Response(
        error_body(answer.status, exc.message, exc.extra),
        status_code=answer.status,
        media_type=MediaType.JSON,
        headers=None if retry_after is None else {"Retry-After": str(retry_after)},
    )


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[object]:
    # Only the type is logged: messages of driver errors can carry data or
    # secrets. The route template, not the path, and the request id to find
    # the request's own line.
    log.error(
        "unhandled error method=%s route=%s request_id=%s error=%s",
        request.method,
        request.scope.get("path_template") or "-",
        request_id_of(request.scope),
        type(exc).__name__,
    )
    return Response(error_body(500, "Internal Server Error"), status_code=500)


def exception_handlers(body_limit: int) -> ExceptionHandlersMap:
    """``body_limit``: the JSON body limit Litestar enforces, named in its 413."""

    def too_large(request: Request[Any, Any, Any], exc: Exception) -> Response[object]:
        return domain_error(request, errors.BodyTooLarge(body_limit))

    handlers: ExceptionHandlersMap = dict.fromkeys(ANSWERS, domain_error)
    handlers[413] = too_large
    handlers[500] = internal_error
    return handlers
