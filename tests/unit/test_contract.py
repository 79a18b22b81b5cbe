"""The contract helper: statuses come from the error table, and the document is finished."""

from __future__ import annotations

from reasonflow.domain import errors
from reasonflow.domain.accounts import InvalidAccount, SignInThrottled
from reasonflow.entrypoints.http.contract import (
    INVALID,
    JSON_BODY,
    SIGNED_IN,
    ErrorBody,
    answers,
    complete,
    status_of,
)
from reasonflow.entrypoints.http.errors import ANSWERS


def test_statuses_are_the_error_tables() -> None:
    for kind, answer in ANSWERS.items():
        assert status_of(kind) == answer.status, kind
    # A subclass answers as the entry it falls under.
    assert status_of(type("SmtpRefused", (errors.DeliveryFailed,), {})) == 502


def test_answers_group_errors_by_status_with_every_reason() -> None:
    specs = answers(SIGNED_IN, JSON_BODY, InvalidAccount, errors.EmailTaken, SignInThrottled)
    assert sorted(specs) == [400, 401, 409, 413, 429]
    assert specs[400].description == f"{INVALID.description}; Invalid account"
    assert specs[409].description == "Email taken"
    assert all(spec.data_container is ErrorBody for spec in specs.values())


def test_a_bare_status_is_described_by_its_phrase() -> None:
    assert answers(504)[504].description == "Gateway Timeout"


def test_an_error_with_a_docstring_is_described_by_it() -> None:
    assert answers(errors.JobConflict)[409].description.startswith("An action the job's current")


def test_complete_adds_headers_and_leaves_the_original_alone() -> None:
    original = {
        "paths": {
            "/x": {"get": {"operationId": "x", "responses": {"401": {}, "429": {}, "200": {}}}}
        },
        "components": {"schemas": {}},
    }
    done = complete(original)
    responses = done["paths"]["/x"]["get"]["responses"]
    assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert responses["429"]["headers"]["Retry-After"]["schema"]["minimum"] == 1
    assert "headers" not in responses["200"]
    assert original["paths"]["/x"]["get"]["responses"]["401"] == {}
    assert done["components"]["schemas"]["ClassifyIn"]["additionalProperties"] is False
