"""schemathesis against a real server: every check, over SQLite and Postgres.

The server runs as its own process (``reasonflow serve``) with a registered,
signed-in user whose inbox has emails; schemathesis reads ``/schema/openapi.json``
and runs its phases (examples, coverage, fuzzing, stateful) with all checks.
Each database needs at least ``MIN_CASES`` generated requests and no failure: a
5xx, an undocumented status or header, a body off its schema, a request the
schema allows but the server refuses (or the reverse).
"""

from __future__ import annotations

import ast
import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, from_schema
from schemathesis.engine import events as ev
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.generation import GenerationMode
from schemathesis.hooks import HookContext

# Imported here, not lazily by a check in a worker thread: pytest's assertion
# rewriting is not safe to run from several threads at once.
from schemathesis.specs.openapi import object_authorization  # noqa: F401

from tests.dbs import create_migrated_postgres_database, drop_postgres_database, sqlite_url
from tests.e2e.server import ServerProcess, reasonflow_cli, server_env

MIN_CASES = 1000
#: Per database; the whole run must stay well under two minutes.
BUDGET_SECONDS = 100
PASSWORD = "correct horse battery"

#: A valid request may still meet the state it finds: an Idempotency-Key the
#: fuzzer already used with another body (422), a submission while the user's
#: jobs are at their cap or the rate limit (429), an email in the wrong status
#: (409). schemathesis allows 401/404/409/429 already; 422 is the key reuse.
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
#: An invalid request is refused: schemathesis's list, plus 413 for a body over
#: JSON_MAX_BYTES (refused before it is parsed, so before its other faults).
NEGATIVE_STATUSES = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "413",
    "415",
    "422",
    "428",
    "429",
]


def config(base_url: str, token: str, email_ids: list[str]) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": 20261202,
            "base-url": base_url,
            "headers": {"Authorization": f"Bearer {token}"},
            # The inbox's ids, drawn for email ids most of the time, so requests
            # reach the batch and review rules rather than only "not found".
            "dictionaries": {"inbox": {"values": email_ids}},
            "parameters": {
                "body.email_ids[*]": {"dictionary": "inbox", "probability": 0.9},
                "path.email_id": {"dictionary": "inbox", "probability": 0.5},
            },
            "workers": 4,
            "max-stream-events": 5,
            "request-timeout": 10,
            "generation": {"mode": "all", "max-examples": 30},
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
                "negative_data_rejection": {"expected-statuses": NEGATIVE_STATUSES},
            },
        }
    )


@dataclass
class Outcome:
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


def run(schema_url: str, base_url: str, token: str, email_ids: list[str]) -> Outcome:
    schema = schemathesis.openapi.from_url(schema_url, config=config(base_url, token, email_ids))
    schema.hook(distinct_ids)
    outcome = Outcome()
    for event in from_schema(schema).execute():
        if isinstance(event, ev.ScenarioFinished | ev.FuzzScenarioFinished):
            record(event.recorder, outcome)
        elif isinstance(event, ev.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, ev.FatalError):
            outcome.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, ev.EngineFinished):
            outcome.failures += [f"after run: {f.title}" for f in event.failures]
    return outcome


def distinct_ids(context: HookContext, case: Case) -> Case:
    """``map_case``: a valid case whose ``email_ids`` the inbox dictionary filled
    with repeats is valid again (schemathesis substitutes each item alone, so
    ``uniqueItems`` can break); cases meant to be invalid are left alone."""
    body = case.body
    meta = case.meta
    positive = meta is not None and meta.generation.mode is GenerationMode.POSITIVE
    if positive and isinstance(body, dict) and isinstance(body.get("email_ids"), list):
        body["email_ids"] = list(dict.fromkeys(body["email_ids"]))
    return case


distinct_ids.__name__ = "map_case"


def record(recorder: ScenarioRecorder, outcome: Outcome) -> None:
    outcome.cases += len(recorder.interactions)
    for interaction in recorder.interactions.values():
        if interaction.response is not None:
            status = interaction.response.status_code
            outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
    for checks in recorder.checks.values():
        for check in checks:
            if check.status is Status.FAILURE and check.failure_info is not None:
                failure = check.failure_info.failure
                outcome.failures.append(
                    f"{recorder.label}: {check.name}: {failure.title}\n{failure.message}\n"
                    f"{check.failure_info.code_sample}"
                )


def inbox(url: str) -> tuple[str, list[str]]:
    """Register, sign in and add emails; the token and the emails' ids."""
    with httpx.Client(base_url=url, timeout=10) as client:
        address = "fuzz@example.com"
        creds = {"email": address, "password": PASSWORD}
        assert client.post("/api/v1/auth/register", json=creds).status_code == 201
        token: str = client.post("/api/v1/auth/login", json=creds).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        ids = []
        for n in range(12):
            email = {
                "subject": f"Question about pricing #{n}",
                "body": "Hello, could you tell me more about your plans? Thanks.",
                "sender": f"customer{n}@example.com",
            }
            created = client.post("/api/v1/emails", json=email, headers=headers)
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        return token, ids


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    url = asyncio.run(create_migrated_postgres_database())
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


_PARSE = ast.parse
_PARSING = threading.Lock()


def _parse_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _PARSING:
        return _PARSE(*args, **kwargs)


@pytest.fixture(autouse=True)
def _serial_ast(monkeypatch: pytest.MonkeyPatch) -> None:
    """schemathesis' workers are threads, and Hypothesis parses source (lambda
    descriptions) in them; CPython 3.11's ``ast.parse`` fails when two threads
    run it at once ("AST constructor recursion depth mismatch")."""
    monkeypatch.setattr(ast, "parse", _parse_one_at_a_time)


@pytest.mark.e2e
def test_schemathesis_finds_nothing(database: str, tmp_path: Path) -> None:
    env = server_env(
        tmp_path,
        REASONFLOW_DATABASE_URL=database,
        # Deep enough to reach the batch rules, not only the rate limit.
        REASONFLOW_SUBMIT_RATE_PER_MINUTE="100000",
        REASONFLOW_LOG_LEVEL="WARNING",
    )
    server = ServerProcess([*reasonflow_cli(), "serve"], env, tmp_path)
    try:
        server.wait_ready()
        token, email_ids = inbox(server.url)
        started = time.monotonic()
        outcome = run(f"{server.url}/schema/openapi.json", server.url, token, email_ids)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    print(f"{database.split(':')[0]}: {outcome.cases} cases in {elapsed:.1f}s: {outcome.statuses}")
    assert not outcome.errors, "\n\n".join(outcome.errors)
    assert not outcome.failures, "\n\n".join(outcome.failures[:20])
    assert outcome.cases >= MIN_CASES, outcome
    assert elapsed < BUDGET_SECONDS, f"{elapsed:.1f}s"
    assert "Traceback" not in server.log()
