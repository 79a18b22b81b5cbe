"""Use cases of the batch engine: submit, follow, and run one email of a job."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

from reasonflow.domain.errors import (
    EmailsConflict,
    EmailsNotFound,
    JobNotFound,
    ProviderError,
    TooManyActiveJobs,
)
from reasonflow.domain.model import BatchJob, Email, JobKind, Usage
from reasonflow.domain.ports import (
    AgentPipeline,
    Clock,
    EmailRepository,
    IntentClassifier,
    JobRunner,
    JobStore,
)
from reasonflow.domain.rules import check_submission, validate_selection

log = logging.getLogger(__name__)

UNEXPECTED = "unexpected internal error"


class BatchService:
    def __init__(
        self,
        emails: EmailRepository,
        jobs: JobStore,
        runner: JobRunner,
        classifier: IntentClassifier,
        pipeline: AgentPipeline,
        clock: Clock,
        max_active_jobs: int = 10,
    ) -> None:
        self._emails = emails
        self._jobs = jobs
        self._runner = runner
        self._classifier = classifier
        self._pipeline = pipeline
        self._clock = clock
        self._max_active = max_active_jobs

    async def submit_classify(
        self, user_id: UUID, email_ids: Sequence[UUID], force: bool = False
    ) -> BatchJob:
        ids = validate_selection(JobKind.CLASSIFY, email_ids)
        check_submission(JobKind.CLASSIFY, ids, await self._emails.statuses(user_id, ids))
        job = self._new_job(JobKind.CLASSIFY, user_id, ids, force)
        await self._jobs.create(job, self._max_active)
        await self._start(job)
        return job

    async def submit_process(self, user_id: UUID, email_ids: Sequence[UUID]) -> BatchJob:
        ids = validate_selection(JobKind.PROCESS, email_ids)
        job = self._new_job(JobKind.PROCESS, user_id, ids)
        claim = await self._emails.claim(user_id, ids, job.id)
        if claim.missing:
            raise EmailsNotFound(claim.missing)
        if not claim.claimed:
            raise EmailsConflict(claim.conflicts)
        try:
            await self._jobs.create(job, self._max_active)
        except TooManyActiveJobs:
            await self._emails.release(job.id)
            raise
        await self._start(job)
        return job

    async def _start(self, job: BatchJob) -> None:
        """Hand the job to the runner; if it refuses (shutting down), undo the submission."""
        try:
            self._runner.submit(job)
        except Exception:
            if job.kind is JobKind.PROCESS:
                await self._emails.release(job.id)
            await self._jobs.record_cancelled(job.id, list(job.email_ids), self._clock.now())
            raise

    async def status(self, user_id: UUID, job_id: str) -> BatchJob:
        """The job, for its owner only: anyone else gets the same 'not found'."""
        job = await self._jobs.get(job_id)
        if job is None or job.user_id != user_id:
            raise JobNotFound()
        return job

    async def run_email(self, job_id: str, email_id: UUID) -> None:
        """Run one email of a job and commit its outcome. Called by every runner."""
        job = await self._jobs.start(job_id, self._clock.now())
        if job is None or job.is_finished or job.has_outcome(email_id):
            return
        try:
            email = await self._emails.get(job.user_id, email_id)
            if email is None:
                await self._fail(job, email_id, "email no longer exists")
                return
            if job.kind is JobKind.CLASSIFY:
                usage = await self._classify(job, email)
            else:
                usage = await self._process(job, email)
        except ProviderError as exc:
            await self._fail(job, email_id, exc.reason)
            if exc.fatal:
                await self._abort(job, exc.reason)
            return
        except Exception as exc:  # a bug or a lost database: report it, keep the job going
            log.error(
                "email step crashed job=%s email=%s error=%s", job_id, email_id, type(exc).__name__
            )
            await self._fail(job, email_id, UNEXPECTED)
            return
        await self._jobs.record(job.id, email_id, self._clock.now(), usage=usage)

    async def _classify(self, job: BatchJob, email: Email) -> Usage:
        if email.is_classified and not job.force:
            return Usage()
        result = await self._classifier.classify(email)
        await self._emails.save_classification(email.id, result.intent, result.confidence)
        return result.usage

    async def _process(self, job: BatchJob, email: Email) -> Usage:
        result = await self._pipeline.run(email)
        await self._emails.finish_claimed(email.id, job.id, result)
        return result.usage

    async def _fail(self, job: BatchJob, email_id: UUID, reason: str) -> None:
        message = f"{job.kind.failure_prefix}: {reason}"
        if job.kind is JobKind.PROCESS:
            try:
                await self._emails.finish_claimed(email_id, job.id, None, error=message)
            except Exception as exc:
                # Still claimed: startup recovery gives the email back later.
                log.error("could not record failure job=%s error=%s", job.id, type(exc).__name__)
        await self._jobs.record(job.id, email_id, self._clock.now(), error=message)

    async def _abort(self, job: BatchJob, reason: str) -> None:
        """No later call can succeed: fail the emails not yet started without calling out."""
        for email_id in self._runner.cancel(job.id):
            await self._fail(job, email_id, reason)

    def _new_job(
        self, kind: JobKind, user_id: UUID, ids: tuple[UUID, ...], force: bool = False
    ) -> BatchJob:
        now = self._clock.now()
        return BatchJob(kind.new_job_id(), kind, user_id, ids, now, now, force=force)
