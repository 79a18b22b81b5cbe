"""Postgres stopped and started again while a 50-email process job runs.

A real ``reasonflow serve`` over a Postgres cluster of the test's own (the shared
server on 5432 is never touched) and the fake OpenAI server, slowed so the job
lasts several seconds. While the database is away ``/ready`` answers 503; once
it is back, without restarting the server, the job ends, every email has
either succeeded or failed with a short database message, none is left
``processing``, and retrying the failed ones succeeds.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.private_postgres import PrivateCluster
from tests.e2e.server import ServerProcess, reasonflow_cli, server_env
from tests.llm.conftest import API_KEY
from tests.llm.fake_openai import FakeOpenAI

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

EMAILS = 50
FINISHED = ("completed", "failed", "cancelled")
#: What a database failure may never show a user: SQL, driver names, traces, addresses.
LEAKS = re.compile(
    r"SELECT|UPDATE|INSERT|\[SQL|asyncpg|sqlalchemy|Traceback|127\.0\.0\.1|errno", re.I
)


def _wait(probe: Callable[[], Any], until: Callable[[Any], bool], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if until(value):
            return value
        assert time.monotonic() < deadline, f"gave up waiting; last: {value}"
        time.sleep(0.05)


def _statuses(dsn: str) -> dict[str, int]:
    async def count() -> dict[str, int]:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            rows = await conn.fetch("SELECT status, count(*) AS n FROM emails GROUP BY status")
        finally:
            await conn.close()
        return {row["status"]: row["n"] for row in rows}

    return asyncio.run(count())


def test_postgres_restart_mid_job_fails_in_flight_emails_cleanly_and_they_retry(
    tmp_path: Path,
) -> None:
    with PrivateCluster() as pg, FakeOpenAI(latency=0.2) as fake:
        env = server_env(
            tmp_path,
            REASONFLOW_DATABASE_URL=pg.url,
            REASONFLOW_LLM_MODEL="openai/fake-model",
            REASONFLOW_LLM_API_BASE=fake.url,
            REASONFLOW_LLM_API_KEY=API_KEY,
            REASONFLOW_LLM_MAX_CONCURRENCY="4",
            REASONFLOW_LLM_MAX_RETRIES="0",
        )
        server = ServerProcess([*reasonflow_cli(), "serve"], env, tmp_path)
        try:
            server.wait_ready()
            pid = server.proc.pid
            with httpx.Client(base_url=server.url, timeout=30) as client:
                creds = {"email": "restart@example.com", "password": "restart test password"}
                assert client.post("/api/v1/auth/register", json=creds).status_code == 201
                token = client.post("/api/v1/auth/login", json=creds).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                ids = [
                    client.post(
                        "/api/v1/emails",
                        json={"subject": f"Pricing question {n}", "sender": f"c{n}@example.com",
                              "body": "What does the team plan cost per seat?"},
                        headers=headers,
                    ).json()["id"]
                    for n in range(EMAILS)
                ]  # fmt: skip

                def status(job_id: str) -> dict[str, Any]:
                    response = client.get(f"/api/v1/emails/batch/status/{job_id}", headers=headers)
                    assert response.status_code == 200, response.text
                    body: dict[str, Any] = response.json()
                    return body

                submitted = client.post(
                    "/api/v1/emails/batch/process", json={"email_ids": ids}, headers=headers
                )
                assert submitted.status_code == 202, submitted.text
                job_id = submitted.json()["job_id"]
                before = _wait(lambda: status(job_id), lambda s: s["processed"] >= 8, 60)
                assert before["status"] == "processing", before

                pg.stop("fast")
                down_at = time.monotonic()
                ready = client.get("/ready")
                assert ready.status_code == 503, ready.text
                assert ready.json() == {"status": "unavailable"}
                # Requests that need the database: a clear 503, nothing claimed.
                listed = client.get("/api/v1/emails", headers=headers)
                again = client.post(
                    "/api/v1/emails/batch/classify", json={"email_ids": ids[:1]}, headers=headers
                )
                for answer in (listed, again):
                    assert answer.status_code == 503, answer.text
                    assert answer.json()["detail"] == (
                        "The database is unavailable right now; try again shortly"
                    )
                    assert answer.headers["Retry-After"] == "5"
                # A few seconds away; the job's state (in memory) still answers.
                while time.monotonic() - down_at < 3:
                    assert client.get("/ready").status_code == 503
                    assert status(job_id)["total"] == EMAILS
                    time.sleep(0.2)
                pg.start()

                _wait(lambda: client.get("/ready").status_code, lambda code: code == 200, 30)
                job = _wait(lambda: status(job_id), lambda s: s["status"] in FINISHED, 120)
                assert job["status"] in ("completed", "failed"), job
                assert job["succeeded"] + job["failed"] == EMAILS, job
                assert job["failed"] >= 1, "the outage failed no email: it came too late"
                reasons = {e["error"] for e in job["errors"]}
                for reason in reasons:
                    assert len(reason) <= 120 and not LEAKS.search(reason), reason
                    assert "database" in reason.lower(), reason

                counts = _statuses(pg.dsn)
                assert "processing" not in counts, counts
                assert sum(counts.values()) == EMAILS, counts
                failed_ids = {e["email_id"] for e in job["errors"]}
                for email_id in failed_ids:
                    email = client.get(f"/api/v1/emails/{email_id}", headers=headers).json()
                    assert email["status"] != "processing", email

                retried = client.post(f"/api/v1/emails/batch/{job_id}/retry", headers=headers)
                assert retried.status_code == 202, retried.text
                retry_id = retried.json()["job_id"]
                again = _wait(lambda: status(retry_id), lambda s: s["status"] in FINISHED, 60)
                assert (again["status"], again["succeeded"], again["failed"]) == (
                    "completed",
                    len(failed_ids),
                    0,
                ), again
                assert _statuses(pg.dsn).get("processing", 0) == 0
            assert server.proc.poll() is None and server.proc.pid == pid, "the server restarted"
        finally:
            exit_code = server.stop()
        log = server.log()
        assert exit_code in (0, -15), log
        assert "Traceback" not in log, log
        assert "[SQL" not in log and "terminating connection" not in log, log
