"""A budget across the cluster (DESIGN §10 over §7): an API process and a worker
over Postgres and Redis, the worker's drafts priced by LiteLLM's price map.

The worker's classifier is the slowed stand-in of ``slow_worker`` (no cost);
its drafter is the real model client, over real HTTP to the fake provider,
which reports every answer at its full ``max_tokens``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cluster import Cluster, User, running_cluster
from tests.llm.fake_openai import FakeOpenAI

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

WINDOW = 2


@pytest.fixture
def priced_cluster(tmp_path: Path) -> Iterator[tuple[Cluster, FakeOpenAI]]:
    with FakeOpenAI(litellm_tokens=True, spend_max_tokens=True, latency=0.05) as fake:
        settings = {
            "llm_model": "openai/gpt-4o-mini",
            "llm_api_base": fake.url,
            "llm_api_key": "sk-test-cluster-budget",
            "job_max_concurrency": str(WINDOW),
        }
        with running_cluster(tmp_path, apis=1, workers=1, delay=0.05, **settings) as cluster:
            yield cluster, fake


def test_a_budget_stops_a_process_job_run_by_workers(
    priced_cluster: tuple[Cluster, FakeOpenAI],
) -> None:
    cluster, fake = priced_cluster
    alice = User.sign_up(cluster.apis[0].url, "alice@example.com")
    ids = alice.add_emails(10)
    path = "/api/v1/emails/batch/process"
    # The process's first estimate imports LiteLLM (docs/api.md): over 10 s on a busy machine.
    first = alice.request("POST", f"{path}/estimate", json={"email_ids": ids}, timeout=60)
    guess = first.json()
    budget = guess["cost_usd"] / 3

    accepted = alice.request("POST", path, json={"email_ids": ids, "max_cost_usd": budget})
    assert accepted.status_code == 202, accepted.text
    job = alice.finished(accepted.json()["job_id"])

    assert (job["status"], job["cancel_reason"]) == ("cancelled", "budget"), cluster.logs()
    assert job["cancelled"] > 0 and job["succeeded"] + job["cancelled"] == len(ids)
    per_email = guess["cost_usd"] / len(ids)
    assert job["usage"]["cost_usd"] <= budget + WINDOW * per_email
    assert len(fake.stats.requests) == job["succeeded"]  # one draft per email run
    statuses = [alice.request("GET", f"/api/v1/emails/{i}").json()["status"] for i in ids]
    assert statuses.count("pending") == job["cancelled"]  # released, not left processing
    assert "processing" not in statuses
