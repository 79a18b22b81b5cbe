"""Every answer carries ``X-Request-ID`` (text logs too), and its request is logged once."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from reasonflow.entrypoints.logs import TextFormatter
from tests.conftest import sign_in


def _request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "http_request"]


async def test_an_incoming_well_formed_id_is_echoed_and_logged(
    client: AsyncTestClient[Any], caplog: pytest.LogCaptureFixture
) -> None:
    api = await sign_in(client)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="reasonflow.http"):
        response = await client.get(
            "/api/v1/emails", headers={**api.headers, "X-Request-ID": "trace-7f3a:1"}
        )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "trace-7f3a:1"
    [record] = _request_lines(caplog)
    fields = getattr(record, "fields")  # noqa: B009 - set through ``extra``
    assert fields["request_id"] == "trace-7f3a:1"
    assert (fields["method"], fields["route"], fields["status"]) == ("GET", "/api/v1/emails", 200)
    assert fields["user_id"] == api.user_id
    line = TextFormatter().format(record)
    assert "request_id=trace-7f3a:1" in line and "route=/api/v1/emails" in line


@pytest.mark.parametrize(
    "incoming",
    ["", "x" * 129, "two words", 'quote"d', "new\\nline", "caf\u00e9"],
)
async def test_a_malformed_id_is_replaced_by_a_fresh_one(
    client: AsyncTestClient[Any], incoming: str
) -> None:
    response = await client.get("/health", headers={b"X-Request-ID": incoming.encode("utf-8")})
    assert response.status_code == 200
    echoed = response.headers["X-Request-ID"]
    assert echoed != incoming and len(echoed) == 32 and echoed.isalnum()


async def test_ids_differ_between_requests_and_unmatched_routes_get_one(
    client: AsyncTestClient[Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="reasonflow.http"):
        first = await client.get("/health")
        second = await client.get("/api/v1/nowhere/4242")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert second.status_code == 404
    fields = [getattr(r, "fields") for r in _request_lines(caplog)]  # noqa: B009
    assert [f["status"] for f in fields] == [200, 404]
    assert fields[1]["route"] is None  # no template, and never the raw path
    assert all("4242" not in str(f) for f in fields)
