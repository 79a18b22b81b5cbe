"""Validation of model answers, the Retry-After reading and the request pacer (no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import pytest

from reasonflow.adapters.llm.litellm_answers import parse_classification, parse_draft
from reasonflow.adapters.llm.litellm_client import RequestPacer
from reasonflow.adapters.llm.litellm_errors import retry_after
from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import Intent, Usage

USAGE = Usage(12, 7, None)


def answer(**fields: object) -> str:
    return json.dumps(fields)


def test_a_valid_classification_keeps_its_usage() -> None:
    result = parse_classification(
        answer(intent="spam", confidence=0.75, reasoning="Bulk offer."), USAGE
    )

    assert (result.intent, result.confidence, result.reasoning) == (
        Intent.SPAM,
        0.75,
        "Bulk offer.",
    )
    assert result.usage == USAGE


def test_a_fenced_answer_is_read() -> None:
    content = "```json\n" + answer(intent="inquiry", confidence=1, reasoning="") + "\n```"

    assert parse_classification(content, USAGE).intent is Intent.INQUIRY


@pytest.mark.parametrize(
    ("intent", "expected"),
    [("Complaint", Intent.COMPLAINT), ("follow up", Intent.FOLLOW_UP), ("refund", Intent.OTHER)],
)
def test_intents_are_normalised_and_unknown_ones_become_other(
    intent: str, expected: Intent
) -> None:
    result = parse_classification(answer(intent=intent, confidence=0.5, reasoning=""), USAGE)

    assert result.intent is expected


@pytest.mark.parametrize(("raw", "clamped"), [(3, 1.0), (-0.2, 0.0), ("0.4", 0.4)])
def test_confidence_is_clamped_to_0_1(raw: object, clamped: float) -> None:
    result = parse_classification(answer(intent="other", confidence=raw, reasoning=""), USAGE)

    assert result.confidence == clamped


@pytest.mark.parametrize(
    "content",
    [
        None,
        "",
        "It is an inquiry.",
        "[1, 2]",
        answer(confidence=0.5, reasoning="no intent"),
        answer(intent=3, confidence=0.5),
        answer(intent="spam"),
        answer(intent="spam", confidence=True),
        answer(intent="spam", confidence="high"),
        '{"intent": "spam", "confidence": NaN}',
    ],
)
def test_unreadable_classifications_are_invalid_answers(content: str | None) -> None:
    with pytest.raises(ProviderError) as caught:
        parse_classification(content, USAGE)

    assert caught.value.reason == "provider returned an invalid answer"
    assert not caught.value.fatal


def test_a_valid_draft() -> None:
    draft = parse_draft(answer(draft="  Thanks, see you Monday.\n", confidence=0.8), USAGE)

    assert (draft.text, draft.confidence, draft.usage) == ("Thanks, see you Monday.", 0.8, USAGE)


@pytest.mark.parametrize(
    "content", [answer(draft="", confidence=0.8), answer(confidence=0.8), answer(draft="Hi")]
)
def test_unreadable_drafts_are_invalid_answers(content: str) -> None:
    with pytest.raises(ProviderError, match="provider returned an invalid answer"):
        parse_draft(content, USAGE)


def failed_with(headers: dict[str, str]) -> Exception:
    error = Exception("429")
    error.response = SimpleNamespace(headers=headers)  # type: ignore[attr-defined]
    return error


def test_retry_after_in_seconds_milliseconds_and_as_a_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)

    assert retry_after(failed_with({"Retry-After": "2"})) == 2.0
    assert retry_after(failed_with({"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    assert 28 < (retry_after(failed_with({"Retry-After": later})) or 0) <= 30
    assert retry_after(failed_with({"Retry-After": "soon"})) is None
    assert retry_after(failed_with({})) is None
    assert retry_after(Exception("no response")) is None


async def test_the_pacer_spaces_calls_60_over_rpm_apart() -> None:
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))

    pacer = RequestPacer(120, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        await pacer.wait()
    now[0] += 10  # a quiet spell: the next call goes at once
    await pacer.wait()

    assert waits == [0.5, 1.0, 1.5]
