"""Ports: what the domain needs from the outside world, as Protocols.

Adapters subclass these explicitly so the type checker verifies each one where
it is defined. Adapters turn vendor exceptions into domain errors.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from reasonflow.domain.model import (
    BatchJob,
    CancelReason,
    Classification,
    Draft,
    Email,
    EmailOutcome,
    EmailStatus,
    Intent,
    JobKind,
    Page,
    PipelineResult,
    Usage,
    User,
)
from reasonflow.domain.replies import Reply


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


@dataclass(frozen=True, slots=True)
class EmailFilter:
    status: EmailStatus | None = None
    intent: Intent | None = None
    thread_id: str | None = None
    #: Oldest first instead of newest first (the review queue walks them so).
    oldest_first: bool = False


class EmailRepository(Protocol):
    """The user's emails. Every read is scoped to an owner."""

    async def add(self, email: Email) -> None: ...

    async def get(self, user_id: UUID, email_id: UUID) -> Email | None: ...

    async def page(
        self, user_id: UUID, filters: EmailFilter, limit: int, cursor: str | None
    ) -> Page[Email]:
        """Newest first by ``received_at`` (oldest first when the filter says so);
        keyset-paginated (the cursor is opaque)."""
        ...

    async def statuses(self, user_id: UUID, ids: Sequence[UUID]) -> dict[UUID, EmailStatus]:
        """Status of each requested email the user owns, in one query."""
        ...

    async def claim(self, user_id: UUID, ids: Sequence[UUID], job_id: str) -> bool:
        """Atomically move all ``ids`` to ``processing`` for ``job_id``, or none.

        Ownership check and conditional UPDATE run in one transaction, so two
        overlapping submissions can never both succeed. Each claimed email
        remembers its previous status. Answers whether it claimed; *why* a
        refusal happened is the domain's to decide (``submission.refusal``).
        """
        ...

    async def save_classification(self, email_id: UUID, intent: Intent, confidence: float) -> None:
        """Commit one classification on its own (status unchanged)."""
        ...

    async def finish_claimed(
        self,
        email_id: UUID,
        job_id: str,
        result: PipelineResult | None,
        error: str | None = None,
    ) -> bool:
        """Commit one processed email and drop the claim held by ``job_id``.

        With ``result`` None the pipeline failed: the email goes to
        ``needs_review`` and records ``error``. A result carrying a ``reply``
        (status ``sending``) queues it for dispatch in the same transaction.
        Returns False when the job no longer holds the claim (nothing is written).
        """
        ...

    async def release(self, job_id: str, ids: Collection[UUID] | None = None) -> int:
        """Give claimed emails back their previous status; returns how many."""
        ...

    async def recover_orphans(
        self, running_job_ids: Collection[str], claimed_before: datetime | None = None
    ) -> int:
        """Release every claim held by a job that is not in ``running_job_ids``
        (only claims made before ``claimed_before``, when given: a submission
        claims its emails a moment before its job is stored)."""
        ...

    async def context(self, email: Email, limit: int = 5) -> list[Email]:
        """Same-thread mail and earlier mail from the same sender, newest first."""
        ...

    async def update_review(
        self, email: Email, expected: EmailStatus, reply: Reply | None = None
    ) -> bool:
        """Persist status, draft, last_error and updated_at after a user's
        approve/reject/send; with ``reply``, queue it for dispatch in the same
        transaction (replacing an undelivered one of the same email).

        Compare-and-set: writes only while the stored status is still
        ``expected``, so a review never overwrites an email a job has just
        claimed. Returns whether it wrote.
        """
        ...

    async def add_many_new(self, emails: Sequence[Email]) -> int:
        """Insert the emails whose ``(user_id, message_id)`` is not stored yet.

        One transaction; returns how many were added. Safe under concurrent
        imports of the same mail (the unique key decides, nothing is
        overwritten); an email without a ``message_id`` is always added.
        """
        ...


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Raises ``EmailTaken`` when the address is already registered."""
        ...

    async def by_email(self, email: str) -> User | None: ...

    async def by_id(self, user_id: UUID) -> User | None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


class IntentClassifier(Protocol):
    async def classify(self, email: Email) -> Classification:
        """Raises ``ProviderError`` when the provider cannot answer."""
        ...


class ReplyDrafter(Protocol):
    async def draft(self, email: Email, intent: Intent, context: Sequence[Email]) -> Draft:
        """Raises ``ProviderError`` when the provider cannot answer."""
        ...


@dataclass(frozen=True, slots=True)
class ModelCall:
    """One model call a job would make: a classification of ``email``, or (with
    ``intent``) the draft of its reply, given ``context``."""

    email: Email
    intent: Intent | None = None
    context: tuple[Email, ...] = ()


class CostModel(Protocol):
    """What the configured provider would charge for calls, and how long one takes."""

    @property
    def priced(self) -> bool:
        """Whether calls have a known price, so a budget can be kept."""
        ...

    async def usage(self, calls: Sequence[ModelCall]) -> Usage:
        """At most what ``calls`` would cost: prompt tokens counted on the prompts
        they would send, completion tokens at the ``max_tokens`` each asks for,
        ``cost_usd`` from the price map (None when unpriced), ``llm_calls`` the
        model calls among them."""
        ...

    def call_seconds(self) -> float:
        """How long one call takes, as observed lately (a default before any)."""
        ...

    def pace_seconds(self) -> float:
        """The least time between two call starts (``LLM_RPM``); 0 when unpaced."""
        ...


class FreeCalls(CostModel):
    """The offline provider's calls: no model, no tokens, no cost."""

    #: A rules classification and a template draft take well under this.
    SECONDS_PER_CALL = 0.005

    @property
    def priced(self) -> bool:
        return True

    async def usage(self, calls: Sequence[ModelCall]) -> Usage:
        return Usage()

    def call_seconds(self) -> float:
        return self.SECONDS_PER_CALL

    def pace_seconds(self) -> float:
        return 0.0


