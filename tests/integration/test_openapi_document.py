"""The OpenAPI document at /schema/openapi.json: names, answers and request rules."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from reasonflow.domain import errors
from reasonflow.domain.accounts import SignInThrottled
from reasonflow.entrypoints.http.errors import ANSWERS
from tests.conftest import Api, AppFactory, sign_in
from tests.dbs import create_postgres_database, drop_postgres_database

BATCH = "/api/v1/emails/batch"
#: (method, path) -> (operationId, every status it documents)
OPERATIONS: dict[tuple[str, str], tuple[str, set[int]]] = {
    ("post", "/api/v1/auth/register"): ("register", {201, 400, 409, 413, 503}),
    ("post", "/api/v1/auth/login"): ("signIn", {200, 400, 401, 413, 429, 503}),
    ("post", "/api/v1/emails"): ("createEmail", {201, 400, 401, 413, 503}),
    ("get", "/api/v1/emails"): ("listEmails", {200, 400, 401, 503}),
    ("post", "/api/v1/emails/import"): ("importEmails", {200, 401, 413, 415, 503}),
    ("get", "/api/v1/emails/{email_id}"): ("getEmail", {200, 400, 401, 404, 503}),
    ("post", "/api/v1/emails/{email_id}/approve"): (
        "approveEmail",
        {200, 400, 401, 404, 409, 413, 503},
    ),
    ("post", "/api/v1/emails/{email_id}/reject"): ("rejectEmail", {200, 400, 401, 404, 409, 503}),
    ("post", "/api/v1/emails/{email_id}/send"): ("sendEmail", {200, 400, 401, 404, 409, 503}),
    ("post", f"{BATCH}/classify"): (
        "classifyBatch",
        {202, 400, 401, 404, 413, 422, 429, 503},
    ),
    ("post", f"{BATCH}/process"): (
        "processBatch",
        {202, 400, 401, 404, 409, 413, 422, 429, 503},
    ),
    ("post", f"{BATCH}/classify/estimate"): (
        "estimateClassifyBatch",
        {200, 400, 401, 404, 413, 503},
    ),
    ("post", f"{BATCH}/process/estimate"): (
        "estimateProcessBatch",
        {200, 400, 401, 404, 409, 413, 503},
    ),
    ("get", f"{BATCH}/status/{{job_id}}"): ("getBatchStatus", {200, 400, 401, 404, 503}),
    ("get", f"{BATCH}/status/{{job_id}}/stream"): (
        "streamBatchStatus",
        {200, 400, 401, 404, 503},
    ),
    ("get", f"{BATCH}/jobs"): ("listBatchJobs", {200, 400, 401, 503}),
    ("post", f"{BATCH}/{{job_id}}/cancel"): ("cancelBatch", {202, 400, 401, 404, 409, 503}),
    ("post", f"{BATCH}/{{job_id}}/retry"): (
        "retryBatch",
        {202, 400, 401, 404, 409, 429, 503},
    ),
    ("get", "/health"): ("health", {200}),
    ("get", "/ready"): ("ready", {200, 503}),
    ("get", "/metrics"): ("metrics", {200}),
}
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture
async def document(client: AsyncTestClient[Any]) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    }


async def test_every_route_has_its_readable_id_and_documents_every_status(
    document: dict[str, Any],
) -> None:
    found = {
        key: (op["operationId"], {int(s) for s in op["responses"]})
        for key, op in operations(document).items()
    }
    assert found == OPERATIONS


async def test_every_error_answer_has_the_error_body_and_its_headers(
    document: dict[str, Any],
) -> None:
    for (method, path), operation in operations(document).items():
        for status, response in operation["responses"].items():
            if int(status) < 400 or path == "/ready":
                continue
            where = f"{method} {path} {status}"
            assert response["content"]["application/json"]["schema"] == ERROR_BODY, where
            if status == "401":
                assert response["headers"]["WWW-Authenticate"]["required"] is True, where
            if status == "429":
                assert response["headers"]["Retry-After"]["required"] is True, where
    body = document["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["status_code", "detail"]
    assert body["properties"]["extra"]["anyOf"][0] == {"type": "object"}


async def test_sign_in_documents_its_throttle(document: dict[str, Any]) -> None:
    login = document["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"]
    assert "Sign in throttled" in login["description"]
    assert ANSWERS[SignInThrottled].status == 429


async def test_request_bodies_state_what_the_server_enforces(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("Registration", "Credentials", "EmailIn", "ApproveIn", "ClassifyIn", "ProcessIn"):
        assert schemas[name]["additionalProperties"] is False, name
    classify = schemas["ClassifyIn"]["properties"]["email_ids"]
    assert (classify["minItems"], classify["maxItems"], classify["uniqueItems"]) == (1, 100, True)
    assert classify["items"] == {"type": "string", "format": "uuid"}
    assert schemas["ProcessIn"]["properties"]["email_ids"]["maxItems"] == 50
    registration = schemas["Registration"]["properties"]
    assert registration["password"]["minLength"] == 8
    assert re.fullmatch(registration["email"]["pattern"], "ada@example.com")
    assert not re.fullmatch(registration["email"]["pattern"], "ada@example")
    email = schemas["EmailIn"]["properties"]
    assert email["body"] == {"type": "string", "maxLength": 200_000, "not": {"pattern": "\\x00"}}
    received = email["received_at"]["anyOf"][0]
    assert (received["format"], received["pattern"]) == ("date-time", "^[12][0-9]{3}-")


async def test_parameters_state_formats_limits_and_values(document: dict[str, Any]) -> None:
    def parameters(method: str, path: str) -> dict[str, dict[str, Any]]:
        listed = document["paths"][path][method].get("parameters", [])
        return {p["name"]: p["schema"] for p in listed}

    emails = parameters("get", "/api/v1/emails")
    assert (emails["limit"]["minimum"], emails["limit"]["maximum"]) == (1, 100)
    assert emails["cursor"]["pattern"] == r"^-?[0-9]{1,18}_[0-9a-f]{32}$"
    statuses = set(document["components"]["schemas"]["EmailStatus"]["enum"])
    assert {"pending", "processing", "sending", "sent", "send_failed"} <= statuses
    assert parameters("get", f"{BATCH}/jobs")["cursor"]["pattern"] == r"^(cls|prc)_[0-9a-f]{16}$"
    assert parameters("get", "/api/v1/emails/{email_id}")["email_id"]["format"] == "uuid"
    resume = parameters("get", f"{BATCH}/status/{{job_id}}/stream")["Last-Event-ID"]
    assert resume["type"] == "string" and "oneOf" not in resume, "a header is never null"
    assert resume["pattern"] == r"^[0-9]{1,9}(-[0-9]{1,12})?$"
    job = parameters("post", f"{BATCH}/{{job_id}}/cancel")["job_id"]
    assert job["pattern"] == "^(cls|prc)_[0-9a-f]{16}$"
    key = parameters("post", f"{BATCH}/classify")["Idempotency-Key"]
    assert (key["minLength"], key["maxLength"]) == (1, 255)
    upload = document["paths"]["/api/v1/emails/import"]["post"]["requestBody"]["content"]
    assert {"message/rfc822", "application/mbox"} <= set(upload)


async def test_every_domain_error_is_documented_on_some_route(document: dict[str, Any]) -> None:
    documented = {
        int(status)
        for operation in operations(document).values()
        for status in operation["responses"]
    }
    # A failed delivery stays inside the dispatcher (it retries, then marks the
    # email send_failed): no route answers it.
    reaching = {
        kind: answer for kind, answer in ANSWERS.items() if kind is not errors.DeliveryFailed
    }
    assert {answer.status for answer in reaching.values()} <= documented
    assert ANSWERS[errors.IdempotencyKeyReused].status == 422


async def test_options_and_405_name_exactly_the_documented_methods(
    client: AsyncTestClient[Any], document: dict[str, Any]
) -> None:
    for path, item in document["paths"].items():
        methods = {m.upper() for m, op in item.items() if isinstance(op, dict)} | {"OPTIONS"}
        concrete = path.replace("{email_id}", "0" * 8 + "-0000-4000-8000-" + "0" * 12)
        concrete = concrete.replace("{job_id}", "cls_" + "0" * 16)
        allowed = (await client.options(concrete)).headers["allow"]
        assert set(allowed.split(", ")) == methods, path
        refused = await client.request("PATCH", concrete)
        assert refused.status_code == 405, path
        assert set(refused.headers["allow"].split(", ")) == methods, path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def on_each_database(
    request: pytest.FixtureRequest, app_client: AppFactory
) -> AsyncIterator[Api]:
    if request.param == "sqlite":
        yield await sign_in(await app_client())
        return
    url = await create_postgres_database()
    try:
        yield await sign_in(await app_client(database_url=url))
    finally:
        await drop_postgres_database(url)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject", "a\x00b", "matching regex"),
        ("body", "\x00", "matching regex"),
        ("thread_id", "t\x00", "matching regex"),
        ("received_at", "0001-01-01T00:00:00+05:00", "in the years 1000 to 2999"),
        ("received_at", "9999-12-31T23:00:00-05:00", "in the years 1000 to 2999"),
        ("received_at", 0, "Expected `str | null`, got `int`"),
    ],
)
async def test_text_the_database_cannot_hold_is_a_400_that_stores_nothing(
    on_each_database: Api, field: str, value: object, message: str
) -> None:
    """Found by fuzzing: NUL was a 500 on Postgres, far-off dates overflowed, and
    a number was read as a Unix time although the schema asks for text."""
    body = {"subject": "s", "body": "b", "sender": "a@b.io", field: value}
    response = await on_each_database.post("/api/v1/emails", body)
    assert response.status_code == 400, response.text
    assert message in response.json()["extra"][0]["message"]
    assert (await on_each_database.get("/api/v1/emails")).json()["items"] == []


async def test_the_event_stream_documents_both_kinds_of_event(document: dict[str, Any]) -> None:
    stream = document["paths"][f"{BATCH}/status/{{job_id}}/stream"]["get"]
    event = stream["responses"]["200"]["content"]["text/event-stream"]["schema"]["properties"]
    assert event["event"]["enum"] == ["email", "progress"]
    refs = {c["$ref"].rsplit("/", 1)[1] for c in event["data"]["contentSchema"]["anyOf"]}
    assert refs == {"JobOut", "EmailEventOut"}
    schemas = document["components"]["schemas"]
    email = schemas["EmailEventOut"]
    assert set(email["required"]) == {"email_id", "outcome", "intent", "status", "error"}
    assert "cancel_reason" in schemas["JobOut"]["required"]
    assert set(schemas["Outcome"]["enum"]) == {"succeeded", "failed", "cancelled"}
