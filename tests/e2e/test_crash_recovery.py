"""A server killed with SIGKILL mid-job leaves no email ``processing`` once restarted."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import ServerProcess, reasonflow_cli, server_env

pytestmark = pytest.mark.e2e


def _sign_in(client: httpx.Client) -> dict[str, str]:
    creds = {"email": "crash@example.com", "password": "crash test pw"}
    client.post("/api/v1/auth/register", json=creds)
    token = client.post("/api/v1/auth/login", json=creds).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _statuses(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status, count(*) FROM emails GROUP BY status").fetchall()
    return dict(rows)


def test_sigkill_mid_process_then_restart_releases_every_claim(tmp_path: Path) -> None:
    env = server_env(tmp_path, REASONFLOW_LLM_MAX_CONCURRENCY="2")
    slow = ServerProcess(
        [sys.executable, "-m", "tests.e2e.slow_app", "--delay", "0.3"], env, tmp_path
    )
    try:
        slow.wait_ready()
        with httpx.Client(base_url=slow.url, timeout=10) as client:
            headers = _sign_in(client)
            ids = [
                client.post(
                    "/api/v1/emails",
                    json={"subject": f"Pricing question {n}", "body": "What does the plan cost?",
                          "sender": f"c{n}@example.com"},
                    headers=headers,
                ).json()["id"]
                for n in range(20)
            ]  # fmt: skip
            job = client.post(
                "/api/v1/emails/batch/process", json={"email_ids": ids}, headers=headers
            ).json()
            deadline = time.monotonic() + 20
            while True:
                status = client.get(
                    f"/api/v1/emails/batch/status/{job['job_id']}", headers=headers
                ).json()
                if status["processed"] >= 2:
                    break
                assert time.monotonic() < deadline, status
                time.sleep(0.05)
    finally:
        slow.kill()
    assert status["status"] == "processing"
    before = _statuses(tmp_path / "reasonflow.db")
    assert before.get("processing", 0) > 0, before
    assert before.get("drafted", 0) >= 2, "finished emails were committed before the crash"

    server = ServerProcess([*reasonflow_cli(), "serve"], env, tmp_path)
    try:
        server.wait_ready()
        after = _statuses(tmp_path / "reasonflow.db")
        assert "processing" not in after, after
        assert after.get("drafted", 0) >= before["drafted"]
        assert sum(after.values()) == 20
        with httpx.Client(base_url=server.url, timeout=10) as client:
            headers = _sign_in(client)
            again = client.post(
                "/api/v1/emails/batch/process",
                json={"email_ids": ids},
                headers=headers,
            )
            # Every email can be claimed again: nothing is stuck.
            assert again.status_code == 202, again.text
    finally:
        assert server.stop() in (0, -15), server.log()