class AgentPipeline(Protocol):
    async def run(self, email: Email) -> PipelineResult:
        """classify → gather context → draft → review → dispatch, for one email."""
        ...


class Mailer(Protocol):
    async def send(self, reply: Reply) -> None:
        """Deliver ``reply``; return only once the mail server accepted it.

        Raises ``DeliveryFailed`` with a short reason when it did not. A mailer
        may keep its connection to the server open for the next reply: nothing
        after the acceptance (such as ending the session) happens before it returns.
        """
        ...

    async def close(self) -> None:
        """End any connection kept open; the next ``send`` opens a new one.

        Called once nothing is due and at shutdown. A mailer that keeps none
        needs nothing here.
        """
        return


@dataclass(frozen=True, slots=True)
class QueuedReply:
    """A reply waiting in the dispatch queue and the attempts made so far."""

    reply: Reply
    attempts: int


class DispatchQueue(Protocol):
    """The replies committed for sending (the transactional outbox) and the lease
    that lets one dispatcher at a time deliver them, per database."""

    async def due(self, now: datetime, limit: int) -> list[QueuedReply]:
        """Undelivered replies whose next attempt is due, oldest first."""
        ...

    async def delivered(self, email_id: UUID, now: datetime) -> None:
        """One transaction: the reply is delivered and its email ``sending`` → ``sent``."""
        ...

    async def failed(
        self, email_id: UUID, now: datetime, error: str, retry_at: datetime | None
    ) -> None:
        """Count a failed attempt and show ``error`` on the email (``last_error``);
        try again at ``retry_at``, or (None) give up: the email ``sending`` →
        ``send_failed``, in the same transaction."""
        ...

    async def acquire_lease(self, holder: str, now: datetime, seconds: float) -> bool:
        """Take or extend the dispatch lease until ``now + seconds``: True when
        ``holder`` has it (it was free, expired, or already its own)."""
        ...

    async def renew_lease(self, holder: str, now: datetime, seconds: float) -> bool:
        """Extend the lease only while ``holder`` still holds it unexpired."""
        ...

    async def release_lease(self, holder: str) -> None:
        """Let the lease go now (shutdown), if ``holder`` has it."""
        ...


