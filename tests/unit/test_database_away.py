"""A job's emails when the database goes away for a moment (DESIGN §4): each email
that meets it fails with a short reason, its claim is given back once the database
answers again, the job ends, and a retry runs them."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from uuid import UUID

from reasonflow.domain.errors import DatabaseUnavailable
from reasonflow.domain.execution import DATABASE_AWAY
from reasonflow.domain.model import (
    Classification,
    Email,
    EmailStatus,
    Intent,
    JobStatus,
    PipelineResult,
    Usage,
)
from reasonflow.entrypoints.bootstrap import CLAIM_GRACE, wire
from reasonflow.entrypoints.settings import Settings
from tests.fakes import FakeClock, FakeEmailRepository, fake_adapters, make_email
from tests.support import wait_for
from tests.unit.test_services import ALICE, build

MESSAGE = f"Agent pipeline failed: {DATABASE_AWAY}"


class FlakyEmails(FakeEmailRepository):
    """Every call raises ``DatabaseUnavailable`` while ``outage`` calls remain."""

    outage = 0
    attempts = 0

    def _maybe_away(self) -> None:
        self.attempts += 1
        if self.outage:
            self.outage -= 1
            raise DatabaseUnavailable()

    async def get(self, user_id: UUID, email_id: UUID) -> Email | None:
        self._maybe_away()
        return await super().get(user_id, email_id)

    async def finish_claimed(
        self,
        email_id: UUID,
        job_id: str,
        result: PipelineResult | None,
        error: str | None = None,
    ) -> bool:
        self._maybe_away()
        return await super().finish_claimed(email_id, job_id, result, error)

    async def release(self, job_id: str, ids: Collection[UUID] | None = None) -> int:
        self._maybe_away()
        return await super().release(job_id, ids)


async def test_an_email_that_meets_the_database_away_fails_short_and_is_given_back() -> None:
    world = build(emails=FlakyEmails)
    emails = world.emails
    assert isinstance(emails, FlakyEmails)
    a, b = await world.inbox(2)
    job = await world.service.submit_process(ALICE, [a, b])
    # The read of ``a`` fails, then three tries to record its failure, then it is back.
    emails.outage = 4
    await world.runner.step(job.id, a)
    assert emails.outage == 0
    assert world.email(a).status is EmailStatus.NEEDS_REVIEW
    assert world.email(a).last_error == MESSAGE
    assert world.email(a).job_id is None
    await world.run()
    done = await world.job(job.id)
    assert (done.status, done.succeeded, done.failed) == (JobStatus.COMPLETED, 1, 1)
    assert [(e.email_id, e.error) for e in done.errors] == [(a, MESSAGE)]

    again = await world.service.retry(ALICE, job.id)
    await world.run()
    redone = await world.job(again.id)
    assert (redone.status, redone.succeeded, redone.failed) == (JobStatus.COMPLETED, 1, 0)
    assert world.email(a).status is EmailStatus.DRAFTED and world.email(a).last_error is None


async def test_a_result_that_could_not_be_saved_fails_the_email_and_keeps_its_usage() -> None:
    world = build(emails=FlakyEmails)
    emails = world.emails
    assert isinstance(emails, FlakyEmails)
    (a,) = await world.inbox(1)
    spent = Usage(prompt_tokens=120, completion_tokens=30, cost_usd=0.0004)
    world.classifier.answer(a, Classification(Intent.INQUIRY, 0.9, usage=spent))
    job = await world.service.submit_process(ALICE, [a])

    original = emails.finish_claimed
    saves: list[PipelineResult | None] = []

    async def away_for_the_result(
        email_id: UUID, job_id: str, result: PipelineResult | None, error: str | None = None
    ) -> bool:
        saves.append(result)
        if result is not None:
            raise DatabaseUnavailable()
        return await original(email_id, job_id, result, error)

    emails.finish_claimed = away_for_the_result  # type: ignore[method-assign]
    await world.run()
    done = await world.job(job.id)
    assert (done.status, [e.error for e in done.errors]) == (JobStatus.FAILED, [MESSAGE])
    assert [s is None for s in saves] == [False, True]
    assert done.usage.prompt_tokens >= 120  # the provider calls made are still counted
    assert world.email(a).status is EmailStatus.NEEDS_REVIEW and world.email(a).job_id is None


async def test_a_claim_left_by_an_ended_job_is_released_by_the_periodic_round() -> None:
    """One process (``JOB_STORE=memory``): no restart needed for a claim that a
    job could not give back (the database stayed away longer than it waited)."""
    clock = FakeClock()
    adapters = fake_adapters(clock)
    services = wire(adapters, Settings(recovery_interval_seconds=0.05))
    emails = adapters.emails
    assert isinstance(emails, FakeEmailRepository)
    await services.lifecycle.start()
    try:
        email = make_email(ALICE, status=EmailStatus.DRAFTED)
        await emails.add(email)
        assert await emails.claim(ALICE, [email.id], "prc_00000000000000ff")  # no such job
        # A fresh claim may belong to a submission whose job is not stored yet.
        await asyncio.sleep(0.2)
        assert emails.rows[email.id].status is EmailStatus.PROCESSING
        clock.advance(CLAIM_GRACE.total_seconds() + 1)
        released = await wait_for(
            lambda: _status(emails, email.id), lambda s: s is EmailStatus.DRAFTED, timeout=5
        )
        assert released is EmailStatus.DRAFTED and emails.rows[email.id].job_id is None
    finally:
        await services.lifecycle.stop()


async def _status(emails: FakeEmailRepository, email_id: UUID) -> EmailStatus:
    return emails.rows[email_id].status


async def test_a_classify_email_that_meets_the_database_away_waits_for_it_then_fails() -> None:
    world = build(emails=FlakyEmails)
    emails = world.emails
    assert isinstance(emails, FlakyEmails)
    a, b = await world.inbox(2)
    job = await world.service.submit_classify(ALICE, [a, b])
    emails.outage = 3  # the read, then two more tries while the slot is held
    await world.runner.step(job.id, a)
    assert emails.outage == 0, "the email's slot was given up before the database answered"
    await world.run()
    done = await world.job(job.id)
    assert (done.status, done.succeeded, done.failed) == (JobStatus.COMPLETED, 1, 1)
    assert [e.error for e in done.errors] == [f"Classification failed: {DATABASE_AWAY}"]
