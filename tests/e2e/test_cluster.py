"""Cluster mode end to end (DESIGN §7): real ``reasonflow serve`` processes and
workers over Postgres and Redis, each test with its own database and key prefix."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.cluster import Cluster, User, running_cluster
from tests.redis_support import connect

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


def stream_states(
    url: str, user: User, job_id: str, emails: list[dict[str, object]] | None = None
) -> list[dict[str, object]]:
    """Every ``progress`` event of a job's stream until it closes (and every
    ``email`` event's data in ``emails``, when given)."""
    states = []
    with (
        httpx.Client(base_url=url, headers=user.headers, timeout=60) as client,
        client.stream("GET", f"/api/v1/emails/batch/status/{job_id}/stream") as response,
    ):
        assert response.status_code == 200
        event = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:") and event == "progress":
                states.append(json.loads(line.partition(":")[2]))
            elif line.startswith("data:") and event == "email" and emails is not None:
                emails.append(json.loads(line.partition(":")[2]))
    return states


def test_a_job_submitted_on_one_api_is_followed_to_the_end_on_the_other(
    cluster: Cluster,
) -> None:
    first, second = cluster.apis[0].url, cluster.apis[1].url
    alice = User.sign_up(first, "alice@example.com")
    ids = alice.add_emails(12)

    accepted = alice.submit("classify", ids)
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    elsewhere = alice.on(second)

    emails: list[dict[str, object]] = []
    states = stream_states(second, elsewhere, job_id, emails)
    polled = elsewhere.finished(job_id)

    assert states[-1]["status"] == "completed", cluster.logs()
    assert [s["processed"] for s in states] == sorted(s["processed"] for s in states)
    assert (polled["status"], polled["succeeded"], polled["total"]) == ("completed", 12, 12)
    assert alice.status(job_id) == polled
    assert all(e["intent"] for e in alice.emails())
    # The workers' outcomes, logged in Redis, reach the other API's stream, each once.
    assert sorted(str(e["email_id"]) for e in emails) == sorted(ids)
    assert {e["outcome"] for e in emails} == {"succeeded"}


def test_a_worker_killed_mid_job_loses_no_email_and_counts_none_twice(cluster: Cluster) -> None:
    api = cluster.apis[0].url
    bob = User.sign_up(api, "bob@example.com")
    ids = bob.add_emails(30)
    job_id = bob.submit("process", ids).json()["job_id"]
    bob.wait(job_id, lambda s: s["processed"] >= 4)

    cluster.workers[0].kill()
    try:
        done = bob.finished(job_id, timeout=90)
    finally:
        cluster.workers.pop(0)
        cluster.start_worker()  # the other tests keep two workers

    assert done["status"] == "completed", cluster.logs()
    assert done["succeeded"] + done["failed"] == done["total"] == 30
    assert done["cancelled"] == 0
    assert bob.emails("processing") == []
    outcomes = [e["status"] for e in bob.emails()]
    assert len(outcomes) == 30 and "pending" not in outcomes


def test_cancel_on_the_other_api_releases_the_emails_not_started(cluster: Cluster) -> None:
    first, second = cluster.apis[0].url, cluster.apis[1].url
    carol = User.sign_up(first, "carol@example.com")
    ids = carol.add_emails(30)
    job_id = carol.submit("process", ids).json()["job_id"]

    cancelled = carol.on(second).request("POST", f"/api/v1/emails/batch/{job_id}/cancel")
    assert cancelled.status_code == 202, cancelled.text
    done = carol.finished(job_id)

    assert done["status"] == "cancelled"
    assert done["cancelled"] > 0
    assert done["succeeded"] + done["failed"] + done["cancelled"] == 30
    statuses = [e["status"] for e in carol.emails()]
    assert "processing" not in statuses
    assert statuses.count("pending") == done["cancelled"], "each cancelled email is released"


def test_a_restarted_api_still_serves_a_running_job_and_its_end(cluster: Cluster) -> None:
    first, second = cluster.apis
    dave = User.sign_up(first.url, "dave@example.com")
    ids = dave.add_emails(30)
    job_id = dave.submit("classify", ids).json()["job_id"]
    dave.wait(job_id, lambda s: s["processed"] >= 1)

    assert first.stop() in (0, -15)
    cluster.apis.remove(first)
    during = dave.on(second.url).status(job_id)
    restarted = cluster.start_api()
    again = dave.on(restarted.url)

    assert again.status(job_id)["total"] == 30
    done = again.finished(job_id)
    assert done == dave.on(second.url).status(job_id)
    assert during["total"] == 30 and done["succeeded"] == 30


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Small limits and a short retention, one slow worker: limits are easy to reach."""
    with running_cluster(
        tmp_path_factory.mktemp("tight"),
        workers=1,
        delay=1.0,
        max_active_jobs="2",
        submit_rate_per_minute="4",
        job_retention_seconds="3",
    ) as running:
        yield running


def test_max_active_jobs_holds_across_api_processes(tight: Cluster) -> None:
    first, second = tight.apis[0].url, tight.apis[1].url
    erin = User.sign_up(first, "erin@example.com")
    ids = erin.add_emails(12)

    assert erin.submit("classify", ids[:6]).status_code == 202
    assert erin.on(second).submit("classify", ids[6:]).status_code == 202
    third = erin.submit("classify", ids[:1])

    assert third.status_code == 429
    assert "unfinished batch jobs" in third.json()["detail"]


def test_the_submit_rate_limit_holds_across_api_processes(tight: Cluster) -> None:
    first, second = tight.apis[0].url, tight.apis[1].url
    frank = User.sign_up(first, "frank@example.com")
    answers = [frank.on(url).submit("classify", []) for url in (first, second, first, second)]
    assert [a.status_code for a in answers] == [400] * 4  # refused, but they count

    limited = frank.on(second).submit("classify", [])

    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1


def test_an_idempotency_key_holds_across_api_processes(tight: Cluster) -> None:
    first, second = tight.apis[0].url, tight.apis[1].url
    gina = User.sign_up(first, "gina@example.com")
    ids = gina.add_emails(2)

    once = gina.submit("classify", ids, **{"Idempotency-Key": "k-1"})
    again = gina.on(second).submit("classify", ids, **{"Idempotency-Key": "k-1"})
    other = gina.on(second).submit("classify", ids[:1], **{"Idempotency-Key": "k-1"})

    assert once.status_code == again.status_code == 202
    assert once.json()["job_id"] == again.json()["job_id"]
    assert other.status_code == 422


def test_a_finished_job_expires_after_the_retention(tight: Cluster) -> None:
    first, second = tight.apis[0].url, tight.apis[1].url
    hal = User.sign_up(first, "hal@example.com")
    job_id = hal.submit("classify", hal.add_emails(1)).json()["job_id"]
    hal.finished(job_id)

    deadline = time.monotonic() + 15
    while hal.request("GET", f"/api/v1/emails/batch/status/{job_id}").status_code == 200:
        assert time.monotonic() < deadline, "the job never expired"
        time.sleep(0.2)

    for url in (first, second):
        gone = hal.on(url).request("GET", f"/api/v1/emails/batch/status/{job_id}")
        assert gone.status_code == 404
    assert asyncio.run(keys_of(tight, job_id)) == []


async def keys_of(cluster: Cluster, job_id: str) -> list[str]:
    client = await connect()
    try:
        prefix = cluster.env["REASONFLOW_REDIS_PREFIX"]
        return [k async for k in client.scan_iter(match=f"{prefix}*{job_id}*")]
    finally:
        await client.aclose()