class JobStore(Protocol):
    """Batch jobs by id. Operations are coarse so a shared store can make each atomic."""

    async def create(self, job: BatchJob, max_active: int) -> None:
        """Store a new job; raises ``TooManyActiveJobs`` when the user has
        ``max_active`` unfinished jobs already (checked atomically)."""
        ...

    async def get(self, job_id: str) -> BatchJob | None:
        """The job, or None when unknown or expired."""
        ...

    async def record(
        self,
        job_id: str,
        email_id: UUID,
        now: datetime,
        error: str | None = None,
        usage: Usage | None = None,
        *,
        intent: Intent | None = None,
        status: EmailStatus | None = None,
    ) -> BatchJob | None:
        """Record one email's outcome (idempotent per email); returns the job.

        In the same atomic step the outcome joins the job's outcome log
        (``outcomes``) with ``intent`` and ``status``, the email's after the job.
        """
        ...

    async def record_cancelled(
        self,
        job_id: str,
        email_ids: list[UUID],
        now: datetime,
        statuses: Mapping[UUID, EmailStatus] | None = None,
        *,
        reason: CancelReason | None = None,
    ) -> BatchJob | None:
        """Count the emails without an outcome yet as cancelled (and log each, with
        its status from ``statuses`` when given); marks the job cancel-requested.
        The job will end ``cancelled``, for the first ``reason`` given
        (``BatchJob.record_cancelled``)."""
        ...

    async def outcomes(self, job_id: str, after: int) -> list[EmailOutcome] | None:
        """The job's outcomes whose ``seq`` exceeds ``after``, in order; None when
        the job is unknown or expired. Kept while the job runs and for
        ``OUTCOME_LOG_TAIL`` (at most the retention) after it finishes; [] after that."""
        ...

    async def start(self, job_id: str, now: datetime) -> BatchJob | None: ...

    async def list_for_user(self, user_id: UUID, limit: int, cursor: str | None) -> Page[BatchJob]:
        """The user's jobs, newest first."""
        ...

    async def unfinished_ids(self) -> set[str]: ...

    async def wait_change(
        self, job_id: str, after_revision: int, patience: float
    ) -> BatchJob | None:
        """The job once its ``revision`` exceeds ``after_revision``, or as it is
        when ``patience`` seconds pass first; None when the job is gone."""
        ...


class IdempotencyStore(Protocol):
    """Remembers which job an ``Idempotency-Key`` created, per user, for a while."""

    async def lookup(self, user_id: UUID, key: str) -> tuple[str, str] | None:
        """``(fingerprint, job_id)`` stored under the key, or None."""
        ...

    async def remember(self, user_id: UUID, key: str, fingerprint: str, job_id: str) -> None: ...


class RateLimiter(Protocol):
    async def acquire(self, user_id: UUID) -> float:
        """Take one submission from the user's allowance: 0 when allowed, else
        the seconds to wait before the next one would be."""
        ...


class Metrics(Protocol):
    """What the use cases report; an adapter turns it into Prometheus series."""

    def job_submitted(self, kind: JobKind) -> None: ...

    def email_finished(self, kind: JobKind, outcome: str) -> None:
        """``outcome``: succeeded, failed or cancelled."""
        ...

    def provider_call(self, kind: JobKind, seconds: float) -> None: ...

    def stream_opened(self) -> None:
        """A client started following a job (``BatchService.watch``); paired with
        ``stream_closed`` however the stream ends."""
        ...

    def stream_closed(self) -> None: ...


class NoMetrics(Metrics):
    """The default when nothing collects metrics."""

    def job_submitted(self, kind: JobKind) -> None:
        return None

    def email_finished(self, kind: JobKind, outcome: str) -> None:
        return None

    def provider_call(self, kind: JobKind, seconds: float) -> None:
        return None

    def stream_opened(self) -> None:
        return None

    def stream_closed(self) -> None:
        return None


class EmailStep(Protocol):
    """The per-email step every runner is built with (``JobExecution.run_email``).

    ``begun``, when given, is called once, as soon as the email has been read
    and its provider call is what comes next (or the step knows it will make
    none): a runner that lets one email begin at a time hands the turn on then.
    """

    def __call__(
        self, job_id: str, email_id: UUID, begun: Callable[[], None] | None = None, /
    ) -> Coroutine[Any, Any, None]: ...


class JobRunner(Protocol):
    """Runs the emails of accepted jobs in the background, one ``EmailStep`` each."""

    async def submit(self, job: BatchJob) -> None:
        """Queue the job's pending emails; raises ``ServiceUnavailable`` when stopping."""
        ...

    async def cancel(self, job: BatchJob) -> list[UUID]:
        """Stop a job: returns the ids of its emails no worker will start.

        A runner may also leave an email queued that it can no longer withdraw:
        the per-email step then finds the job cancelled and counts the email
        cancelled itself, without running it.
        """
        ...

    async def resume(self, job: BatchJob) -> None:
        """Make sure every email of a live job that was handed out will run: one
        whose task was lost (a worker or the queue failed at the wrong moment)
        is handed out again. Recovery calls it; running an email twice is harmless."""
        ...

    @property
    def stopping(self) -> bool: ...

    async def stop(self, grace: float) -> set[str]:
        """Take no more work, give running emails ``grace`` seconds, cancel the rest.

        Returns the ids of the jobs that did not finish, so their claims can be
        released.
        """
        ...


@dataclass(frozen=True, slots=True)
class IssuedToken:
    value: str
    expires_in: int


class AccessTokens(Protocol):
    """Bearer tokens for signed-in users."""

    def issue(self, user_id: UUID, now: datetime) -> IssuedToken: ...

    def verify(self, token: str) -> UUID:
        """The user id of a valid access token; raises ``InvalidToken`` otherwise."""
        ...
