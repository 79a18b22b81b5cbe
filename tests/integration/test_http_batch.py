"""The batch API over HTTP, against the real app and a real SQLite database."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.conftest import Api, AppFactory, sign_in
from tests.support import GatedClassifier, wait_for

JOB_ID = re.compile(r"^(cls|prc)_[0-9a-f]{16}$")
CLASSIFY = "/api/v1/emails/batch/classify"
PROCESS = "/api/v1/emails/batch/process"
STATUS_KEYS = {
    "job_id", "kind", "status", "total", "processed", "succeeded", "failed", "cancelled",
    "errors", "created_at", "updated_at", "completed_at", "usage", "cancel_reason",
    "max_cost_usd",
}  # fmt: skip

KINDS = [(CLASSIFY, 100, "cls_"), (PROCESS, 50, "prc_")]


@pytest.mark.parametrize(("path", "limit", "prefix"), KINDS)
async def test_one_email_and_exactly_the_limit_are_accepted(
    alice: Api, path: str, limit: int, prefix: str
) -> None:
    ids = await alice.add_emails(limit)
    for selection in (ids[:1], ids):
        response = await alice.post(path, {"email_ids": selection})
        assert response.status_code == 202, response.text
        body = response.json()
        assert JOB_ID.match(body["job_id"]) and body["job_id"].startswith(prefix)
        assert body["status"] == "queued"
        assert body["total"] == len(selection)
        assert body["processed"] == 0
        assert body["message"].startswith("Batch ")
        finished = await alice.finished_job(body["job_id"])
        assert finished["status"] == "completed"
        assert finished["succeeded"] == len(selection)


@pytest.mark.parametrize(("path", "limit", "prefix"), KINDS)
async def test_empty_and_over_limit_selections_are_400(
    alice: Api, path: str, limit: int, prefix: str
) -> None:
    ids = await alice.add_emails(limit + 1)
    empty = await alice.post(path, {"email_ids": []})
    too_many = await alice.post(path, {"email_ids": ids})
    assert empty.status_code == 400
    assert "at least one" in empty.json()["detail"]
    assert too_many.status_code == 400
    assert f"at most {limit}" in too_many.json()["detail"]
    listed = await alice.get("/api/v1/emails?limit=100")
    assert all(e["status"] == "pending" for e in listed.json()["items"])


@pytest.mark.parametrize("path", [CLASSIFY, PROCESS])
@pytest.mark.parametrize(
    "body",
    [
        {"email_ids": ["not-a-uuid"]},
        {"email_ids": [str(uuid.uuid4())], "colour": "red"},
        {"ids": [str(uuid.uuid4())]},
        {"email_ids": "abc"},
    ],
)
async def test_malformed_bodies_are_400(alice: Api, path: str, body: dict[str, Any]) -> None:
    response = await alice.post(path, body)
    assert response.status_code == 400, response.text
    assert response.json()["status_code"] == 400


@pytest.mark.parametrize("path", [CLASSIFY, PROCESS])
async def test_malformed_json_is_400(alice: Api, path: str) -> None:
    response = await alice.client.post(
        path, content=b"{not json", headers={**alice.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("path", [CLASSIFY, PROCESS])
async def test_duplicate_ids_are_400(alice: Api, path: str) -> None:
    ids = await alice.add_emails(2)
    response = await alice.post(path, {"email_ids": [ids[0], ids[1], ids[0]]})
    assert response.status_code == 400
    assert response.json()["extra"] == {"email_ids": [ids[0]]}


@pytest.mark.parametrize("path", [CLASSIFY, PROCESS])
async def test_another_users_email_looks_exactly_like_a_missing_one(
    alice: Api, bob: Api, path: str
) -> None:
    (bobs,) = await bob.add_emails(1)
    missing = str(uuid.uuid4())
    foreign = await alice.post(path, {"email_ids": [bobs]})
    absent = await alice.post(path, {"email_ids": [missing]})
    assert foreign.status_code == absent.status_code == 404
    assert foreign.json() == {**absent.json(), "extra": {"email_ids": [bobs]}}
    assert absent.json()["extra"] == {"email_ids": [missing]}
    email = await bob.get(f"/api/v1/emails/{bobs}")
    assert email.json()["status"] == "pending" and email.json()["intent"] is None


async def test_processing_emails_conflict_with_a_second_process_job(
    app_client: AppFactory,
) -> None:
    classifier = GatedClassifier()
    alice = await sign_in(await app_client(classifier))
    ids = await alice.add_emails(3, subject="hold this")
    first = await alice.post(PROCESS, {"email_ids": ids[:2]})
    assert first.status_code == 202
    second = await alice.post(PROCESS, {"email_ids": ids[1:]})
    assert second.status_code == 409
    assert second.json()["extra"] == {"conflicts": {ids[1]: "processing"}}
    untouched = await alice.get(f"/api/v1/emails/{ids[2]}")
    assert untouched.json()["status"] == "pending"
    classifier.release()
    await alice.finished_job(first.json()["job_id"])


async def test_sent_emails_conflict_with_process(app_client: AppFactory) -> None:
    alice = await sign_in(await app_client(auto_send=True))
    (email_id,) = await alice.add_emails(1)
    job = await alice.post(PROCESS, {"email_ids": [email_id]})
    await alice.finished_job(job.json()["job_id"])
    # The job ends with the email sending; the dispatcher makes it sent.
    await wait_for(
        lambda: alice.get(f"/api/v1/emails/{email_id}"),
        lambda response: response.json()["status"] == "sent",
    )
    again = await alice.post(PROCESS, {"email_ids": [email_id]})
    assert again.status_code == 409
    assert again.json()["extra"] == {"conflicts": {email_id: "sent"}}


async def test_status_body_has_exactly_the_documented_fields(alice: Api) -> None:
    ids = await alice.add_emails(3)
    job_id = (await alice.post(CLASSIFY, {"email_ids": ids})).json()["job_id"]
    body = await alice.finished_job(job_id)
    assert set(body) == STATUS_KEYS
    assert body["kind"] == "classify"
    assert (body["total"], body["processed"], body["succeeded"]) == (3, 3, 3)
    assert (body["failed"], body["cancelled"], body["errors"]) == (0, 0, None)
    assert body["usage"] == {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
        "llm_calls": 0,
        "llm_calls_saved": 0,
    }
    assert (body["cancel_reason"], body["max_cost_usd"]) == (None, None)
    assert body["completed_at"].endswith("+00:00")


async def test_another_users_job_and_an_unknown_job_are_404(alice: Api, bob: Api) -> None:
    ids = await alice.add_emails(1)
    job_id = (await alice.post(CLASSIFY, {"email_ids": ids})).json()["job_id"]
    for probe in (job_id, "cls_0123456789abcdef", "nonsense", "prc_" + "f" * 16):
        response = await bob.get(f"/api/v1/emails/batch/status/{probe}")
        assert response.status_code == 404
        assert response.json()["detail"] == "Batch job not found"


@pytest.mark.parametrize("path", [CLASSIFY, PROCESS])
@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc", "Bearer "])
async def test_no_or_bad_token_is_401(alice: Api, path: str, header: str | None) -> None:
    ids = await alice.add_emails(1)
    headers = {"Authorization": header} if header else {}
    response = await alice.client.post(path, json={"email_ids": ids}, headers=headers)
    assert response.status_code == 401
    status = await alice.client.get(
        "/api/v1/emails/batch/status/cls_0123456789abcdef", headers=headers
    )
    assert status.status_code == 401


async def test_classify_sets_intent_and_keeps_status(alice: Api) -> None:
    ids = await alice.add_emails(2)
    job_id = (await alice.post(CLASSIFY, {"email_ids": ids})).json()["job_id"]
    await alice.finished_job(job_id)
    for email_id in ids:
        email = (await alice.get(f"/api/v1/emails/{email_id}")).json()
        assert email["intent"] == "inquiry"
        assert 0 < email["confidence"] <= 1
        assert email["status"] == "pending"


async def test_provider_failures_are_reported_per_email(app_client: AppFactory) -> None:
    alice = await sign_in(await app_client(GatedClassifier()))
    good = await alice.add_emails(2, subject="fine")
    bad = await alice.add_emails(1, subject="fail")
    job_id = (await alice.post(CLASSIFY, {"email_ids": good + bad})).json()["job_id"]
    body = await alice.finished_job(job_id)
    assert (body["status"], body["succeeded"], body["failed"]) == ("completed", 2, 1)
    assert body["errors"][0]["email_id"] == bad[0]
    assert body["errors"][0]["error"] == "Classification failed: API rate limit exceeded"


async def test_a_job_where_every_email_fails_is_failed(app_client: AppFactory) -> None:
    alice = await sign_in(await app_client(GatedClassifier()))
    bad = await alice.add_emails(2, subject="fail")
    job_id = (await alice.post(PROCESS, {"email_ids": bad})).json()["job_id"]
    body = await alice.finished_job(job_id)
    assert (body["status"], body["failed"]) == ("failed", 2)
    email = (await alice.get(f"/api/v1/emails/{bad[0]}")).json()
    assert email["status"] == "needs_review"
    assert email["last_error"] == "Agent pipeline failed: API rate limit exceeded"


async def test_one_more_unfinished_job_than_allowed_is_429(app_client: AppFactory) -> None:
    classifier = GatedClassifier()
    alice = await sign_in(await app_client(classifier, max_active_jobs=2))
    ids = await alice.add_emails(3, subject="hold")
    accepted = [await alice.post(CLASSIFY, {"email_ids": [i]}) for i in ids[:2]]
    assert [r.status_code for r in accepted] == [202, 202]
    refused = await alice.post(PROCESS, {"email_ids": [ids[2]]})
    assert refused.status_code == 429
    assert refused.headers["retry-after"]
    # The refused process job gave its claim back.
    assert (await alice.get(f"/api/v1/emails/{ids[2]}")).json()["status"] == "pending"
    classifier.release()
    for response in accepted:
        await alice.finished_job(response.json()["job_id"])
    assert (await alice.post(CLASSIFY, {"email_ids": [ids[2]]})).status_code == 202


async def test_finished_emails_are_visible_while_the_job_runs(app_client: AppFactory) -> None:
    classifier = GatedClassifier()
    alice = await sign_in(await app_client(classifier))
    quick = await alice.add_emails(3, subject="quick")
    slow = await alice.add_emails(1, subject="hold")
    job_id = (await alice.post(PROCESS, {"email_ids": quick + slow})).json()["job_id"]

    async def quick_statuses() -> list[str]:
        return [(await alice.get(f"/api/v1/emails/{i}")).json()["status"] for i in quick]

    done = await wait_for(quick_statuses, lambda s: "processing" not in s)
    assert set(done) == {"drafted"}
    job = await alice.job(job_id)
    assert job["status"] == "processing" and job["processed"] == 3
    assert (await alice.get(f"/api/v1/emails/{slow[0]}")).json()["status"] == "processing"
    classifier.release()
    assert (await alice.finished_job(job_id))["succeeded"] == 4
