"""Cost controls over the fakes (DESIGN §10): budgets, the cascade and estimates."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import cast
from uuid import UUID

import pytest

from reasonflow.adapters.jobs.memory import InMemoryJobStore
from reasonflow.domain.cascade import CascadeClassifier
from reasonflow.domain.estimates import EstimateService
from reasonflow.domain.model import (
    CancelReason,
    Classification,
    EmailStatus,
    Intent,
    JobKind,
    JobStatus,
    Outcome,
    Usage,
)
from reasonflow.domain.ports import CostModel, EmailStep, ModelCall
from reasonflow.entrypoints.bootstrap import Services, wire
from reasonflow.entrypoints.settings import Settings
from tests.fakes import (
    EPOCH,
    FakeClassifier,
    FakeEmailRepository,
    FakeRunner,
    fake_adapters,
    make_email,
)

ALICE = UUID(int=0xA11CE)
#: Each call of the fake classifier costs one dollar.
DOLLAR = Classification(Intent.INQUIRY, 0.9, usage=Usage(10, 5, 1.0, llm_calls=1))


class TokenPerCharacter(CostModel):
    """Counts a token per character of each email's body; a dollar per call."""

    def __init__(self) -> None:
        self.seen: list[ModelCall] = []

    @property
    def priced(self) -> bool:
        return True

    async def usage(self, calls: Sequence[ModelCall]) -> Usage:
        self.seen.extend(calls)
        tokens = sum(len(c.email.body) for c in calls)
        return Usage(tokens, 10 * len(calls), float(len(calls)), llm_calls=len(calls))

    def call_seconds(self) -> float:
        return 2.0

    def pace_seconds(self) -> float:
        return 0.0


class World:
    def __init__(self, threshold: float | None = None, concurrency: int = 4) -> None:
        self.runners: list[FakeRunner] = []

        def make_runner(step: EmailStep) -> FakeRunner:
            self.runners.append(FakeRunner(step))
            return self.runners[-1]

        self.costs = TokenPerCharacter()
        adapters = replace(
            fake_adapters(),
            runner=make_runner,
            classifier=FakeClassifier(DOLLAR),
            costs=self.costs,
        )
        settings = Settings(classify_cascade_threshold=threshold, llm_max_concurrency=concurrency)
        self.services: Services = wire(adapters, settings)
        self.emails = cast(FakeEmailRepository, adapters.emails)
        self.jobs = cast(InMemoryJobStore, adapters.jobs)
        self.classifier = cast(FakeClassifier, adapters.classifier)

    async def inbox(self, subjects: Sequence[str], **fields: object) -> list[UUID]:
        ids = []
        for n, subject in enumerate(subjects):
            email = make_email(
                ALICE, subject=subject, received_at=EPOCH + timedelta(minutes=n), **fields
            )
            await self.emails.add(email)
            ids.append(email.id)
        return ids


@pytest.mark.parametrize("kind", list(JobKind))
async def test_a_job_stops_starting_emails_once_its_cost_reaches_the_budget(
    kind: JobKind, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="reasonflow.jobs")
    world = World()
    ids = await world.inbox([f"Question {n}" for n in range(5)])
    batch = world.services.batch
    submit = batch.submit_classify if kind is JobKind.CLASSIFY else batch.submit_process
    job = await submit(ALICE, ids, max_cost_usd=2.5)

    await world.runners[0].run_all()

    done = await world.jobs.get(job.id)
    assert done is not None
    # One email at a time: the third starts at $2 spent, under the budget, and ends at $3.
    assert (done.status, done.cancel_reason) == (JobStatus.CANCELLED, CancelReason.BUDGET)
    assert (done.succeeded, done.cancelled, done.usage.cost_usd) == (3, 2, 3.0)
    assert world.classifier.call_count == 3
    statuses = [world.emails.rows[i].status for i in ids]
    assert EmailStatus.PROCESSING not in statuses
    if kind is JobKind.PROCESS:
        assert statuses[3:] == [EmailStatus.PENDING, EmailStatus.PENDING]
    # The stream's outcome log has every email, the withdrawn ones last.
    logged = await world.jobs.outcomes(job.id, 0)
    assert logged is not None
    assert [(o.email_id, o.outcome) for o in logged] == [
        *((i, Outcome.SUCCEEDED) for i in ids[:3]),
        *((i, Outcome.CANCELLED) for i in ids[3:]),
    ]
    assert [o.status for o in logged[3:]] == [EmailStatus.PENDING, EmailStatus.PENDING]
    finished = [r for r in caplog.records if r.getMessage() == "job finished"]
    assert [r.__dict__["fields"]["cancel_reason"] for r in finished] == ["budget"]


