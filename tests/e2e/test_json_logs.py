"""``LOG_FORMAT=json`` on a real server: one JSON line per request and per job event,
with the request id the client saw, and no email text, address, password or token."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, finished_job, reasonflow_cli, server_env
from tests.llm.conftest import API_KEY
from tests.llm.fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e

PASSWORD = "json logs Pa55word never logged"
ADDRESS = "json-logs-owner@example.com"
#: What the seeded emails hold; none of it may reach the log.
SUBJECTS = [f"Invoice 7731-{n} overdue Zanzibar" for n in range(4)]
BODY = "Please wire the balance to account Quetzalcoatl-99 before Friday."
SENDERS = [f"treasurer{n}@wombat-industries.example" for n in range(4)]


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "the server logged nothing"
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON log line: {line!r}") from None
    return parsed


def test_json_logs_one_line_per_request_and_job_event_without_email_text(
    tmp_path: Path,
) -> None:
    responses: list[httpx.Response] = []
    with FakeOpenAI(latency=0.3) as fake:
        env = server_env(
            tmp_path,
            REASONFLOW_LOG_FORMAT="json",
            REASONFLOW_LLM_MODEL="openai/fake-model",
            REASONFLOW_LLM_API_BASE=fake.url,
            REASONFLOW_LLM_API_KEY=API_KEY,
            REASONFLOW_LLM_MAX_CONCURRENCY="1",
            REASONFLOW_LLM_MAX_RETRIES="0",
        )
        server = ServerProcess([*reasonflow_cli(), "serve"], env, tmp_path)
        try:
            server.wait_ready()
            with httpx.Client(
                base_url=server.url, timeout=10, event_hooks={"response": [responses.append]}
            ) as client:
                creds = {"email": ADDRESS, "password": PASSWORD}
                user_id = client.post("/api/v1/auth/register", json=creds).json()["id"]
                token = client.post(
                    "/api/v1/auth/login", json=creds, headers={"X-Request-ID": "client-id.42"}
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                ids = [
                    client.post(
                        "/api/v1/emails",
                        json={"subject": subject, "body": BODY, "sender": sender},
                        headers=headers,
                    ).json()["id"]
                    for subject, sender in zip(SUBJECTS, SENDERS, strict=True)
                ]
                processed = client.post(
                    "/api/v1/emails/batch/process", json={"email_ids": ids[:2]}, headers=headers
                ).json()
                done = finished_job(client, headers, processed["job_id"])
                # Four emails one at a time, 0.3 s each: cancelled while the first runs.
                doomed = client.post(
                    "/api/v1/emails/batch/classify", json={"email_ids": ids}, headers=headers
                ).json()
                cancel = client.post(
                    f"/api/v1/emails/batch/{doomed['job_id']}/cancel", headers=headers
                )
                cancelled = finished_job(client, headers, doomed["job_id"])
                missing = client.get(
                    f"/api/v1/emails/{uuid.uuid4()}",
                    headers={**headers, "X-Request-ID": 'bad id "quoted"'},
                )
                anonymous = client.get("/api/v1/emails")
                unrouted = client.get("/no/such/route")
        finally:
            exit_code = server.stop()
    assert exit_code in (0, -15), server.log()
    assert (done["status"], done["succeeded"]) == ("completed", 2), done
    assert cancel.status_code == 202 and cancelled["status"] == "cancelled", cancelled
    assert (missing.status_code, anonymous.status_code, unrouted.status_code) == (404, 401, 404)

    text = server.log()
    lines = _json_lines(text)
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys(), line

    # Every response carries an id, and exactly one request line has it.
    requests = {line["request_id"]: line for line in lines if line.get("event") == "http_request"}
    assert len(requests) == sum(1 for line in lines if line.get("event") == "http_request")
    for response in responses:
        request_id = response.headers["X-Request-ID"]
        line = requests[request_id]
        assert line["method"] == response.request.method
        assert line["status"] == response.status_code
        assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
        signed_in = "Authorization" in response.request.headers and response.status_code != 401
        assert line["user_id"] == (user_id if signed_in else None), line
        # The route's template, never the path with its ids.
        if line["route"] is not None:
            assert "{" in line["route"] or line["route"] == response.request.url.path, line
            assert not any(i in line["route"] for i in ids), line
    assert responses[1].headers["X-Request-ID"] == "client-id.42"
    assert missing.headers["X-Request-ID"] != 'bad id "quoted"'
    assert len(missing.headers["X-Request-ID"]) == 32
    assert requests[missing.headers["X-Request-ID"]]["route"] == "/api/v1/emails/{email_id}"
    assert requests[unrouted.headers["X-Request-ID"]]["route"] is None
    assert requests[anonymous.headers["X-Request-ID"]]["status"] == 401

    events = [line for line in lines if str(line.get("event", "")).startswith("job_")]
    by_job: dict[str, list[str]] = {}
    for event in events:
        assert event["user_id"] == user_id, event
        by_job.setdefault(event["job_id"], []).append(event["event"])
    assert by_job[processed["job_id"]] == ["job_submitted", "job_finished"]
    assert by_job[doomed["job_id"]] == ["job_submitted", "job_cancelled", "job_finished"]
    finished = {e["job_id"]: e for e in events if e["event"] == "job_finished"}
    first = finished[processed["job_id"]]
    assert (first["kind"], first["status"], first["total"], first["succeeded"]) == (
        "process",
        "completed",
        2,
        2,
    )
    last = finished[doomed["job_id"]]
    assert (last["status"], last["cancel_reason"]) == ("cancelled", "user")
    assert last["succeeded"] + last["failed"] + last["cancelled"] == 4
    assert last["cancelled"] >= 1

    for secret in [*SUBJECTS, BODY, *SENDERS, ADDRESS, PASSWORD, token, API_KEY]:
        assert secret not in text, f"{secret!r} reached the log"
    for fragment in ["Zanzibar", "Quetzalcoatl", "wombat-industries", token.split(".")[2]]:
        assert fragment not in text, fragment
