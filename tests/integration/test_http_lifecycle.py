"""Job lifecycle over HTTP: list, cancel, retry, idempotent submits, rate limit, metrics."""

from __future__ import annotations

import uuid

from tests.conftest import Api, AppFactory, sign_in
from tests.support import GatedClassifier, wait_for

BATCH = "/api/v1/emails/batch"


async def test_jobs_are_listed_newest_first_for_their_owner_only(alice: Api, bob: Api) -> None:
    ids = await alice.add_emails(3)
    jobs = [
        (await alice.post(f"{BATCH}/classify", {"email_ids": [i]})).json()["job_id"] for i in ids
    ]
    seen: list[str] = []
    cursor = None
    while True:
        page = (
            await alice.get(f"{BATCH}/jobs?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        ).json()
        seen += [j["job_id"] for j in page["items"]]
        assert all(set(j) >= {"status", "total", "usage"} for j in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(jobs))
    assert (await bob.get(f"{BATCH}/jobs")).json() == {"items": [], "next_cursor": None}
    assert (await alice.get(f"{BATCH}/jobs?limit=0")).status_code == 400
    assert (await alice.get(f"{BATCH}/jobs?cursor=%25%25")).status_code == 400


async def test_cancel_mid_run_releases_what_had_not_started(app_client: AppFactory) -> None:
    classifier = GatedClassifier()
    alice = await sign_in(await app_client(classifier, llm_max_concurrency=2))
    ids = await alice.add_emails(6, subject="hold")
    job_id = (await alice.post(f"{BATCH}/process", {"email_ids": ids})).json()["job_id"]
    await wait_for(lambda: _count(classifier), lambda n: n == 2)

    cancelled = await alice.post(f"{BATCH}/{job_id}/cancel")
    assert cancelled.status_code == 202
    body = cancelled.json()
    assert (body["status"], body["cancelled"], body["processed"]) == ("processing", 4, 0)
    statuses = [(await alice.get(f"/api/v1/emails/{i}")).json()["status"] for i in ids]
    assert statuses.count("pending") == 4 and statuses.count("processing") == 2

    classifier.release()
    final = await alice.finished_job(job_id)
    assert (final["status"], final["cancel_reason"]) == ("cancelled", "user")
    assert final["processed"] + final["cancelled"] == final["total"] == 6
    assert final["processed"] == 2
    statuses = [(await alice.get(f"/api/v1/emails/{i}")).json()["status"] for i in ids]
    assert "processing" not in statuses
    assert len(classifier.calls) == 2, "cancelled emails never reached the provider"
    again = await alice.post(f"{BATCH}/{job_id}/cancel")
    assert again.status_code == 409


async def _count(classifier: GatedClassifier) -> int:
    return len(classifier.calls)


async def test_retry_submits_only_the_failed_emails(app_client: AppFactory) -> None:
    classifier = GatedClassifier()
    alice = await sign_in(await app_client(classifier))
    good = await alice.add_emails(2, subject="fine")
    bad = await alice.add_emails(2, subject="fail")
    job_id = (await alice.post(f"{BATCH}/process", {"email_ids": good + bad})).json()["job_id"]
    first = await alice.finished_job(job_id)
    assert first["failed"] == 2

    retried = await alice.post(f"{BATCH}/{job_id}/retry")
    assert retried.status_code == 202
    new = retried.json()
    assert new["job_id"] != job_id and new["job_id"].startswith("prc_")
    assert new["total"] == 2
    second = await alice.finished_job(new["job_id"])
    assert {e["email_id"] for e in second["errors"]} == set(bad)

    clean = (await alice.post(f"{BATCH}/classify", {"email_ids": good})).json()["job_id"]
    await alice.finished_job(clean)
    nothing = await alice.post(f"{BATCH}/{clean}/retry")
    assert nothing.status_code == 409
    assert nothing.json()["detail"] == "Nothing failed in this job"


async def test_retry_of_a_running_job_is_409(app_client: AppFactory) -> None:
    classifier = GatedClassifier()
    alice = await sign_in(await app_client(classifier))
    ids = await alice.add_emails(1, subject="hold")
    job_id = (await alice.post(f"{BATCH}/classify", {"email_ids": ids})).json()["job_id"]
    response = await alice.post(f"{BATCH}/{job_id}/retry")
    assert response.status_code == 409
    assert response.json()["detail"] == "The job has not finished yet"
    classifier.release()
    await alice.finished_job(job_id)


async def test_every_job_route_hides_another_users_job(alice: Api, bob: Api) -> None:
    ids = await alice.add_emails(1)
    job_id = (await alice.post(f"{BATCH}/classify", {"email_ids": ids})).json()["job_id"]
    await alice.finished_job(job_id)
    for response in (
        await bob.get(f"{BATCH}/status/{job_id}"),
        await bob.get(f"{BATCH}/status/{job_id}/stream"),
        await bob.post(f"{BATCH}/{job_id}/cancel"),
        await bob.post(f"{BATCH}/{job_id}/retry"),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == "Batch job not found"


async def test_the_same_idempotency_key_and_body_returns_the_first_job(alice: Api) -> None:
    ids = await alice.add_emails(2)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"email_ids": ids}
    first = await alice.client.post(f"{BATCH}/process", json=body, headers=alice.headers | key)
    again = await alice.client.post(f"{BATCH}/process", json=body, headers=alice.headers | key)
    assert first.status_code == again.status_code == 202
    assert again.json()["job_id"] == first.json()["job_id"]
    other = await alice.client.post(
        f"{BATCH}/process", json={"email_ids": ids[:1]}, headers=alice.headers | key
    )
    assert other.status_code == 422
    listed = (await alice.get(f"{BATCH}/jobs")).json()["items"]
    assert len(listed) == 1, "the replay created nothing"


async def test_idempotency_keys_are_per_user(alice: Api, bob: Api) -> None:
    key = {"Idempotency-Key": "shared-key"}
    a = await alice.client.post(
        f"{BATCH}/classify",
        json={"email_ids": await alice.add_emails(1)},
        headers=alice.headers | key,
    )
    b = await bob.client.post(
        f"{BATCH}/classify", json={"email_ids": await bob.add_emails(1)}, headers=bob.headers | key
    )
    assert a.status_code == b.status_code == 202
    assert a.json()["job_id"] != b.json()["job_id"]


async def test_submissions_are_rate_limited_but_polling_is_not(app_client: AppFactory) -> None:
    alice = await sign_in(await app_client(submit_rate_per_minute=3))
    ids = await alice.add_emails(1)
    answers = [await alice.post(f"{BATCH}/classify", {"email_ids": ids}) for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert int(answers[3].headers["retry-after"]) >= 1
    job_id = answers[0].json()["job_id"]
    polls = [await alice.get(f"{BATCH}/status/{job_id}") for _ in range(50)]
    assert {p.status_code for p in polls} == {200}


async def test_metrics_count_jobs_and_emails(alice: Api) -> None:
    ids = await alice.add_emails(3)
    job_id = (await alice.post(f"{BATCH}/classify", {"email_ids": ids})).json()["job_id"]
    await alice.finished_job(job_id)
    response = await alice.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'reasonflow_jobs_submitted_total{kind="classify"} 1.0' in text
    assert 'reasonflow_jobs_finished_total{kind="classify",status="completed"} 1.0' in text
    assert 'reasonflow_emails_total{kind="classify",outcome="succeeded"} 3.0' in text
    assert 'reasonflow_provider_call_seconds_count{kind="classify"} 3.0' in text
    assert "reasonflow_jobs_in_flight 0.0" in text
    assert "reasonflow_emails_in_flight 0.0" in text
