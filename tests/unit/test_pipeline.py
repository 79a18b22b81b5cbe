"""StagedPipeline: classify → gather context → draft → review → dispatch, over fakes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest

from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import (
    Classification,
    Draft,
    Email,
    EmailStatus,
    Intent,
    PipelineResult,
    Usage,
)
from reasonflow.domain.pipeline import ReviewPolicy, StagedPipeline
from reasonflow.domain.replies import Reply
from tests.fakes import (
    EPOCH,
    FakeClassifier,
    FakeDrafter,
    FakeEmailRepository,
    make_email,
)

ALICE, BOB = UUID(int=0xA11CE), UUID(int=0xB0B)


@dataclass
class Stages:
    pipeline: StagedPipeline
    emails: FakeEmailRepository
    classifier: FakeClassifier
    drafter: FakeDrafter

    async def add(self, user_id: UUID = ALICE, **fields: object) -> Email:
        email = make_email(user_id, **fields)
        await self.emails.add(email)
        return email


def build(
    intent: Intent = Intent.INQUIRY,
    confidence: float = 0.9,
    draft_confidence: float = 0.95,
    auto_send: bool = False,
    context_limit: int = 5,
) -> Stages:
    classifier = FakeClassifier(Classification(intent, confidence, usage=Usage(50, 5, 0.001)))
    drafter = FakeDrafter(Draft("Happy to help.", draft_confidence, Usage(80, 40, 0.002)))
    emails = FakeEmailRepository()
    policy = ReviewPolicy(0.8, auto_send)
    pipeline = StagedPipeline(classifier, drafter, emails, policy, context_limit)
    return Stages(pipeline, emails, classifier, drafter)


async def test_a_confident_inquiry_is_drafted_and_not_sent() -> None:
    stages = build()
    email = await stages.add()
    result = await stages.pipeline.run(email)
    assert result == PipelineResult(
        Intent.INQUIRY, 0.9, EmailStatus.DRAFTED, "Happy to help.", Usage(130, 45, 0.003)
    )
    assert result.reply is None


async def test_with_auto_send_a_confident_reply_is_queued_for_the_sender() -> None:
    stages = build(auto_send=True)
    email = await stages.add()
    result = await stages.pipeline.run(email)
    assert result.status is EmailStatus.SENDING
    assert result.reply == Reply.to(email, "Happy to help.")
    assert result.reply.recipient == email.sender
    assert result.reply.subject == "Re: " + email.subject


async def test_confident_spam_is_rejected_without_a_draft_or_a_reply() -> None:
    stages = build(Intent.SPAM, 0.8, auto_send=True)
    result = await stages.pipeline.run(await stages.add())
    assert (result.status, result.draft, result.usage) == (
        EmailStatus.REJECTED,
        None,
        Usage(50, 5, 0.001),
    )
    assert stages.drafter.calls == []
    assert result.reply is None


async def test_doubtful_spam_gets_a_draft_for_review() -> None:
    stages = build(Intent.SPAM, 0.5, auto_send=True)
    result = await stages.pipeline.run(await stages.add())
    assert (result.status, result.draft) == (EmailStatus.NEEDS_REVIEW, "Happy to help.")
    assert result.reply is None


async def test_a_complaint_always_needs_review_and_is_never_sent() -> None:
    stages = build(Intent.COMPLAINT, 1.0, 1.0, auto_send=True)
    result = await stages.pipeline.run(await stages.add())
    assert (result.status, result.draft) == (EmailStatus.NEEDS_REVIEW, "Happy to help.")
    assert result.reply is None


async def test_an_unsure_draft_needs_review_even_when_the_intent_is_clear() -> None:
    stages = build(Intent.INQUIRY, 0.99, draft_confidence=0.4, auto_send=True)
    result = await stages.pipeline.run(await stages.add())
    assert result.status is EmailStatus.NEEDS_REVIEW
    assert result.confidence == 0.99  # the email keeps the classifier's confidence
    assert result.reply is None


async def test_the_drafter_sees_thread_and_earlier_sender_mail_newest_first() -> None:
    stages = build(context_limit=3)
    at = [EPOCH + timedelta(hours=h) for h in range(6)]
    older = await stages.add(sender="ada@example.com", received_at=at[0])
    in_thread = await stages.add(sender="bob@example.com", thread_id="t1", received_at=at[1])
    old = await stages.add(sender="ada@example.com", received_at=at[2])
    await stages.add(sender="eve@example.com", received_at=at[3])  # unrelated
    await stages.add(sender="ada@example.com", received_at=at[5])  # later than the email
    await stages.add(user_id=BOB, sender="ada@example.com", received_at=at[1])  # not Alice's
    email = await stages.add(sender="ada@example.com", thread_id="t1", received_at=at[4])
    await stages.pipeline.run(email)
    assert stages.drafter.calls == [(email.id, Intent.INQUIRY, [old.id, in_thread.id, older.id])]


async def test_context_is_cut_at_the_limit() -> None:
    stages = build(context_limit=2)
    for hour in range(4):
        await stages.add(received_at=EPOCH + timedelta(hours=hour))
    email = await stages.add(received_at=EPOCH + timedelta(hours=9))
    await stages.pipeline.run(email)
    assert len(stages.drafter.calls[0][2]) == 2


@pytest.mark.parametrize("stage", ["classifier", "drafter"])
async def test_a_provider_error_in_any_stage_reaches_the_caller_and_nothing_is_sent(
    stage: str,
) -> None:
    stages = build(auto_send=True)
    email = await stages.add()
    getattr(stages, stage).fail(email.id, "provider timed out")
    with pytest.raises(ProviderError, match="provider timed out"):
        await stages.pipeline.run(email)
