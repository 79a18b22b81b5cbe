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
from tests.fakes_llm import make_email
from tests.llm.conftest import Clients, llm_config
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
