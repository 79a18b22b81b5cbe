"""A real server process configured with a LiteLLM model, over real HTTP to the fake provider."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.server import ServerProcess, finished_job, reasonflow_cli, server_env
from tests.llm.conftest import API_KEY
from tests.llm.fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e


def _sign_in(client: httpx.Client) -> dict[str, str]:
    creds = {"email": "llm@example.com", "password": "llm e2e password"}
    assert client.post("/api/v1/auth/register", json=creds).status_code == 201
    token = client.post("/api/v1/auth/login", json=creds).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_a_litellm_server_classifies_and_stops_cleanly(tmp_path: Path) -> None:
    with FakeOpenAI(latency=0.05) as fake:
        env = server_env(
            tmp_path,
            REASONFLOW_LLM_MODEL="openai/fake-model",
            REASONFLOW_LLM_API_BASE=fake.url,
            REASONFLOW_LLM_API_KEY=API_KEY,
            REASONFLOW_LLM_MAX_CONCURRENCY="4",
            REASONFLOW_LLM_MAX_RETRIES="0",
            REASONFLOW_LOG_LEVEL="DEBUG",
        )
        server = ServerProcess([*reasonflow_cli(), "serve"], env, tmp_path)
        try:
            server.wait_ready()
            with httpx.Client(base_url=server.url, timeout=10) as client:
                headers = _sign_in(client)
                subjects = [f"Question {n}" for n in range(11)] + ["Busy [[fault:429]]"]
                ids = [
                    client.post(
                        "/api/v1/emails",
                        json={"subject": s, "body": "What does it cost?", "sender": "a@b.example"},
                        headers=headers,
                    ).json()["id"]
                    for s in subjects
                ]
                submitted = client.post(
                    "/api/v1/emails/batch/classify", json={"email_ids": ids}, headers=headers
                )
                job = finished_job(client, headers, submitted.json()["job_id"])
        finally:
            exit_code = server.stop()
        stats = fake.stats
    assert (job["status"], job["succeeded"], job["failed"]) == ("completed", 11, 1)
    assert job["errors"][0]["error"] == "Classification failed: API rate limit exceeded"
    assert job["usage"]["prompt_tokens"] == stats.prompt_tokens
    assert job["usage"]["completion_tokens"] == stats.completion_tokens
    assert stats.max_in_flight <= 4
    assert all(r["response_format"]["type"] == "json_schema" for r in stats.requests)
    log = server.log()
    assert "llm call failed model=openai/fake-model" in log
    assert API_KEY not in log
    assert "Traceback" not in log and "Unclosed" not in log
    assert "DEBUG LiteLLM" not in log and "LiteLLM:DEBUG" not in log  # quiet even at DEBUG
    assert exit_code in (0, -15), log
