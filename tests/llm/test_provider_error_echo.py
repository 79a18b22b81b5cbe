"""A provider error whose body quotes the prompt never carries email text onward.

Some providers echo the request in their error messages. Through both model
clients (LiteLLM and the lean OpenAI-compatible one) the failure a job records
is one of the fixed short reasons, and nothing of the email reaches a log line.
"""

from __future__ import annotations

import logging

import pytest

from reasonflow.adapters.llm.litellm_provider import LiteLLMClassifier
from reasonflow.domain.errors import ProviderError
from tests.conftest import AppFactory, sign_in
from tests.fakes_llm import make_email
from tests.llm.conftest import Clients, llm_config, llm_settings
from tests.llm.fake_openai import FakeOpenAI

SUBJECT_TEXT = "Invoice 4471 for Ms Quintessa Brackenridge"
BODY_TEXT = "Her card ending 9902 was declined at Zephyrine Outfitters."


@pytest.mark.parametrize("fault", ["400", "429", "500", "503"])
async def test_an_error_that_echoes_the_prompt_gives_a_short_reason_only(
    clients: Clients, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeOpenAI(echo_prompt=True) as fake:
        classifier = LiteLLMClassifier(clients(llm_config(fake, max_retries=0)))
        email = make_email(f"{SUBJECT_TEXT} [[fault:{fault}]]", BODY_TEXT)

        with pytest.raises(ProviderError) as caught:
            await classifier.classify(email)

        assert len(fake.stats.requests) == 1

    reason = caught.value.reason
    assert len(reason) < 60
    said = [reason, str(caught.value), *(r.getMessage() for r in caplog.records)]
    said += [r.exc_text or "" for r in caplog.records]
    for text in said:
        for secret in ("Quintessa", "Brackenridge", "9902", "Zephyrine", "prompt was"):
            assert secret not in text


@pytest.mark.parametrize("llm_client", ["auto", "litellm"])
@pytest.mark.parametrize("kind", ["classify", "process"])
async def test_a_jobs_errors_never_quote_the_email(
    app_client: AppFactory, caplog: pytest.LogCaptureFixture, llm_client: str, kind: str
) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeOpenAI(echo_prompt=True) as fake:
        settings = llm_settings(fake, llm_client=llm_client, llm_max_retries=0)
        api = await sign_in(await app_client(**settings))
        ids = []
        for fault in ("400", "500"):
            response = await api.post(
                "/api/v1/emails",
                {
                    "subject": f"{SUBJECT_TEXT} [[fault:{fault}]]",
                    "body": BODY_TEXT,
                    "sender": "quintessa.brackenridge@example.com",
                },
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])

        response = await api.post(f"/api/v1/emails/batch/{kind}", {"email_ids": ids})
        assert response.status_code == 202, response.text
        job = await api.finished_job(response.json()["job_id"], 20.0)

    assert (job["status"], job["failed"]) == ("failed", 2)
    errors = [entry["error"] for entry in job["errors"]]
    assert all(len(error) < 80 for error in errors), errors
    said = [*errors, *(r.getMessage() for r in caplog.records)]
    said += [r.exc_text or "" for r in caplog.records]
    for text in said:
        for secret in ("quintessa", "brackenridge", "9902", "zephyrine", "prompt was"):
            assert secret not in text.lower()
