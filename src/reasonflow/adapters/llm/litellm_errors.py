"""From LiteLLM's exceptions to the short reasons a user reads (DESIGN §4).

The lean OpenAI-compatible client (``openai_http``) maps its HTTP statuses
through ``failure_of_status``, so both paths give the same reasons. A reason
never carries provider text, a stack trace or a credential: it is one
of the fixed phrases below. Whether a failure is worth another attempt, and
how long the provider asked us to wait (``Retry-After``), is decided here too.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

RATE_LIMITED = "API rate limit exceeded"
TIMED_OUT = "provider timed out"
BAD_CREDENTIALS = "provider rejected the credentials"
REJECTED = "provider rejected the request"
UNAVAILABLE = "provider unavailable"
INVALID_ANSWER = "provider returned an invalid answer"
UNEXPECTED = "unexpected provider error"


@dataclass(frozen=True, slots=True)
class Failure:
    reason: str
    retryable: bool = False
    fatal: bool = False
    #: Seconds the provider asked us to wait (``Retry-After``), if it said.
    retry_after: float | None = None


def failure_of(exc: BaseException, litellm: Any) -> Failure:
    """Classify one failed call. ``litellm`` is the loaded module (for its exception types)."""
    x = litellm.exceptions
    if isinstance(exc, x.Timeout | TimeoutError):
        return Failure(TIMED_OUT, retryable=True)
    if isinstance(exc, x.RateLimitError):
        return Failure(RATE_LIMITED, retryable=True, retry_after=retry_after(exc))
    if isinstance(exc, x.AuthenticationError | x.PermissionDeniedError):
        # No later call with these credentials can succeed: stop the job.
        return Failure(BAD_CREDENTIALS, fatal=True)
    if isinstance(exc, x.BadRequestError | x.NotFoundError | x.UnprocessableEntityError):
        return Failure(REJECTED)
    if _is_unreadable_body(exc):
        return Failure(INVALID_ANSWER)
    if isinstance(exc, x.ServiceUnavailableError):
        return Failure(UNAVAILABLE, retryable=True, retry_after=retry_after(exc))
    if isinstance(exc, x.InternalServerError | x.BadGatewayError | x.APIConnectionError):
        return Failure(UNAVAILABLE, retryable=True)
    return failure_of_status(exc)


def failure_of_status(exc: BaseException) -> Failure:
    """By the HTTP status an exception carries (``status_code``): exceptions outside
    LiteLLM's named types, and every HTTP error of the lean OpenAI-compatible client."""
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        return Failure(UNEXPECTED)
    if status == 429:
        return Failure(RATE_LIMITED, retryable=True, retry_after=retry_after(exc))
    if status in (401, 403):
        return Failure(BAD_CREDENTIALS, fatal=True)
    if status == 408:
        return Failure(TIMED_OUT, retryable=True)
    if 400 <= status < 500:
        return Failure(REJECTED)
    if status >= 500:
        return Failure(UNAVAILABLE, retryable=True, retry_after=retry_after(exc))
    return Failure(UNEXPECTED)


def _is_unreadable_body(exc: BaseException) -> bool:
    """A 200 whose body is not JSON: LiteLLM reports it as a server error, but the
    provider did answer, with something we cannot read."""
    seen: BaseException | None = exc.__context__
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, json.JSONDecodeError):
            return True
        seen = seen.__context__
    return False


def retry_after(exc: BaseException) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    if not headers:
        return None
    try:
        lowered = {str(k).lower(): str(v).strip() for k, v in headers.items()}
    except (AttributeError, TypeError):
        return None
    if (millis := _number(lowered.get("retry-after-ms"))) is not None:
        return millis / 1000
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    if (seconds := _number(raw)) is not None:
        return seconds
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
