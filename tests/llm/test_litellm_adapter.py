"""The LiteLLM classifier and drafter over real HTTP to the fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest

from reasonflow.adapters.llm.litellm_client import LLMConfig
from reasonflow.adapters.llm.litellm_prompts import BODY_BUDGET
from reasonflow.adapters.llm.litellm_provider import LiteLLMClassifier, LiteLLMDrafter
from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import Intent, Usage
from tests.fakes_llm import make_email
from tests.llm.conftest import API_KEY, MODEL, Clients, free_port, llm_config
from tests.llm.fake_openai import FakeOpenAI, Stats


async def test_classifies_with_a_json_schema_and_reports_usage(
    fake_llm: FakeOpenAI, clients: Clients
) -> None:
    classifier = LiteLLMClassifier(clients(llm_config(fake_llm)))

    result = await classifier.classify(make_email("Pricing [[intent:complaint]]", "Too slow."))

    assert result.intent is Intent.COMPLAINT
    assert result.confidence == 0.9
    assert result.reasoning == "The sender asks a question."
    stats = fake_llm.stats
    assert result.usage == Usage(stats.prompt_tokens, stats.completion_tokens, None, llm_calls=1)
    request = stats.requests[0]
    assert request["model"] == "fake-model"
    assert request["response_format"]["type"] == "json_schema"
    schema = request["response_format"]["json_schema"]
    assert schema["name"] == "classification" and schema["strict"] is True
    assert set(schema["schema"]["required"]) == {"intent", "confidence", "reasoning"}
    assert stats.headers[0]["authorization"] == f"Bearer {API_KEY}"


async def test_a_priced_model_reports_its_cost(fake_llm: FakeOpenAI, clients: Clients) -> None:
    classifier = LiteLLMClassifier(clients(llm_config(fake_llm, model="openai/gpt-4o-mini")))

    result = await classifier.classify(make_email("Pricing question"))

    assert result.usage.cost_usd is not None and result.usage.cost_usd > 0


@pytest.mark.parametrize(
    ("marker", "intent", "confidence"),
    [
        ("[[intent:Meeting-Request]]", Intent.MEETING_REQUEST, 0.9),
        ("[[intent:gratitude]]", Intent.OTHER, 0.9),
        ("[[confidence:1.7]]", Intent.INQUIRY, 1.0),
        ("[[confidence:-3]]", Intent.INQUIRY, 0.0),
    ],
)
async def test_answers_are_normalised(
    fake_llm: FakeOpenAI, clients: Clients, marker: str, intent: Intent, confidence: float
) -> None:
    classifier = LiteLLMClassifier(clients(llm_config(fake_llm)))

    result = await classifier.classify(make_email(f"Hello {marker}"))

    assert (result.intent, result.confidence) == (intent, confidence)


@pytest.mark.parametrize(
    ("fault", "reason", "fatal"),
    [
        ("429", "API rate limit exceeded", False),
        ("500", "provider unavailable", False),
        ("503", "provider unavailable", False),
        ("timeout", "provider timed out", False),
        ("401", "provider rejected the credentials", True),
        ("400", "provider rejected the request", False),
        ("malformed", "provider returned an invalid answer", False),
        ("invalid", "provider returned an invalid answer", False),
    ],
)
async def test_each_fault_becomes_its_reason(
    fake_llm: FakeOpenAI, clients: Clients, fault: str, reason: str, fatal: bool
) -> None:
    config = llm_config(fake_llm, max_retries=0, timeout_seconds=0.5)
    classifier = LiteLLMClassifier(clients(config))

    with pytest.raises(ProviderError) as caught:
        await classifier.classify(make_email(f"Hello [[fault:{fault}]]"))

    assert (caught.value.reason, caught.value.fatal) == (reason, fatal)
    assert len(fake_llm.stats.requests) == 1


@pytest.mark.parametrize("fault", ["429", "500", "503", "timeout"])
async def test_transient_faults_are_retried(
    fake_llm: FakeOpenAI, clients: Clients, fault: str
) -> None:
    config = llm_config(fake_llm, max_retries=2, timeout_seconds=0.5)
    classifier = LiteLLMClassifier(clients(config))

    result = await classifier.classify(make_email(f"Hello [[fault:{fault}x2]]"))

    assert result.intent is Intent.INQUIRY
    assert len(fake_llm.stats.requests) == 3


@pytest.mark.parametrize("fault", ["401", "400", "invalid"])
async def test_permanent_faults_are_not_retried(
    fake_llm: FakeOpenAI, clients: Clients, fault: str
) -> None:
    classifier = LiteLLMClassifier(clients(llm_config(fake_llm, max_retries=2)))

    with pytest.raises(ProviderError):
        await classifier.classify(make_email(f"Hello [[fault:{fault}]]"))

    assert len(fake_llm.stats.requests) == 1


async def test_retries_stop_at_the_limit(fake_llm: FakeOpenAI, clients: Clients) -> None:
    classifier = LiteLLMClassifier(clients(llm_config(fake_llm, max_retries=2)))

    with pytest.raises(ProviderError, match="API rate limit exceeded"):
        await classifier.classify(make_email("Hello [[fault:429]]"))

    assert len(fake_llm.stats.requests) == 3


async def test_retry_after_is_honoured(clients: Clients) -> None:
    with FakeOpenAI(retry_after="1") as fake:
        classifier = LiteLLMClassifier(clients(llm_config(fake, max_retries=1)))

        result = await classifier.classify(make_email("Hello [[fault:429x1]]"))

        first, second = fake.stats.started_at
    assert result.intent is Intent.INQUIRY
    assert 1.0 <= second - first < 2.0


async def test_a_retry_after_beyond_the_cap_fails_at_once(clients: Clients) -> None:
    with FakeOpenAI(retry_after="3600") as fake:
        classifier = LiteLLMClassifier(clients(llm_config(fake, max_retries=2)))

        with pytest.raises(ProviderError, match="API rate limit exceeded"):
            await classifier.classify(make_email("Hello [[fault:429]]"))

        assert len(fake.stats.requests) == 1


async def test_no_more_than_max_concurrency_calls_are_in_flight(clients: Clients) -> None:
    with FakeOpenAI(latency=0.1) as fake:
        classifier = LiteLLMClassifier(clients(llm_config(fake, max_concurrency=3)))

        results = await asyncio.gather(
            *(classifier.classify(make_email(f"Question {n}")) for n in range(12))
        )

        assert len(results) == 12
        assert fake.stats.max_in_flight == 3


async def test_long_bodies_are_cut_to_the_budget(fake_llm: FakeOpenAI, clients: Clients) -> None:
    classifier = LiteLLMClassifier(clients(llm_config(fake_llm)))
    body = "x" * (BODY_BUDGET + 5000)

    await classifier.classify(make_email("Long one", body))

    prompt = fake_llm.stats.requests[0]["messages"][-1]["content"]
    assert "x" * BODY_BUDGET in prompt and "x" * (BODY_BUDGET + 1) not in prompt
    assert "[... 5000 more characters cut]" in prompt


async def test_the_draft_prompt_carries_the_context(fake_llm: FakeOpenAI, clients: Clients) -> None:
    drafter = LiteLLMDrafter(clients(llm_config(fake_llm)))
    earlier = [
        make_email("Order 1142 delayed", "Where is my order?", minutes_ago=60),
        make_email("Re: Order 1142 delayed", "Any news?", minutes_ago=30),
    ]
    email = make_email("Re: Order 1142 delayed", "Third time asking.")

    draft = await drafter.draft(email, Intent.FOLLOW_UP, earlier)

    assert draft.text == "Thank you for your email. (I read 2 earlier emails.)"
    assert draft.confidence == 0.9
    assert draft.usage.prompt_tokens > 0
    request = fake_llm.stats.requests[0]
    assert request["response_format"]["json_schema"]["name"] == "reply_draft"
    prompt = request["messages"][-1]["content"]
    assert "classified as: follow_up" in prompt
    assert "Where is my order?" in prompt and "Any news?" in prompt


async def test_an_empty_draft_is_an_invalid_answer(clients: Clients) -> None:
    answer = json.dumps({"draft": "  ", "confidence": 0.8})
    drafter = LiteLLMDrafter(
        clients(LLMConfig("openai/gpt-4o-mini", options={"mock_response": answer}))
    )

    with pytest.raises(ProviderError, match="provider returned an invalid answer"):
        await drafter.draft(make_email("Hello"), Intent.INQUIRY, [])


async def test_an_unreachable_provider_is_unavailable(clients: Clients) -> None:
    config = LLMConfig(MODEL, api_base=f"http://127.0.0.1:{free_port()}/v1", max_retries=1)
    classifier = LiteLLMClassifier(clients(config))

    with pytest.raises(ProviderError) as caught:
        await classifier.classify(make_email("Hello"))

    assert (caught.value.reason, caught.value.fatal) == ("provider unavailable", False)


async def test_llm_rpm_spaces_the_calls(fake_llm: FakeOpenAI, clients: Clients) -> None:
    classifier = LiteLLMClassifier(clients(llm_config(fake_llm, rpm=600)))
    # A first call pays the first-use costs (imports, caches), which would let the
    # later calls catch it up on the wire; the spacing is the steady state's.
    await classifier.classify(make_email("Warm-up"))
    fake_llm.stats = Stats()

    await asyncio.gather(*(classifier.classify(make_email(f"Question {n}")) for n in range(4)))

    arrivals = sorted(fake_llm.stats.started_at)
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(gaps) == 3 and all(gap >= 0.09 for gap in gaps), gaps