async def test_a_cancel_by_its_owner_says_so() -> None:
    world = World()
    ids = await world.inbox(["One", "Two"])
    job = await world.services.batch.submit_classify(ALICE, ids, max_cost_usd=10)

    cancelled = await world.services.batch.cancel(ALICE, job.id)

    assert (cancelled.status, cancelled.cancel_reason) == (
        JobStatus.CANCELLED,
        CancelReason.USER,
    )


async def test_the_cascade_keeps_sure_answers_from_the_model() -> None:
    world = World(threshold=0.8)
    sure = "Unsubscribe now: you WON a FREE prize, click here, limited offer, act now"
    ids = await world.inbox([sure, "Hello"], body="")

    job = await world.services.batch.submit_classify(ALICE, ids)
    await world.runners[0].run_all()

    done = await world.jobs.get(job.id)
    assert done is not None and done.succeeded == 2
    assert world.classifier.calls == [ids[1]]  # the sure one never reached the model
    assert world.emails.rows[ids[0]].intent is Intent.SPAM
    assert (done.usage.llm_calls, done.usage.llm_calls_saved) == (1, 1)


async def test_a_cascade_answer_below_the_threshold_goes_to_the_model() -> None:
    model = FakeClassifier(DOLLAR)
    rules = FakeClassifier(Classification(Intent.SPAM, 0.79))
    cascade = CascadeClassifier(rules, model, threshold=0.8)
    email = make_email(ALICE)

    answer = await cascade.classify(email)

    assert (answer.intent, answer.usage.llm_calls, answer.usage.llm_calls_saved) == (
        Intent.INQUIRY,
        1,
        0,
    )
    rules.default = Classification(Intent.SPAM, 0.8)
    settled = await cascade.classify(email)
    assert (settled.intent, settled.usage.llm_calls_saved, model.call_count) == (
        Intent.SPAM,
        1,
        1,
    )


async def test_an_estimate_counts_the_calls_the_job_would_make() -> None:
    world = World(concurrency=2)
    ids = await world.inbox(["One", "Two", "Three"], body="12345")
    done = await world.inbox(["Classified"], body="12345", intent=Intent.OTHER, confidence=0.7)
    estimates: EstimateService = world.services.estimates

    classify = await estimates.estimate(JobKind.CLASSIFY, ALICE, ids + done)
    forced = await estimates.estimate(JobKind.CLASSIFY, ALICE, ids + done, force=True)
    process = await estimates.estimate(JobKind.PROCESS, ALICE, ids)

    # The classified email is skipped unless forced; two rounds of two at 2 s.
    assert (classify.emails, classify.llm_calls, classify.prompt_tokens) == (4, 3, 15)
    assert (classify.cost_usd, classify.seconds) == (3.0, 4.0)
    assert (forced.llm_calls, forced.seconds) == (4, 4.0)
    # A classification and a draft per email, one after the other.
    assert (process.llm_calls, process.seconds) == (6, 8.0)
    drafts = [c for c in world.costs.seen if c.intent is not None]
    assert len(drafts) == 3
    assert world.classifier.call_count == 0 and await world.jobs.unfinished_ids() == set()
    assert all(world.emails.rows[i].status is EmailStatus.PENDING for i in ids)


async def test_an_estimate_leaves_out_what_the_cascade_would_settle() -> None:
    world = World(threshold=0.8)
    sure = "Unsubscribe now: you WON a FREE prize, click here, limited offer, act now"
    ids = await world.inbox([sure, "Hello"], body="")

    guess = await world.services.estimates.estimate(JobKind.CLASSIFY, ALICE, ids)

    assert (guess.emails, guess.llm_calls) == (2, 1)
