"""The one table from domain errors to HTTP answers (``entrypoints/http/errors.py``)."""

from __future__ import annotations

import uuid
from typing import Any, cast

import pytest

from reasonflow.domain import accounts, errors
from reasonflow.domain.model import EmailStatus
from reasonflow.entrypoints.http.errors import ANSWERS, domain_error


def every_domain_error() -> list[type[errors.DomainError]]:
    found: list[type[errors.DomainError]] = []
    pending = [errors.DomainError]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub.__module__.startswith("reasonflow.domain"):
                found.append(sub)
            pending.append(sub)
    return found


@pytest.mark.parametrize("kind", every_domain_error(), ids=lambda k: k.__name__)
def test_every_domain_error_has_an_answer_in_the_table(kind: type[errors.DomainError]) -> None:
    assert any(issubclass(kind, mapped) for mapped in ANSWERS), f"{kind.__name__} has no status"


@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (errors.UnsupportedUpload(), 415, None),
        (errors.TooManyActiveJobs(10), 429, "30"),
        (errors.RateLimited(2.2), 429, "3"),
        (errors.ServiceUnavailable(), 503, "5"),
        (errors.DatabaseUnavailable(), 503, "5"),
        (errors.EmailsConflict({uuid.UUID(int=1): EmailStatus.SENT}), 409, None),
        (accounts.InvalidAccount("email must be a valid address"), 400, None),
    ],
)
def test_status_and_retry_after_come_from_the_table(
    error: errors.DomainError, status: int, retry_after: str | None
) -> None:
    response = domain_error(cast(Any, None), error)

    assert response.status_code == status
    assert (response.headers or {}).get("Retry-After") == retry_after
    assert cast(dict[str, object], response.content)["detail"] == error.message
