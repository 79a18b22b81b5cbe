"""Cost controls over real HTTP to the fake provider (DESIGN §10): the estimate
against what the job then reports, and a budget that stops a job.

The fake provider reports LiteLLM's token count of each request as its usage,
as a provider with that tokenizer would, so the estimate can be held to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Api, AppFactory, sign_in
from tests.llm.conftest import llm_settings
from tests.llm.fake_openai import FakeOpenAI

CLASSIFY = "/api/v1/emails/batch/classify"
PROCESS = "/api/v1/emails/batch/process"
#: A model LiteLLM's price map knows.
PRICED = "openai/gpt-4o-mini"

EMAILS = [
    ("Question about pricing", "Hello, could you tell me what the team plan costs per seat?"),
    (
        "Réunion la semaine prochaine",
        "Bonjour, seriez-vous disponible mardi ou jeudi pour un appel de 30 minutes "
        "au sujet du renouvellement du contrat ? Merci d'avance.",
    ),
    (
        "Order 1142 still missing",
        "I ordered two chairs three weeks ago and nothing has arrived. " * 30,
    ),
    ("Nachfrage: Angebot", "Guten Tag, haben Sie mein Angebot vom 3. März schon geprüft?"),
    ("WIN A FREE CRUISE", "Click here now to claim your prize!!! Limited offer. " * 5),
    ("Re: invoice", "Following up on the invoice I sent last week; any news?\n\n> earlier text"),
]


@pytest.fixture(params=["auto", "litellm"])
def llm_client(request: pytest.FixtureRequest) -> str:
    """Through the lean client (``auto``) and through LiteLLM."""
    choice: str = request.param
    return choice


@pytest.fixture
def counting_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(litellm_tokens=True) as fake:
        yield fake


async def add(api: Api, subject: str, body: str, **fields: Any) -> str:
    response = await api.post(
        "/api/v1/emails",
        {"subject": subject, "body": body, "sender": "customer@example.com", **fields},
    )
    assert response.status_code == 201, response.text
    email_id: str = response.json()["id"]
    return email_id


async def estimate(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(f"{path}/estimate", body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def run(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, body)
    assert response.status_code == 202, response.text
    return await api.finished_job(response.json()["job_id"], timeout=30)


async def test_a_classify_estimate_is_within_ten_percent_of_the_job_and_calls_nothing(
    app_client: AppFactory, llm_client: str, counting_llm: FakeOpenAI
) -> None:
    settings = llm_settings(counting_llm, llm_client=llm_client, llm_model=PRICED)
    api = await sign_in(await app_client(**settings))
    ids = [await add(api, subject, body) for subject, body in EMAILS]

    guess = await estimate(api, CLASSIFY, {"email_ids": ids})

    assert counting_llm.stats.requests == []  # an estimate calls no model
    assert (guess["emails"], guess["llm_calls"]) == (len(ids), len(ids))
    assert guess["cost_usd"] is not None and guess["cost_usd"] > 0
    assert guess["seconds"] > 0
    for email_id in ids:  # nothing claimed or classified
        email = (await api.get(f"/api/v1/emails/{email_id}")).json()
        assert (email["status"], email["intent"]) == ("pending", None)
    assert (await api.get("/api/v1/emails/batch/jobs")).json()["items"] == []

    job = await run(api, CLASSIFY, {"email_ids": ids})

    usage = job["usage"]
    assert job["status"] == "completed" and usage["llm_calls"] == len(ids)
    assert usage["prompt_tokens"] == pytest.approx(guess["prompt_tokens"], rel=0.10)
    assert usage["completion_tokens"] <= guess["completion_tokens"]
    assert usage["cost_usd"] <= guess["cost_usd"]
    for request in counting_llm.stats.requests:
        assert request["max_tokens"] > 0  # the bound the estimate counts on


async def test_a_process_estimate_counts_both_model_steps_with_their_context(
    app_client: AppFactory, llm_client: str, counting_llm: FakeOpenAI
) -> None:
    settings = llm_settings(counting_llm, llm_client=llm_client, llm_model=PRICED)
    api = await sign_in(await app_client(**settings))
    await add(api, "Order 1142", "My order has not arrived. " * 20, thread_id="t-1")
    ids = [await add(api, "Re: Order 1142", "Any news on this?", thread_id="t-1")]
    ids += [await add(api, subject, body) for subject, body in EMAILS[:3]]

    guess = await estimate(api, PROCESS, {"email_ids": ids})

    assert (guess["emails"], guess["llm_calls"]) == (len(ids), 2 * len(ids))
    job = await run(api, PROCESS, {"email_ids": ids})
    usage = job["usage"]
    assert job["status"] == "completed" and usage["llm_calls"] == 2 * len(ids)
    assert usage["prompt_tokens"] == pytest.approx(guess["prompt_tokens"], rel=0.10)
    assert usage["cost_usd"] <= guess["cost_usd"]


async def test_the_offline_provider_estimates_nothing_to_pay(alice: Api) -> None:
    ids = await alice.add_emails(3)

    guess = await estimate(alice, PROCESS, {"email_ids": ids})

    assert guess["emails"] == 3
    assert (guess["llm_calls"], guess["prompt_tokens"], guess["completion_tokens"]) == (0, 0, 0)
    assert guess["cost_usd"] == 0


@pytest.mark.parametrize(("path", "count"), [(CLASSIFY, 12), (PROCESS, 9)])
async def test_a_budget_of_a_third_of_the_estimate_stops_the_job(
    app_client: AppFactory, path: str, count: int
) -> None:
    concurrency = 2
    with FakeOpenAI(litellm_tokens=True, spend_max_tokens=True, latency=0.05) as fake:
        settings = llm_settings(fake, llm_model=PRICED, llm_max_concurrency=concurrency)
        api = await sign_in(await app_client(**settings))
        body = "Hello, could you tell me more about your plans and prices? Thanks. " * 10
        ids = [await add(api, f"Question {n:02d}", body) for n in range(count)]
        guess = await estimate(api, path, {"email_ids": ids})
        budget = guess["cost_usd"] / 3

        job = await run(api, path, {"email_ids": ids, "max_cost_usd": budget})

        assert (job["status"], job["cancel_reason"], job["max_cost_usd"]) == (
            "cancelled",
            "budget",
            budget,
        )
        assert job["cancelled"] > 0
        assert job["succeeded"] + job["failed"] + job["cancelled"] == count
        # Every email costs the same; those in flight when the budget ran out finish.
        per_email = guess["cost_usd"] / count * 1.1
        assert job["usage"]["cost_usd"] <= budget + concurrency * per_email
        calls_per_email = 1 if path == CLASSIFY else 2
        assert len(fake.stats.requests) == job["processed"] * calls_per_email
        statuses = [(await api.get(f"/api/v1/emails/{i}")).json()["status"] for i in ids]
        assert "processing" not in statuses  # every claim was released
        if path == PROCESS:
            assert statuses.count("pending") == job["cancelled"]


async def test_with_the_cascade_on_sure_emails_never_reach_the_provider(
    app_client: AppFactory, llm_client: str, fake_llm: FakeOpenAI
) -> None:
    settings = llm_settings(fake_llm, llm_client=llm_client, classify_cascade_threshold=0.85)
    api = await sign_in(await app_client(**settings))
    sure = {  # the offline rules answer these at 0.87 and more
        await add(api, "WIN A FREE CRUISE", "Click here now to claim your prize!!! Unsubscribe."),
        await add(
            api,
            "Meeting next week?",
            "Could we schedule a call on Tuesday at 3pm to discuss the contract? "
            "Let me know your availability.",
        ),
        await add(
            api,
            "Complaint: order 1142 broken",
            "My order arrived damaged and this is unacceptable. I want a refund immediately.",
        ),
    }
    unsure = {
        await add(api, "Hello", "Hi there, hope you are well."),
        await add(api, "Quick thought", "Saw your note, will look later."),
    }
    ids = [*sure, *unsure]

    guess = await estimate(api, CLASSIFY, {"email_ids": ids})
    job = await run(api, CLASSIFY, {"email_ids": ids})

    assert job["status"] == "completed" and job["succeeded"] == len(ids)
    assert len(fake_llm.stats.requests) == len(unsure)
    asked = "\n".join(r["messages"][-1]["content"] for r in fake_llm.stats.requests)
    assert "Hello" in asked and "Quick thought" in asked and "CRUISE" not in asked
    usage = job["usage"]
    assert (usage["llm_calls"], usage["llm_calls_saved"]) == (len(unsure), len(sure))
    assert usage["llm_calls"] + usage["llm_calls_saved"] == len(ids)
    assert guess["llm_calls"] == len(unsure)
    intents = {(await api.get(f"/api/v1/emails/{i}")).json()["intent"] for i in unsure}
    assert intents == {"inquiry"}  # the model decided (the rules said "other")
