"""Estimates and budgets over HTTP (DESIGN §10): the same refusals as a submission,
and a budget is part of the body an Idempotency-Key stands for."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Api, AppFactory, sign_in
from tests.support import GatedClassifier, wait_for

BATCH = "/api/v1/emails/batch"
KINDS = [("classify", 100), ("process", 50)]


@pytest.mark.parametrize(("kind", "limit"), KINDS)
async def test_an_estimate_refuses_what_a_submission_refuses_with_400(
    alice: Api, kind: str, limit: int
) -> None:
    ids = await alice.add_emails(2)
    path = f"{BATCH}/{kind}/estimate"
    bad_bodies: list[Any] = [
        {"email_ids": []},
        {"email_ids": [str(uuid.uuid4()) for _ in range(limit + 1)]},
        {"email_ids": [ids[0], ids[0]]},
        {"email_ids": ["not-a-uuid"]},
        {"email_ids": ids, "surprise": True},
        {"email_ids": ids, "max_cost_usd": 0},
        {"email_ids": ids, "max_cost_usd": -1},
    ]
    for body in bad_bodies:
        response = await alice.post(path, body)
        assert response.status_code == 400, (body, response.text)
        submitted = await alice.post(f"{BATCH}/{kind}", body)
        assert submitted.status_code == 400, (body, submitted.text)
    assert (await alice.get(f"{BATCH}/jobs")).json()["items"] == []


@pytest.mark.parametrize(("kind", "limit"), KINDS)
async def test_an_estimate_of_someone_elses_emails_is_404_naming_them(
    alice: Api, bob: Api, kind: str, limit: int
) -> None:
    mine = await alice.add_emails(1)
    theirs = await bob.add_emails(1)
    unknown = str(uuid.uuid4())

    response = await alice.post(
        f"{BATCH}/{kind}/estimate", {"email_ids": mine + theirs + [unknown]}
    )

    assert response.status_code == 404
    assert sorted(response.json()["extra"]["email_ids"]) == sorted([*theirs, unknown])


async def test_a_process_estimate_of_busy_emails_is_409_and_claims_nothing(
    app_client: AppFactory,
) -> None:
    classifier = GatedClassifier()
    alice = await sign_in(await app_client(classifier))
    busy = await alice.add_emails(1, subject="hold")
    free = await alice.add_emails(1)
    job_id = (await alice.post(f"{BATCH}/process", {"email_ids": busy})).json()["job_id"]
    await wait_for(lambda: _calls(classifier), lambda n: n == 1)

    response = await alice.post(f"{BATCH}/process/estimate", {"email_ids": busy + free})

    assert response.status_code == 409
    assert response.json()["extra"]["conflicts"] == {busy[0]: "processing"}
    fine = await alice.post(f"{BATCH}/process/estimate", {"email_ids": free})
    assert fine.status_code == 200 and fine.json()["emails"] == 1
    assert (await alice.get(f"/api/v1/emails/{free[0]}")).json()["status"] == "pending"
    classifier.release()
    await alice.finished_job(job_id)


async def test_an_estimate_is_not_a_submission_for_the_rate_limit(app_client: AppFactory) -> None:
    alice = await sign_in(await app_client(submit_rate_per_minute=1))
    ids = await alice.add_emails(1)
    for _ in range(3):
        response = await alice.post(f"{BATCH}/classify/estimate", {"email_ids": ids})
        assert response.status_code == 200
    assert (await alice.post(f"{BATCH}/classify", {"email_ids": ids})).status_code == 202


async def test_the_same_key_with_another_budget_is_another_body(alice: Api) -> None:
    ids = await alice.add_emails(2)
    headers = {**alice.headers, "Idempotency-Key": "budget-key"}
    body: dict[str, Any] = {"email_ids": ids, "max_cost_usd": 0.5}

    first = await alice.client.post(f"{BATCH}/classify", json=body, headers=headers)
    again = await alice.client.post(f"{BATCH}/classify", json=body, headers=headers)
    other = await alice.client.post(
        f"{BATCH}/classify", json={**body, "max_cost_usd": 0.25}, headers=headers
    )

    assert (first.status_code, again.status_code, other.status_code) == (202, 202, 422)
    assert first.json()["job_id"] == again.json()["job_id"]
    job = await alice.finished_job(first.json()["job_id"])
    assert (job["status"], job["max_cost_usd"], job["cancel_reason"]) == ("completed", 0.5, None)


async def test_a_budget_is_refused_when_the_model_has_no_known_price(
    app_client: AppFactory,
) -> None:
    alice = await sign_in(
        await app_client(llm_model="openai/no-such-model", llm_api_base="http://127.0.0.1:9/v1")
    )
    ids = await alice.add_emails(1)

    refused = await alice.post(f"{BATCH}/classify", {"email_ids": ids, "max_cost_usd": 1})
    guess = await alice.post(f"{BATCH}/classify/estimate", {"email_ids": ids})

    assert refused.status_code == 400
    assert "no known price" in refused.json()["detail"]
    assert guess.status_code == 200 and guess.json()["cost_usd"] is None
    assert (await alice.get(f"{BATCH}/jobs")).json()["items"] == []


async def _calls(classifier: GatedClassifier) -> int:
    return len(classifier.calls)
