"""Redis failures as the domain's ``ServiceUnavailable`` (an HTTP 503 with a
clear message), so a store that is away for a moment never looks like a bug."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from redis.exceptions import RedisError

from reasonflow.domain.errors import ServiceUnavailable

P = ParamSpec("P")
R = TypeVar("R")

UNAVAILABLE = "The job service is unavailable right now; try again shortly"


def unavailable_when_down(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Turn a Redis connection or timeout error raised by ``method`` into
    ``ServiceUnavailable``; the driver's text (addresses) stays out."""

    @functools.wraps(method)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except (RedisError, OSError):
            raise ServiceUnavailable(UNAVAILABLE) from None

    return guarded
