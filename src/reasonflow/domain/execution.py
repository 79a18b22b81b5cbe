"""Running one email of a job: the step every runner calls (DESIGN §4)."""

from __future__ import annotations

import logging
import time
from uuid import UUID

from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import BatchJob, Email, JobKind, Usage
from reasonflow.domain.ports import (
    AgentPipeline,
    Clock,
    EmailRepository,
    IntentClassifier,
    JobRunner,
    JobStore,
    Metrics,
)

log = logging.getLogger(__name__)

UNEXPECTED = "unexpected internal error"


class JobExecution:
    def __init__(
        self,
        emails: EmailRepository,
        jobs: JobStore,
        runner: JobRunner,
        classifier: IntentClassifier,
        pipeline: AgentPipeline,
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self._emails = emails
        self._jobs = jobs
        self._runner = runner
        self._classifier = classifier
        self._pipeline = pipeline
        self._clock = clock
        self._metrics = metrics

    async def run_email(self, job_id: str, email_id: UUID) -> None:
        """Run one email of a job and commit its outcome on its own."""
        job = await self._jobs.start(job_id, self._clock.now())
        if job is None or job.is_finished or job.has_outcome(email_id):
            return
        try:
            email = await self._emails.get(job.user_id, email_id)
            if email is None:
                await self.fail(job, email_id, "email no longer exists")
                return
            if job.kind is JobKind.CLASSIFY:
                usage = await self._classify(job, email)
            else:
                usage = await self._process(job, email)
        except ProviderError as exc:
            await self.fail(job, email_id, exc.reason, exc.usage)
            if exc.fatal:
                await self._abort(job, exc.reason)
            return
        except Exception as exc:  # a bug or a lost database: report it, keep the job going
            log.error(
                "email step crashed job=%s email=%s error=%s", job_id, email_id, type(exc).__name__
            )
            await self.fail(job, email_id, UNEXPECTED)
            return
        await self._jobs.record(job.id, email_id, self._clock.now(), usage=usage)
        self._metrics.email_finished(job.kind, "succeeded")

    async def fail(
        self, job: BatchJob, email_id: UUID, reason: str, usage: Usage | None = None
    ) -> None:
        message = f"{job.kind.failure_prefix}: {reason}"
        if job.kind is JobKind.PROCESS:
            try:
                await self._emails.finish_claimed(email_id, job.id, None, error=message)
            except Exception as exc:
                # Still claimed: startup recovery gives the email back later.
                log.error("could not record failure job=%s error=%s", job.id, type(exc).__name__)
        await self._jobs.record(job.id, email_id, self._clock.now(), error=message, usage=usage)
        self._metrics.email_finished(job.kind, "failed")

    async def _classify(self, job: BatchJob, email: Email) -> Usage:
        if email.is_classified and not job.force:
            return Usage()
        started = time.perf_counter()
        result = await self._classifier.classify(email)
        self._metrics.provider_call(job.kind, time.perf_counter() - started)
        await self._emails.save_classification(email.id, result.intent, result.confidence)
        return result.usage

    async def _process(self, job: BatchJob, email: Email) -> Usage:
        started = time.perf_counter()
        result = await self._pipeline.run(email)
        self._metrics.provider_call(job.kind, time.perf_counter() - started)
        await self._emails.finish_claimed(email.id, job.id, result)
        return result.usage

    async def _abort(self, job: BatchJob, reason: str) -> None:
        """No later call can succeed: fail the emails not yet started without calling out."""
        for email_id in self._runner.cancel(job.id):
            await self.fail(job, email_id, reason)
