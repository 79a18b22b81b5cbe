"""BatchService over the fakes: submission, ownership and running each email (DESIGN §4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import cast
from uuid import UUID, uuid4

import pytest

from reasonflow.adapters.jobs.memory import InMemoryJobStore
from reasonflow.domain.dispatch import ReplyDispatcher
from reasonflow.domain.errors import (
    BatchTooLarge,
    DuplicateEmailIds,
    EmailsConflict,
    EmailsNotFound,
    EmptyBatch,
    JobConflict,
    JobNotFound,
    ProviderError,
    TooManyActiveJobs,
)
from reasonflow.domain.model import (
    BatchJob,
    Classification,
    Email,
    EmailStatus,
    Intent,
    JobKind,
    JobStatus,
    Outcome,
    PipelineResult,
    Usage,
)
from reasonflow.domain.pipeline import ReviewPolicy, StagedPipeline
from reasonflow.domain.ports import EmailStep
from reasonflow.domain.services import BatchService
from reasonflow.entrypoints.bootstrap import wire
from reasonflow.entrypoints.settings import Settings
from tests.fakes import (
    EPOCH,
    FakeClassifier,
    FakeClock,
    FakeDispatchQueue,
    FakeDrafter,
    FakeEmailRepository,
    FakeMailer,
    FakeRunner,
    fake_adapters,
    make_email,
)

ALICE, BOB = UUID(int=0xA11CE), UUID(int=0xB0B)


@dataclass
class World:
    """The real use cases, wired by ``wire()`` over the fakes."""

    service: BatchService
    clock: FakeClock
    emails: FakeEmailRepository
    jobs: InMemoryJobStore
    runner: FakeRunner
    classifier: FakeClassifier
    drafter: FakeDrafter
    mailer: FakeMailer
    dispatcher: ReplyDispatcher

    async def inbox(self, count: int, user: UUID = ALICE, **fields: object) -> list[UUID]:
        ids = []
        for n in range(count):
            email = make_email(user, received_at=EPOCH + timedelta(minutes=n), **fields)
            await self.emails.add(email)
            ids.append(email.id)
        return ids

    def email(self, email_id: UUID) -> Email:
        return self.emails.rows[email_id]

    async def job(self, job_id: str) -> BatchJob:
        job = await self.jobs.get(job_id)
        assert job is not None
        return job

    async def run(self) -> None:
        await self.runner.run_all()

    async def pipeline_only(self, job_id: str, email_id: UUID) -> None:
        """What a worker that dies before recording does: the email's result is
        saved, the job does not count it."""
        email = self.emails.rows[email_id]
        try:
            result = await StagedPipeline(
                self.classifier, self.drafter, self.emails, ReviewPolicy()
            ).run(email)
        except ProviderError as exc:
            await self.emails.finish_claimed(
                email_id, job_id, None, error=f"Agent pipeline failed: {exc.reason}"
            )
            return
        await self.emails.finish_claimed(email_id, job_id, result)


def build(
    max_active: int = 10,
    policy: ReviewPolicy | None = None,
    emails: type[FakeEmailRepository] = FakeEmailRepository,
    runner: type[FakeRunner] = FakeRunner,
) -> World:
    clock = FakeClock()
    policy = policy or ReviewPolicy()
    runners: list[FakeRunner] = []

    def make_runner(step: EmailStep) -> FakeRunner:
        runners.append(runner(step))
        return runners[-1]

    repo = emails(clock)
    adapters = replace(
        fake_adapters(clock), emails=repo, dispatches=FakeDispatchQueue(repo), runner=make_runner
    )
    settings = Settings(
        max_active_jobs=max_active,
        auto_approve_threshold=policy.auto_approve_threshold,
        auto_send=policy.auto_send,
    )
    services = wire(adapters, settings)
    return World(
        services.batch,
        clock,
        cast(FakeEmailRepository, adapters.emails),
        cast(InMemoryJobStore, adapters.jobs),
        runners[0],
        cast(FakeClassifier, adapters.classifier),
        cast(FakeDrafter, adapters.drafter),
        cast(FakeMailer, adapters.mailer),
        services.dispatcher,
    )


# -- submission --------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 100])
async def test_submit_classify_queues_a_job(count: int) -> None:
    world = build()
    ids = await world.inbox(count)
    job = await world.service.submit_classify(ALICE, ids)
    assert job.id.startswith("cls_")
    assert (job.status, job.total, job.processed, job.email_ids) == (
        JobStatus.QUEUED,
        count,
        0,
        tuple(ids),
    )
    assert [j.id for j in world.runner.submitted] == [job.id]
    assert (await world.service.status(ALICE, job.id)).total == count


@pytest.mark.parametrize("count", [1, 50])
async def test_submit_process_claims_every_email_at_once(count: int) -> None:
    world = build()
    ids = await world.inbox(count, status=EmailStatus.DRAFTED)
    job = await world.service.submit_process(ALICE, ids)
    assert job.id.startswith("prc_")
    assert job.status is JobStatus.QUEUED
    for email_id in ids:
        email = world.email(email_id)
        assert (email.status, email.job_id, email.previous_status) == (
            EmailStatus.PROCESSING,
            job.id,
            EmailStatus.DRAFTED,
        )
    assert [j.id for j in world.runner.submitted] == [job.id]


@pytest.mark.parametrize(
    ("kind", "count", "error"),
    [
        (JobKind.CLASSIFY, 0, EmptyBatch),
        (JobKind.CLASSIFY, 101, BatchTooLarge),
        (JobKind.PROCESS, 0, EmptyBatch),
        (JobKind.PROCESS, 51, BatchTooLarge),
    ],
)
async def test_a_selection_of_the_wrong_size_is_refused(
    kind: JobKind, count: int, error: type[Exception]
) -> None:
    world = build()
    ids = await world.inbox(count)
    submit = (
        world.service.submit_classify if kind is JobKind.CLASSIFY else world.service.submit_process
    )
    with pytest.raises(error):
        await submit(ALICE, ids)
    assert len(world.jobs) == 0
    assert world.runner.submitted == []
    assert all(e.status is EmailStatus.PENDING for e in world.emails.rows.values())


@pytest.mark.parametrize("kind", list(JobKind))
async def test_a_repeated_id_is_refused(kind: JobKind) -> None:
    world = build()
    a, b = await world.inbox(2)
    submit = (
        world.service.submit_classify if kind is JobKind.CLASSIFY else world.service.submit_process
    )
    with pytest.raises(DuplicateEmailIds) as caught:
        await submit(ALICE, [a, b, a])
    assert caught.value.ids == [a]
    assert len(world.jobs) == 0


@pytest.mark.parametrize("kind", list(JobKind))
async def test_missing_and_foreign_emails_are_the_same_not_found(kind: JobKind) -> None:
    world = build()
    mine = await world.inbox(2)
    (bobs,) = await world.inbox(1, user=BOB)
    missing = uuid4()
    submit = (
        world.service.submit_classify if kind is JobKind.CLASSIFY else world.service.submit_process
    )
    with pytest.raises(EmailsNotFound) as foreign:
        await submit(ALICE, [*mine, bobs])
    with pytest.raises(EmailsNotFound) as absent:
        await submit(ALICE, [*mine, missing])
    assert foreign.value.ids == [bobs]
    assert absent.value.ids == [missing]
    assert foreign.value.message == absent.value.message
    # Nothing was claimed or queued.
    assert len(world.jobs) == 0
    assert world.runner.submitted == []
    assert all(e.status is EmailStatus.PENDING for e in world.emails.rows.values())


@pytest.mark.parametrize("busy", [EmailStatus.PROCESSING, EmailStatus.SENT])
async def test_process_refuses_busy_or_sent_emails_and_claims_none(busy: EmailStatus) -> None:
    world = build()
    free = await world.inbox(2, status=EmailStatus.NEEDS_REVIEW)
    (blocked,) = await world.inbox(1, status=busy)
    with pytest.raises(EmailsConflict) as caught:
        await world.service.submit_process(ALICE, [*free, blocked])
    assert caught.value.conflicts == {blocked: busy}
    assert [world.email(i).status for i in free] == [EmailStatus.NEEDS_REVIEW] * 2
    assert len(world.jobs) == 0


async def test_two_overlapping_process_submissions_cannot_both_be_accepted() -> None:
    world = build()
    a, b, c = await world.inbox(3)
    first = await world.service.submit_process(ALICE, [a, b])
    with pytest.raises(EmailsConflict) as caught:
        await world.service.submit_process(ALICE, [b, c])
    assert caught.value.conflicts == {b: EmailStatus.PROCESSING}
    assert world.email(b).job_id == first.id
    assert world.email(c).status is EmailStatus.PENDING


async def test_classify_accepts_emails_in_any_status() -> None:
    world = build()
    ids = [(await world.inbox(1, status=s))[0] for s in EmailStatus]
    job = await world.service.submit_classify(ALICE, ids)
    assert job.total == len(EmailStatus)


async def test_status_is_for_the_jobs_owner_only() -> None:
    world = build()
    job = await world.service.submit_classify(ALICE, await world.inbox(1))
    assert (await world.service.status(ALICE, job.id)).id == job.id
    with pytest.raises(JobNotFound):
        await world.service.status(BOB, job.id)
    with pytest.raises(JobNotFound):
        await world.service.status(ALICE, "cls_0123456789abcdef")


# -- active job limit --------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 10])
async def test_the_job_beyond_the_active_limit_is_refused_until_one_finishes(limit: int) -> None:
    world = build(max_active=limit)
    ids = await world.inbox(limit + 1)
    for email_id in ids[:limit]:
        await world.service.submit_classify(ALICE, [email_id])
    with pytest.raises(TooManyActiveJobs) as caught:
        await world.service.submit_classify(ALICE, ids[limit:])
    assert caught.value.limit == limit
    assert len(world.runner.submitted) == len(world.jobs) == limit
    # Another user is not affected by Alice's jobs.
    await world.service.submit_classify(BOB, await world.inbox(1, user=BOB))
    await world.run()
    await world.service.submit_classify(ALICE, ids[limit:])


async def test_a_refused_process_job_gives_its_emails_back() -> None:
    world = build(max_active=1)
    await world.service.submit_process(ALICE, await world.inbox(1))
    drafted = await world.inbox(2, status=EmailStatus.DRAFTED)
    with pytest.raises(TooManyActiveJobs):
        await world.service.submit_process(ALICE, drafted)
    for email_id in drafted:
        email = world.email(email_id)
        assert (email.status, email.job_id, email.previous_status) == (
            EmailStatus.DRAFTED,
            None,
            None,
        )
    assert len(world.runner.submitted) == 1
    # Given back means claimable again once a slot frees up.
    await world.run()
    await world.service.submit_process(ALICE, drafted)


# -- classify ----------------------------------------------------------------------


async def test_classify_sets_intent_and_confidence_and_leaves_status() -> None:
    world = build()
    a, b = await world.inbox(2, status=EmailStatus.DRAFTED)
    world.classifier.answer(b, Classification(Intent.SPAM, 0.97, usage=Usage(10, 2, 0.01)))
    world.classifier.default = Classification(Intent.MEETING_REQUEST, 0.6, usage=Usage(5, 1, 0.02))
    job = await world.service.submit_classify(ALICE, [a, b])
    world.clock.advance(30)
    await world.run()
    emails = [world.email(a), world.email(b)]
    assert [(e.intent, e.confidence, e.status) for e in emails] == [
        (Intent.MEETING_REQUEST, 0.6, EmailStatus.DRAFTED),
        (Intent.SPAM, 0.97, EmailStatus.DRAFTED),
    ]
    done = await world.job(job.id)
    assert (done.status, done.processed, done.succeeded, done.failed) == (
        JobStatus.COMPLETED,
        2,
        2,
        0,
    )
    assert done.errors == []
    assert done.completed_at == world.clock.now()
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (15, 3)
    assert done.usage.cost_usd == pytest.approx(0.03)


async def test_already_classified_emails_are_skipped_and_count_as_succeeded() -> None:
    world = build()
    (known,) = await world.inbox(1, intent=Intent.COMPLAINT, confidence=0.7)
    (fresh,) = await world.inbox(1)
    job = await world.service.submit_classify(ALICE, [known, fresh])
    await world.run()
    assert world.classifier.calls == [fresh]
    assert (world.email(known).intent, world.email(known).confidence) == (
        Intent.COMPLAINT,
        0.7,
    )
    assert (await world.job(job.id)).succeeded == 2


async def test_force_classifies_again() -> None:
    world = build()
    (known,) = await world.inbox(1, intent=Intent.COMPLAINT, confidence=0.7)
    job = await world.service.submit_classify(ALICE, [known], force=True)
    await world.run()
    assert world.classifier.calls == [known]
    assert world.email(known).intent is Intent.INQUIRY
    assert (await world.job(job.id)).succeeded == 1


async def test_a_provider_error_fails_that_email_and_the_job_completes() -> None:
    world = build()
    a, b, c = await world.inbox(3)
    world.classifier.fail(b, "API rate limit exceeded")
    job = await world.service.submit_classify(ALICE, [a, b, c])
    await world.run()
    done = await world.job(job.id)
    assert (done.status, done.succeeded, done.failed) == (JobStatus.COMPLETED, 2, 1)
    assert [(e.email_id, e.error) for e in done.errors] == [
        (b, "Classification failed: API rate limit exceeded")
    ]
    assert done.errors[0].timestamp == world.clock.now()
    assert world.email(b).intent is None
    assert world.classifier.calls == [a, b, c]


async def test_a_job_where_every_email_failed_is_failed() -> None:
    world = build()
    ids = await world.inbox(3)
    for email_id in ids:
        world.classifier.fail(email_id, "provider timed out")
    job = await world.service.submit_classify(ALICE, ids)
    await world.run()
    done = await world.job(job.id)
    assert (done.status, done.failed) == (JobStatus.FAILED, 3)
    assert {e.error for e in done.errors} == {"Classification failed: provider timed out"}


async def test_a_fatal_provider_error_fails_the_rest_without_calling_the_provider() -> None:
    world = build()
    ids = await world.inbox(5)
    world.classifier.fail(ids[1], "invalid API key", fatal=True)
    job = await world.service.submit_classify(ALICE, ids)
    await world.run()
    assert world.classifier.calls == ids[:2]
    done = await world.job(job.id)
    assert (done.status, done.succeeded, done.failed, done.cancelled) == (
        JobStatus.COMPLETED,
        1,
        4,
        0,
    )
    assert [e.email_id for e in done.errors] == ids[1:]
    assert {e.error for e in done.errors} == {"Classification failed: invalid API key"}
    assert [world.email(i).intent for i in ids[1:]] == [None] * 4


async def test_a_fatal_error_on_the_first_email_fails_the_whole_job() -> None:
    world = build()
    ids = await world.inbox(4)
    world.classifier.fail(ids[0], "invalid API key", fatal=True)
    job = await world.service.submit_classify(ALICE, ids)
    await world.run()
    assert world.classifier.call_count == 1
    assert (await world.job(job.id)).status is JobStatus.FAILED


async def test_a_fatal_error_does_not_touch_other_jobs() -> None:
    world = build()
    mine, other = await world.inbox(2), await world.inbox(2)
    world.classifier.fail(mine[0], "invalid API key", fatal=True)
    first = await world.service.submit_classify(ALICE, mine)
    second = await world.service.submit_classify(ALICE, other)
    await world.run()
    assert (await world.job(first.id)).status is JobStatus.FAILED
    assert (await world.job(second.id)).succeeded == 2


async def test_an_unexpected_error_is_reported_without_details_and_the_job_finishes() -> None:
    world = build()
    a, b = await world.inbox(2)
    world.classifier.errors[a] = RuntimeError("connection to 10.0.0.3 refused, password=hunter2")
    job = await world.service.submit_classify(ALICE, [a, b])
    await world.run()
    done = await world.job(job.id)
    assert (done.status, done.succeeded, done.failed) == (JobStatus.COMPLETED, 1, 1)
    assert [e.error for e in done.errors] == ["Classification failed: unexpected internal error"]


async def test_running_an_email_twice_counts_it_once() -> None:
    world = build()
    a, b = await world.inbox(2)
    job = await world.service.submit_classify(ALICE, [a, b])
    await world.runner.step(job.id, a)
    await world.runner.step(job.id, a)
    running = await world.job(job.id)
    assert (running.status, running.processed) == (JobStatus.PROCESSING, 1)
    assert world.classifier.calls == [a]


async def test_an_unknown_job_is_ignored() -> None:
    world = build()
    (a,) = await world.inbox(1)
    await world.runner.step("cls_0123456789abcdef", a)
    assert world.classifier.calls == []


async def test_an_email_deleted_after_submission_fails_alone() -> None:
    world = build()
    a, b = await world.inbox(2)
    job = await world.service.submit_classify(ALICE, [a, b])
    del world.emails.rows[a]
    await world.run()
    done = await world.job(job.id)
    assert (done.status, done.succeeded) == (JobStatus.COMPLETED, 1)
    assert [e.error for e in done.errors] == ["Classification failed: email no longer exists"]


class UnreachableEmailRepository(FakeEmailRepository):
    """The database goes away after submission: every read fails."""

    async def get(self, user_id: UUID, email_id: UUID) -> Email | None:
        raise ConnectionError("database is unreachable")


async def test_an_unexpected_error_reading_the_email_still_finishes_the_job() -> None:
    world = build(emails=UnreachableEmailRepository)
    ids = await world.inbox(2)
    job = await world.service.submit_classify(ALICE, ids)
    await world.run()
    done = await world.job(job.id)
    assert (done.status, done.failed) == (JobStatus.FAILED, 2)
    assert {e.error for e in done.errors} == {"Classification failed: unexpected internal error"}


# -- process -----------------------------------------------------------------------


async def test_process_commits_each_pipeline_result_and_drops_the_claim() -> None:
    world = build()
    ok, spam, angry = await world.inbox(3)
    world.classifier.answer(spam, Classification(Intent.SPAM, 0.95))
    world.classifier.answer(angry, Classification(Intent.COMPLAINT, 0.99))
    job = await world.service.submit_process(ALICE, [ok, spam, angry])
    await world.run()
    rows = {i: world.email(i) for i in (ok, spam, angry)}
    assert {i: (e.status, e.intent) for i, e in rows.items()} == {
        ok: (EmailStatus.DRAFTED, Intent.INQUIRY),
        spam: (EmailStatus.REJECTED, Intent.SPAM),
        angry: (EmailStatus.NEEDS_REVIEW, Intent.COMPLAINT),
    }
    assert rows[ok].draft == world.drafter.default.text
    assert rows[spam].draft is None
    assert all(e.job_id is None and e.previous_status is None for e in rows.values())
    assert world.mailer.sent == []
    done = await world.job(job.id)
    assert (done.status, done.succeeded) == (JobStatus.COMPLETED, 3)


async def test_process_with_auto_send_queues_confident_replies_then_sends_them() -> None:
    world = build(policy=ReviewPolicy(0.8, auto_send=True))
    sure, unsure = await world.inbox(2)
    world.classifier.answer(unsure, Classification(Intent.INQUIRY, 0.5))
    await world.service.submit_process(ALICE, [sure, unsure])
    await world.run()
    assert world.email(sure).status is EmailStatus.SENDING
    assert world.email(unsure).status is EmailStatus.NEEDS_REVIEW
    assert world.mailer.sent == []  # committed with the result; delivered by the dispatcher

    assert await world.dispatcher.deliver_due() == 1
    assert world.email(sure).status is EmailStatus.SENT
    assert world.mailer.sent == [(sure, world.drafter.default.text)]


async def test_a_pipeline_failure_leaves_the_email_for_review_with_the_error() -> None:
    world = build()
    a, b = await world.inbox(2, status=EmailStatus.DRAFTED)
    world.drafter.fail(a, "provider timed out")
    job = await world.service.submit_process(ALICE, [a, b])
    await world.run()
    failed = world.email(a)
    assert (failed.status, failed.last_error, failed.job_id) == (
        EmailStatus.NEEDS_REVIEW,
        "Agent pipeline failed: provider timed out",
        None,
    )
    done = await world.job(job.id)
    assert (done.status, done.succeeded, done.failed) == (JobStatus.COMPLETED, 1, 1)
    assert [(e.email_id, e.error) for e in done.errors] == [
        (a, "Agent pipeline failed: provider timed out")
    ]


async def test_a_fatal_pipeline_error_leaves_no_email_stuck_in_processing() -> None:
    world = build()
    ids = await world.inbox(4)
    world.classifier.fail(ids[1], "invalid API key", fatal=True)
    job = await world.service.submit_process(ALICE, ids)
    await world.run()
    assert world.classifier.calls == ids[:2]
    done = await world.job(job.id)
    assert (done.status, done.succeeded, done.failed) == (JobStatus.COMPLETED, 1, 3)
    assert {e.error for e in done.errors} == {"Agent pipeline failed: invalid API key"}
    for email_id in ids:
        email = world.email(email_id)
        assert email.status is not EmailStatus.PROCESSING
        assert email.job_id is None


async def test_a_crash_in_the_pipeline_is_reported_and_the_email_released_for_review() -> None:
    world = build(policy=ReviewPolicy(auto_send=True))
    (a,) = await world.inbox(1)
    world.classifier.errors[a] = OSError("db.internal:5432 refused")
    job = await world.service.submit_process(ALICE, [a])
    await world.run()
    done = await world.job(job.id)
    assert done.status is JobStatus.FAILED
    assert [e.error for e in done.errors] == ["Agent pipeline failed: unexpected internal error"]
    email = world.email(a)
    assert (email.status, email.job_id) == (EmailStatus.NEEDS_REVIEW, None)
    assert email.last_error == "Agent pipeline failed: unexpected internal error"


async def test_process_usage_sums_classification_and_draft() -> None:
    world = build()
    ids = await world.inbox(2)
    world.classifier.default = Classification(Intent.INQUIRY, 0.9, usage=Usage(100, 10, None))
    job = await world.service.submit_process(ALICE, ids)
    await world.run()
    usage = (await world.job(job.id)).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cost_usd) == (200, 20, None)


class RefusingRunner(FakeRunner):
    """A runner that refuses jobs while ``refusing`` is set."""

    refusing = False

    async def submit(self, job: BatchJob) -> None:
        if self.refusing:
            raise RuntimeError("the server is shutting down")
        await super().submit(job)


@pytest.mark.parametrize("kind", [JobKind.CLASSIFY, JobKind.PROCESS])
async def test_a_runner_that_refuses_the_job_undoes_the_submission(kind: JobKind) -> None:
    world = build(max_active=1, runner=RefusingRunner)
    ids = await world.inbox(2)
    cast(RefusingRunner, world.runner).refusing = True
    submit = (
        world.service.submit_classify(ALICE, ids)
        if kind is JobKind.CLASSIFY
        else world.service.submit_process(ALICE, ids)
    )
    with pytest.raises(RuntimeError):
        await submit
    assert {world.email(i).status for i in ids} == {EmailStatus.PENDING}
    assert world.email(ids[0]).job_id is None
    cast(RefusingRunner, world.runner).refusing = False
    await world.service.submit_process(ALICE, ids)  # the refused job holds no active slot


class ClaimLosingRepository(FakeEmailRepository):
    """Recovery in another process gives every claim back while the pipeline runs."""

    async def finish_claimed(
        self,
        email_id: UUID,
        job_id: str,
        result: PipelineResult | None,
        error: str | None = None,
    ) -> bool:
        await self.release(job_id)
        return await super().finish_claimed(email_id, job_id, result, error)


async def test_an_email_whose_claim_was_lost_fails_and_is_not_counted_as_succeeded() -> None:
    world = build(emails=ClaimLosingRepository)
    (a,) = await world.inbox(1, status=EmailStatus.NEEDS_REVIEW)
    job = await world.service.submit_process(ALICE, [a])
    await world.run()
    done = await world.job(job.id)
    assert (done.status, done.succeeded, done.failed) == (JobStatus.FAILED, 0, 1)
    assert [e.error for e in done.errors] == [
        "Agent pipeline failed: the email was released before its result was saved"
    ]
    # Nothing of the lost run was written: the email is back as it was.
    email = world.email(a)
    assert (email.status, email.draft, email.intent, email.job_id) == (
        EmailStatus.NEEDS_REVIEW,
        None,
        None,
        None,
    )


class FlakyClaimRepository(FakeEmailRepository):
    """Refuses the first ``refusals`` claims although nothing blocks them, as when a
    competing job let go between the refusal and the status check."""

    refusals = 1

    async def claim(self, user_id: UUID, ids: Sequence[UUID], job_id: str) -> bool:
        if self.refusals:
            self.refusals -= 1
            return False
        return await super().claim(user_id, ids, job_id)


async def test_a_claim_refused_for_a_reason_that_passed_is_tried_again() -> None:
    world = build(emails=FlakyClaimRepository)
    ids = await world.inbox(2)
    job = await world.service.submit_process(ALICE, ids)
    assert {world.email(i).job_id for i in ids} == {job.id}


async def test_a_claim_that_keeps_failing_without_a_reason_is_a_clear_conflict() -> None:
    class NeverClaims(FlakyClaimRepository):
        refusals = 1_000

    world = build(emails=NeverClaims)
    ids = await world.inbox(2)
    with pytest.raises(JobConflict, match="changed while the job was being submitted"):
        await world.service.submit_process(ALICE, ids)
    assert len(world.jobs) == 0
    assert world.runner.submitted == []
    assert {world.email(i).status for i in ids} == {EmailStatus.PENDING}


class QueueRunner(FakeRunner):
    """Like a shared queue: what is queued cannot be withdrawn on cancel."""

    async def cancel(self, job: BatchJob) -> list[UUID]:
        return []


async def test_a_queued_email_of_a_cancelled_job_is_counted_cancelled_not_run() -> None:
    world = build(runner=QueueRunner)
    ids = await world.inbox(3, status=EmailStatus.DRAFTED)
    job = await world.service.submit_process(ALICE, ids)
    await world.runner.step(job.id, ids[0])

    await world.service.cancel(ALICE, job.id)
    await world.run()

    done = await world.job(job.id)
    assert (done.status, done.succeeded, done.cancelled) == (JobStatus.CANCELLED, 1, 2)
    assert world.classifier.calls == [ids[0]]
    # Released to where they were, not left processing.
    assert [world.email(i).status for i in ids[1:]] == [EmailStatus.DRAFTED] * 2
    assert all(world.email(i).job_id is None for i in ids)


async def test_a_process_email_run_again_after_its_result_was_saved_is_not_redone() -> None:
    """A worker saved the result, then died before the job counted it; the task runs again."""
    world = build()
    ok, failing = await world.inbox(2)
    world.drafter.fail(failing, "provider timed out")
    job = await world.service.submit_process(ALICE, [ok, failing])
    for email_id in (ok, failing):
        await world.pipeline_only(job.id, email_id)

    await world.run()

    done = await world.job(job.id)
    assert (done.status, done.succeeded, done.failed) == (JobStatus.COMPLETED, 1, 1)
    assert [e.error for e in done.errors] == ["Agent pipeline failed: provider timed out"]
    assert world.classifier.calls == [ok, failing], "no provider call was made twice"


# -- beginning an email (what the asyncio runner waits for before the next) ---------


@pytest.mark.parametrize("kind", [JobKind.CLASSIFY, JobKind.PROCESS])
async def test_an_email_has_begun_once_read_and_before_its_provider_call(kind: JobKind) -> None:
    world = build()
    [email_id] = await world.inbox(1)
    submit = (
        world.service.submit_classify if kind is JobKind.CLASSIFY else world.service.submit_process
    )
    job = await submit(ALICE, [email_id])
    calls_when_begun: list[int] = []
    await world.runner.step(job.id, email_id, lambda: calls_when_begun.append(
        len(world.classifier.calls)
    ))  # fmt: skip
    assert calls_when_begun == [0], "once, before the classifier was called"
    assert world.classifier.calls == [email_id]
    assert (await world.job(job.id)).succeeded == 1


async def test_an_email_of_a_cancelled_job_has_begun_too() -> None:
    world = build()
    ids = await world.inbox(2)
    job = await world.service.submit_classify(ALICE, ids)
    await world.service.cancel(ALICE, job.id)
    begun: list[bool] = []
    await world.runner.step(job.id, ids[0], lambda: begun.append(True))
    assert begun == [True]
    assert world.classifier.calls == []


# -- the outcome log (what the status stream sends per email) ----------------------


async def test_each_process_outcome_carries_the_intent_and_status_it_left() -> None:
    world = build()
    ok, spam, broken = await world.inbox(3)
    world.classifier.answer(spam, Classification(Intent.SPAM, 0.95))
    world.drafter.fail(broken, "provider timed out")
    job = await world.service.submit_process(ALICE, [ok, spam, broken])
    await world.run()

    logged = await world.service.outcomes(await world.job(job.id), 0)

    assert [(o.seq, o.email_id, o.outcome, o.intent, o.status, o.error) for o in logged] == [
        (1, ok, Outcome.SUCCEEDED, Intent.INQUIRY, EmailStatus.DRAFTED, None),
        (2, spam, Outcome.SUCCEEDED, Intent.SPAM, EmailStatus.REJECTED, None),
        (
            3,
            broken,
            Outcome.FAILED,
            None,
            EmailStatus.NEEDS_REVIEW,
            "Agent pipeline failed: provider timed out",
        ),
    ]


async def test_a_classify_outcome_keeps_the_status_and_a_failure_has_no_intent() -> None:
    world = build()
    done_one, failing = await world.inbox(2, status=EmailStatus.APPROVED)
    world.classifier.fail(failing, "API rate limit exceeded")
    job = await world.service.submit_classify(ALICE, [done_one, failing])
    await world.run()

    logged = await world.service.outcomes(await world.job(job.id), 0)

    assert [(o.outcome, o.intent, o.status) for o in logged] == [
        (Outcome.SUCCEEDED, Intent.INQUIRY, EmailStatus.APPROVED),
        (Outcome.FAILED, None, EmailStatus.APPROVED),
    ]


async def test_cancelled_emails_are_logged_with_the_status_they_went_back_to() -> None:
    # A queue that cannot withdraw (the step counts them), and one that can (cancel does).
    world = build(runner=QueueRunner)
    ids = await world.inbox(3, status=EmailStatus.DRAFTED)
    world_b = build(runner=FakeRunner)
    ids_b = await world_b.inbox(2, status=EmailStatus.NEEDS_REVIEW)
    job = await world.service.submit_process(ALICE, ids)
    job_b = await world_b.service.submit_process(ALICE, ids_b)
    await world.runner.step(job.id, ids[0])

    await world.service.cancel(ALICE, job.id)
    await world.run()
    await world_b.service.cancel(ALICE, job_b.id)

    logged = await world.service.outcomes(await world.job(job.id), 1)
    assert [(o.seq, o.outcome, o.status) for o in logged] == [
        (2, Outcome.CANCELLED, EmailStatus.DRAFTED),
        (3, Outcome.CANCELLED, EmailStatus.DRAFTED),
    ]
    logged_b = await world_b.service.outcomes(await world_b.job(job_b.id), 0)
    assert [(o.email_id, o.outcome, o.status) for o in logged_b] == [
        (i, Outcome.CANCELLED, EmailStatus.NEEDS_REVIEW) for i in ids_b
    ]
