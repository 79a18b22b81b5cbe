"""Classify and process batches through the real app, over real HTTP to the fake provider.

Every test runs twice: through the lean OpenAI-compatible client and through LiteLLM.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.conftest import Api, AppFactory, sign_in
from tests.llm.conftest import API_KEY, llm_settings
from tests.llm.fake_openai import FakeOpenAI

FAILURE_REASONS = {
    "429": "API rate limit exceeded",
    "500": "provider unavailable",
    "timeout": "provider timed out",
}


@pytest.fixture(params=["auto", "litellm"])
def llm_client(request: pytest.FixtureRequest) -> str:
    """Each test through the lean client (``auto``: an OpenAI-compatible server) and LiteLLM."""
    choice: str = request.param
    return choice


async def add(api: Api, subject: str, **fields: Any) -> str:
    body = {
        "subject": subject,
        "body": "Hello, could you tell me more about your plans?",
        "sender": "customer@example.com",
        **fields,
    }
    response = await api.post("/api/v1/emails", body)
    assert response.status_code == 201, response.text
    email_id: str = response.json()["id"]
    return email_id


async def run(api: Api, kind: str, ids: list[str], timeout: float = 20.0) -> dict[str, Any]:
    response = await api.post(f"/api/v1/emails/batch/{kind}", {"email_ids": ids})
    assert response.status_code == 202, response.text
    return await api.finished_job(response.json()["job_id"], timeout)


async def email(api: Api, email_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/emails/{email_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_a_classify_batch_completes_over_http(
    app_client: AppFactory, llm_client: str, fake_llm: FakeOpenAI
) -> None:
    api = await sign_in(await app_client(**llm_settings(fake_llm, llm_client=llm_client)))
    ids = [await add(api, f"Question {n} [[intent:inquiry]]") for n in range(6)]
    ids.append(await add(api, "Broken again [[intent:complaint]] [[confidence:0.65]]"))

    job = await run(api, "classify", ids)

    assert (job["status"], job["succeeded"], job["failed"], job["errors"]) == (
        "completed",
        7,
        0,
        None,
    )
    assert len(fake_llm.stats.requests) == 7
    for request in fake_llm.stats.requests:
        assert request["response_format"]["type"] == "json_schema"
        assert request["response_format"]["json_schema"]["name"] == "classification"
    last = await email(api, ids[-1])
    assert (last["intent"], last["confidence"], last["status"]) == ("complaint", 0.65, "pending")
    assert job["usage"] == {
        "prompt_tokens": fake_llm.stats.prompt_tokens,
        "completion_tokens": fake_llm.stats.completion_tokens,
        "cost_usd": None,
        "llm_calls": 7,
        "llm_calls_saved": 0,
    }


async def test_a_process_batch_drafts_with_the_thread_as_context(
    app_client: AppFactory, llm_client: str, fake_llm: FakeOpenAI
) -> None:
    api = await sign_in(
        await app_client(
            **llm_settings(fake_llm, llm_client=llm_client, llm_model="openai/gpt-4o-mini")
        )
    )
    first = await add(
        api, "Order 1142", thread_id="t-1142", received_at="2026-03-01T09:00:00Z",
        body="My order has not arrived.",
    )  # fmt: skip
    reply = await add(
        api, "Re: Order 1142", thread_id="t-1142", received_at="2026-03-02T09:00:00Z",
        body="Any news on this?",
    )  # fmt: skip
    other = await add(api, "Meeting? [[intent:meeting_request]]", sender="new@example.com")

    job = await run(api, "process", [reply, other])

    assert (job["status"], job["succeeded"], job["failed"]) == ("completed", 2, 0)
    drafted = await email(api, reply)
    assert drafted["status"] == "drafted"
    assert drafted["draft"] == "Thank you for your email. (I read 1 earlier emails.)"
    draft_prompts = [
        r["messages"][-1]["content"]
        for r in fake_llm.stats.requests
        if r["response_format"]["json_schema"]["name"] == "reply_draft"
    ]
    assert len(draft_prompts) == 2
    assert any("My order has not arrived." in p for p in draft_prompts)
    assert (await email(api, first))["status"] == "pending"
    usage = job["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (
        fake_llm.stats.prompt_tokens,
        fake_llm.stats.completion_tokens,
    )
    assert usage["cost_usd"] > 0  # gpt-4o-mini has a price in LiteLLM's table


@pytest.mark.parametrize("kind", ["classify", "process"])
async def test_failing_emails_are_reported_one_by_one(
    app_client: AppFactory, llm_client: str, fake_llm: FakeOpenAI, kind: str
) -> None:
    settings = llm_settings(
        fake_llm, llm_client=llm_client, llm_max_retries=1, llm_timeout_seconds=0.5
    )
    api = await sign_in(await app_client(**settings))
    healthy = [await add(api, f"Fine {n}") for n in range(4)]
    failing = {fault: await add(api, f"Trouble [[fault:{fault}]]") for fault in FAILURE_REASONS}

    job = await run(api, kind, healthy[:2] + list(failing.values()) + healthy[2:])

    prefix = "Classification failed" if kind == "classify" else "Agent pipeline failed"
    assert (job["status"], job["succeeded"], job["failed"]) == ("completed", 4, 3)
    errors = {e["email_id"]: e["error"] for e in job["errors"]}
    assert errors == {
        email_id: f"{prefix}: {FAILURE_REASONS[fault]}" for fault, email_id in failing.items()
    }
    for fault, email_id in failing.items():  # each failing email was tried twice
        prompts = [r for r in fake_llm.stats.requests if f"[[fault:{fault}]]" in str(r)]
        assert len(prompts) == 2
        if kind == "process":
            failed = await email(api, email_id)
            assert failed["status"] == "needs_review"
            assert failed["last_error"] == errors[email_id]


@pytest.mark.parametrize(("kind", "count"), [("classify", 40), ("process", 30)])
async def test_rejected_credentials_stop_the_job_early(
    app_client: AppFactory, llm_client: str, kind: str, count: int
) -> None:
    with FakeOpenAI(fail_all="401", latency=0.05) as fake:
        api = await sign_in(
            await app_client(**llm_settings(fake, llm_client=llm_client, llm_max_concurrency=4))
        )
        ids = [await add(api, f"Question {n}") for n in range(count)]

        job = await run(api, kind, ids)

        assert len(fake.stats.requests) <= 4
    prefix = "Classification failed" if kind == "classify" else "Agent pipeline failed"
    assert (job["status"], job["failed"], job["succeeded"]) == ("failed", count, 0)
    assert {e["error"] for e in job["errors"]} == {f"{prefix}: provider rejected the credentials"}


async def test_the_api_key_appears_in_no_log_response_or_error(
    app_client: AppFactory,
    llm_client: str,
    fake_llm: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    api = await sign_in(
        await app_client(**llm_settings(fake_llm, llm_client=llm_client, llm_max_retries=1))
    )
    ids = [await add(api, "Fine"), await add(api, "Trouble [[fault:500]]")]
    ids.append(await add(api, "Key trouble [[fault:401]]"))
    texts: list[str] = []

    for kind in ("classify", "process"):
        job = await run(api, kind, ids)
        assert job["failed"] >= 2
        texts.append(str(job))
    texts.append((await api.get("/api/v1/emails/batch/jobs")).text)
    texts.append((await api.get("/api/v1/emails")).text)

    # The fake server did receive the key, and echoed it in its 401 answer.
    assert all(h["authorization"] == f"Bearer {API_KEY}" for h in fake_llm.stats.headers)
    logged = [caplog.text, *(r.getMessage() for r in caplog.records)]
    out, err = capfd.readouterr()
    assert caplog.records, "nothing was logged: the test would prove nothing"
    for text in [*texts, *logged, out, err]:
        assert API_KEY not in text
        assert "Incorrect API key" not in text  # no provider text either
        assert "Traceback" not in text
