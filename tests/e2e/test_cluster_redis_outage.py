"""Redis stopped and started again under load (DESIGN §7): 503s while it is away,
no email lost or counted twice, and service back without restarting a process."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import redis as redis_sync

from tests.e2e.cluster import User, running_cluster
from tests.e2e.server import free_port
from tests.redis_support import RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def saq_state(url: str, job_id: str) -> str:
    """SAQ's lists and sets, and the records of ``job_id``'s tasks, as text."""
    client = redis_sync.Redis.from_url(url)
    lines = []
    try:
        for key in sorted(client.scan_iter("saq:*")):
            kind = client.type(key)
            if kind == b"list":
                lines.append(f"{key!r}: {client.lrange(key, 0, -1)!r}")
            elif kind == b"zset":
                lines.append(f"{key!r}: {client.zrange(key, 0, -1, withscores=True)!r}")
            elif job_id.encode() in key:
                lines.append(f"{key!r}: {client.get(key)!r} ttl={client.ttl(key)}")
    finally:
        client.close()
    return "\n".join(lines)[-12_000:]


def test_redis_away_under_load_answers_503_then_everything_resumes(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path, free_port())
    redis.start()
    try:
        with running_cluster(tmp_path, delay=0.5, redis_url=redis.url) as cluster:
            first, second = cluster.apis[0].url, cluster.apis[1].url
            ivy = User.sign_up(first, "ivy@example.com")
            ids = ivy.add_emails(30)
            job_id = ivy.submit("process", ids).json()["job_id"]
            ivy.wait(job_id, lambda s: s["processed"] >= 4)

            redis.stop()
            for url in (first, second):
                user = ivy.on(url)
                answers = {
                    "submit": user.submit("classify", ids[:1]),
                    "status": user.request("GET", f"/api/v1/emails/batch/status/{job_id}"),
                    "jobs": user.request("GET", "/api/v1/emails/batch/jobs"),
                    "stream": user.request("GET", f"/api/v1/emails/batch/status/{job_id}/stream"),
                    "ready": httpx.get(f"{url}/ready", timeout=10),
                }
                assert {k: a.status_code for k, a in answers.items()} == dict.fromkeys(
                    answers, 503
                ), cluster.logs()
                assert "unavailable" in answers["status"].json()["detail"]
                assert "Retry-After" in answers["submit"].headers
            # Nothing half-submitted: the refused classify job claimed nothing.
            time.sleep(2)  # the outage lasts a few heartbeats (a scenario, not a wait)
            redis.start()

            try:
                # Known open bug (2 CI runs of 5 on 2026-12-02): now and then one
                # worker's step hangs after the outage while its heartbeat goes on,
                # so neither SAQ's sweep nor recovery hands it out again; SAQ's task
                # timeout (240 s here) is then what retries it. 300 s lets that
                # backstop finish the job; the state below is printed if even it fails.
                done = ivy.on(second).finished(job_id, timeout=300)
            except AssertionError as stuck:
                # Say where each task stood.
                state = saq_state(redis.url, job_id)
                raise AssertionError(f"{stuck}\n{state}\n{cluster.logs()}") from None
            assert done["status"] == "completed", cluster.logs()
            assert done["succeeded"] + done["failed"] == done["total"] == 30
            assert ivy.emails("processing") == []
            assert len(ivy.emails()) == 30
            # Back without a restart: a new job runs to the end on either process.
            again = ivy.on(second).submit("classify", ids[:3])
            assert again.status_code == 202, again.text
            assert ivy.finished(again.json()["job_id"])["succeeded"] == 3
            for url in (first, second):
                assert httpx.get(f"{url}/ready", timeout=10).status_code == 200
    finally:
        redis.stop()
