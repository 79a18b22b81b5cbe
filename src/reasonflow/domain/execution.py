"""Running one email of a job: the step every runner is built with (DESIGN §4)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from reasonflow.domain.errors import DatabaseUnavailable, ProviderError, ServiceUnavailable
from reasonflow.domain.job_log import finished_now, job_finished
from reasonflow.domain.model import (
    BatchJob,
    CancelReason,
    Email,
    EmailStatus,
    Intent,
    JobKind,
    Usage,
)
from reasonflow.domain.ports import (
    AgentPipeline,
    Clock,
    EmailRepository,
    IntentClassifier,
    JobStore,
    Metrics,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

UNEXPECTED = "unexpected internal error"
#: An email whose step met the database away (restarting, unreachable).
DATABASE_AWAY = "the database was unavailable; retry the email"
#: How long a failure is kept trying to reach the database before it is left
#: to claim recovery; while it waits, its slot stays taken, so a job does not
#: run through its emails failing them all during a short outage.
DATABASE_PATIENCE_SECONDS = 60.0
#: A process email whose claim was taken from its job (released by recovery or
#: another process) while the pipeline ran: nothing was written, so it did not succeed.
LOST_CLAIM = "the email was released before its result was saved"


#: What a finished email step reports: its usage, and the email's intent and status after it.
_Done = tuple[Usage, Intent | None, EmailStatus | None]


class JobExecution:
    """Runs one email of a job and commits its outcome on its own.

    A provider failure marked ``fatal`` (rejected credentials) aborts the job:
    its later emails fail with the same reason without calling the provider.
    The runner keeps handing them out, each failing at once, so nothing here
    needs to reach back into the runner.

    The database away (``DatabaseUnavailable``) fails the email it met with a
    short reason, whatever step it was at (the work is not saved; the email can
    be retried). Recording that failure, which gives a process email back, waits
    for the database with backoff for up to ``database_patience`` seconds.

    Emails are read one at a time, in the order their tasks reach the read
    (the order the runner handed out their slots): when a wave of slots is
    handed out at once, the first email's provider call leaves after one read,
    not after the whole wave's reads and requests interleaved on the event
    loop; the calls leave, and come back, spread out in that order, and a job
    handed the next free slot is not queued behind the wave's other emails
    (docs/benchmarks.md, row 3).
    """

    def __init__(
        self,
        emails: EmailRepository,
        jobs: JobStore,
        classifier: IntentClassifier,
        pipeline: AgentPipeline,
        clock: Clock,
        metrics: Metrics,
        database_patience: float = DATABASE_PATIENCE_SECONDS,
        on_reply_queued: Callable[[], None] | None = None,
    ) -> None:
        self._emails = emails
        # Wakes the dispatcher once a result with a reply (auto-send) is committed.
        self._on_reply_queued = on_reply_queued
        self._jobs = jobs
        self._classifier = classifier
        self._pipeline = pipeline
        self._clock = clock
        self._metrics = metrics
        self._patience = database_patience
        self._aborted: dict[str, str] = {}
        self._reading = asyncio.Lock()  # FIFO: waiters are woken in arrival order

    async def run_email(
        self, job_id: str, email_id: UUID, begun: Callable[[], None] | None = None
    ) -> None:
        """Run one email; ``begun()`` is called once the email is read (or the
        step knows it will call no provider), before anything slow."""
        done_beginning = begun if begun is not None else _nothing
        job = await self._jobs.start(job_id, self._clock.now())
        if job is None or job.is_finished or job.has_outcome(email_id):
            done_beginning()
            return
        if job.cancel_requested or job.over_budget:
            # Queued where the runner could not withdraw it, or the budget is
            # spent (DESIGN §10): it never starts.
            done_beginning()
            await self._withdraw(job, email_id)
            return
        aborted = self._aborted.get(job.id)
        if aborted is not None:
            done_beginning()
            await self.fail(job, email_id, aborted)
            return
        email: Email | None = None
        try:
            try:
                async with self._reading:
                    email = await self._emails.get(job.user_id, email_id)
            finally:
                done_beginning()
            if email is None:
                await self.fail(job, email_id, "email no longer exists")
                return
            if job.kind is JobKind.CLASSIFY:
                usage, intent, status = await self._classify(job, email)
            else:
                usage, intent, status = await self._process(job, email)
        except _AlreadyFailed as failed:
            await self._record(job, email_id, failed.message, None, None, EmailStatus.NEEDS_REVIEW)
            self._metrics.email_finished(job.kind, "failed")
            return
        except _ClaimLost as lost:
            log.warning("claim lost before the result was saved job=%s email=%s", job_id, email_id)
            await self.fail(job, email_id, LOST_CLAIM, lost.usage)
            return
        except (_NotSaved, DatabaseUnavailable) as away:
            log.warning("database unavailable job=%s email=%s", job_id, email_id)
            await self._hold_while_away(job, email_id)
            spent = away.usage if isinstance(away, _NotSaved) else None
            await self.fail(job, email_id, DATABASE_AWAY, spent)
            return
        except ServiceUnavailable:
            # The shared state is away (Redis): the email has no outcome yet, and
            # its task is run again once the state is back.
            raise
        except ProviderError as exc:
            if exc.fatal:
                self._aborted[job.id] = exc.reason
            await self.fail(job, email_id, exc.reason, exc.usage, email)
            return
        except Exception as exc:  # a bug: report it, keep the job going
            log.error(
                "email step crashed job=%s email=%s error=%s", job_id, email_id, type(exc).__name__
            )
            await self.fail(job, email_id, UNEXPECTED)
            return
        await self._record(job, email_id, None, usage, intent, status)
        self._metrics.email_finished(job.kind, "succeeded")

    async def fail(
        self,
        job: BatchJob,
        email_id: UUID,
        reason: str,
        usage: Usage | None = None,
        email: Email | None = None,
    ) -> None:
        """Record the email as failed; a process email goes to ``needs_review`` with the error.

        ``email``, when loaded, tells a classify failure's status (unchanged)."""
        message = f"{job.kind.failure_prefix}: {reason}"
        status = email.status if email is not None and job.kind is JobKind.CLASSIFY else None
        if job.kind is JobKind.PROCESS:
            try:
                if await self._when_database_answers(
                    lambda: self._emails.finish_claimed(email_id, job.id, None, error=message)
                ):
                    status = EmailStatus.NEEDS_REVIEW
            except Exception as exc:
                # Still claimed: startup recovery gives the email back later.
                log.error("could not record failure job=%s error=%s", job.id, type(exc).__name__)
        await self._record(job, email_id, message, usage, None, status)
        self._metrics.email_finished(job.kind, "failed")

    async def _withdraw(self, job: BatchJob, email_id: UUID) -> None:
        if job.kind is JobKind.PROCESS:
            await self._when_database_answers(lambda: self._emails.release(job.id, [email_id]))
        statuses = await self._when_database_answers(
            lambda: self._emails.statuses(job.user_id, [email_id])
        )
        # The first cancellation names the reason; a later one keeps it.
        reason = None if job.cancel_requested else CancelReason.BUDGET
        now = self._clock.now()
        updated = await self._jobs.record_cancelled(
            job.id, [email_id], now, statuses, reason=reason
        )
        if updated is None or updated.is_finished:
            self._aborted.pop(job.id, None)
        if updated is not None and finished_now(updated, now):
            job_finished(updated)
        self._metrics.email_finished(job.kind, "cancelled")

    async def _record(
        self,
        job: BatchJob,
        email_id: UUID,
        error: str | None,
        usage: Usage | None,
        intent: Intent | None,
        status: EmailStatus | None,
    ) -> None:
        now = self._clock.now()
        updated = await self._jobs.record(
            job.id, email_id, now, error=error, usage=usage, intent=intent, status=status
        )
        if updated is None or updated.is_finished:
            self._aborted.pop(job.id, None)
        if updated is not None and finished_now(updated, now):
            job_finished(updated)

    async def _classify(self, job: BatchJob, email: Email) -> _Done:
        if email.is_classified and not job.force:
            return Usage(), email.intent, email.status
        started = time.perf_counter()
        result = await self._classifier.classify(email)
        self._metrics.provider_call(job.kind, time.perf_counter() - started)
        await self._emails.save_classification(email.id, result.intent, result.confidence)
        return result.usage, result.intent, email.status

    async def _process(self, job: BatchJob, email: Email) -> _Done:
        if email.job_id != job.id:
            # Run again after its result was saved (a sweep re-ran the task of a
            # slow or lost worker): count what was saved, call no provider again.
            if email.status is EmailStatus.NEEDS_REVIEW and email.last_error:
                raise _AlreadyFailed(email.last_error)
            return Usage(), email.intent, email.status
        started = time.perf_counter()
        result = await self._pipeline.run(email)
        self._metrics.provider_call(job.kind, time.perf_counter() - started)
        try:
            saved = await self._emails.finish_claimed(email.id, job.id, result)
        except DatabaseUnavailable:
            raise _NotSaved(result.usage) from None
        if not saved:
            raise _ClaimLost(result.usage)
        if result.reply is not None and self._on_reply_queued is not None:
            self._on_reply_queued()
        return result.usage, result.intent, result.status

    async def _hold_while_away(self, job: BatchJob, email_id: UUID) -> None:
        """Keep the email's slot until the database answers (at most the patience),
        so a job's remaining emails do not all fail during a short outage. A
        process email waits in ``fail`` instead, while its failure is written."""
        if job.kind is JobKind.PROCESS:
            return
        with contextlib.suppress(DatabaseUnavailable):
            await self._when_database_answers(lambda: self._emails.get(job.user_id, email_id))

    async def _when_database_answers(self, write: Callable[[], Awaitable[T]]) -> T:
        """``write()``, tried again with backoff while the database is away, for
        up to ``database_patience`` seconds (then its ``DatabaseUnavailable``)."""
        deadline = time.monotonic() + self._patience
        pause = 0.1
        while True:
            try:
                return await write()
            except DatabaseUnavailable:
                if time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)


def _nothing() -> None:
    return None


class _AlreadyFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _NotSaved(Exception):
    """The result was ready but the database was away when it was to be saved."""

    def __init__(self, usage: Usage) -> None:
        super().__init__(DATABASE_AWAY)
        self.usage = usage


class _ClaimLost(Exception):
    """``finish_claimed`` wrote nothing: the job no longer holds the email."""

    def __init__(self, usage: Usage) -> None:
        super().__init__(LOST_CLAIM)
        self.usage = usage
