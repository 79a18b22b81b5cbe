"""Entities and value objects of the batch engine (DESIGN §3).

Entities are plain dataclasses that hold their own rules; value objects are
frozen. Nothing here performs I/O.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from uuid import UUID

if TYPE_CHECKING:
    from reasonflow.domain.replies import Reply

T = TypeVar("T")


class Intent(StrEnum):
    INQUIRY = "inquiry"
    MEETING_REQUEST = "meeting_request"
    COMPLAINT = "complaint"
    FOLLOW_UP = "follow_up"
    SPAM = "spam"
    OTHER = "other"


class EmailStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DRAFTED = "drafted"
    NEEDS_REVIEW = "needs_review"
    APPROVED = "approved"
    #: The reply is committed to the dispatch queue; the mail server has not accepted it yet.
    SENDING = "sending"
    SENT = "sent"
    #: Every delivery attempt failed (``last_error`` says why); ``send`` tries again.
    SEND_FAILED = "send_failed"
    REJECTED = "rejected"


class JobKind(StrEnum):
    CLASSIFY = "classify"
    PROCESS = "process"

    @property
    def prefix(self) -> str:
        return "cls_" if self is JobKind.CLASSIFY else "prc_"

    @property
    def limit(self) -> int:
        """Most emails one submission of this kind may carry."""
        return 100 if self is JobKind.CLASSIFY else 50

    @property
    def failure_prefix(self) -> str:
        """How a per-email error of this kind starts, e.g. ``Classification failed``."""
        return "Classification failed" if self is JobKind.CLASSIFY else "Agent pipeline failed"

    def new_job_id(self) -> str:
        """Prefix + 16 lowercase hex characters from the OS CSPRNG."""
        return self.prefix + secrets.token_hex(8)

    @classmethod
    def of_job_id(cls, job_id: str) -> JobKind | None:
        for kind in cls:
            if job_id.startswith(kind.prefix):
                return kind
        return None


class JobStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class CancelReason(StrEnum):
    """Why a job ended ``cancelled``: its owner asked, or its budget ran out (DESIGN §10)."""

    USER = "user"
    BUDGET = "budget"


@dataclass(frozen=True, slots=True)
class Usage:
    """Provider usage summed over calls; ``cost_usd`` is None once any call had no price.

    ``llm_calls`` counts the model calls that answered; ``llm_calls_saved`` the
    classifications the cascade settled without one (DESIGN §10).
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    llm_calls: int = 0
    llm_calls_saved: int = 0

    def __post_init__(self) -> None:
        if (
            min(self.prompt_tokens, self.completion_tokens, self.llm_calls, self.llm_calls_saved)
            < 0
        ):
            raise ValueError("token and call counts cannot be negative")

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_usd is None or other.cost_usd is None
            else self.cost_usd + other.cost_usd
        )
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            cost,
            self.llm_calls + other.llm_calls,
            self.llm_calls_saved + other.llm_calls_saved,
        )


NO_USAGE = Usage()


@dataclass(slots=True)
class Email:
    id: UUID
    user_id: UUID
    subject: str
    body: str
    sender: str
    recipient: str
    received_at: datetime
    updated_at: datetime
    thread_id: str | None = None
    intent: Intent | None = None
    confidence: float | None = None
    status: EmailStatus = EmailStatus.PENDING
    draft: str | None = None
    # Set while a process job holds the email (DESIGN §4 "claim").
    job_id: str | None = None
    previous_status: EmailStatus | None = None
    last_error: str | None = None
    # The RFC 5322 Message-ID of imported mail; unique per user when set.
    message_id: str | None = None

    @property
    def is_classified(self) -> bool:
        return self.intent is not None


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    password_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class JobError:
    email_id: UUID
    error: str
    timestamp: datetime


class Outcome(StrEnum):
    """How one email of a job ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: A finished job keeps its per-email outcomes this long (at most its own
#: retention): long enough for a stream client to reconnect and catch up, short
#: enough that a retained job stays small (docs/benchmarks.md, row 6).
OUTCOME_LOG_TAIL = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class EmailOutcome:
    """One email's result in a job, as the status stream reports it (DESIGN §11).

    ``seq`` is the job's count of outcomes (processed + cancelled) once this one
    was counted: 1, 2, … in the order they were recorded, so a client resumes
    after the last ``seq`` it saw. ``status`` is the email's status after the
    job touched it and ``intent`` the intent the job gave it; either is None
    when the job does not know it (a failure leaves no intent).
    """

    seq: int
    email_id: UUID
    outcome: Outcome
    intent: Intent | None = None
    status: EmailStatus | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    intent: Intent
    confidence: float
    reasoning: str = ""
    usage: Usage = NO_USAGE

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError("confidence must lie in 0..1")


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    confidence: float
    usage: Usage = NO_USAGE


@dataclass(frozen=True, slots=True)
class PipelineResult:
    """Where the agent pipeline left one email."""

    intent: Intent
    confidence: float
    status: EmailStatus
    draft: str | None
    usage: Usage = NO_USAGE
    #: With status ``sending``: the reply to queue in the same commit as the result.
    reply: Reply | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


#: The cursor of a user's emails: the last one shown, as microseconds since the
#: epoch of its ``received_at`` and its id in hex (``1714557600000000_4f1c…``).
EMAIL_CURSOR = r"^-?[0-9]{1,18}_[0-9a-f]{32}$"
#: The cursor of a user's jobs: the last job shown (its id).
JOB_CURSOR = r"^(cls|prc)_[0-9a-f]{16}$"


@dataclass(slots=True)
class BatchJob:
    """One batch and its progress.

    Invariants (property-tested): ``processed == succeeded + failed``,
    ``processed + cancelled <= total``, counters never decrease, recording the
    same email twice changes nothing, and a finished job never changes again.
    The job finishes by itself when every email has an outcome.

    A finished job is kept for a day only to answer status requests, which
    need its counters and ``errors`` (the failed ids), not the list of its
    emails: finishing lets ``email_ids`` go (it becomes ``()``), so a retained
    100-email job costs ~0.8 KiB instead of ~28 KiB (docs/benchmarks.md, row 6).
    """

    id: str
    kind: JobKind
    user_id: UUID
    #: The job's emails in submission order while it runs; ``()`` once it has finished.
    email_ids: tuple[UUID, ...]
    created_at: datetime
    updated_at: datetime
    force: bool = False
    #: The job stops starting emails once its summed cost reaches this (USD).
    max_cost_usd: float | None = None
    status: JobStatus = JobStatus.QUEUED
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: list[JobError] = field(default_factory=list)
    usage: Usage = NO_USAGE
    completed_at: datetime | None = None
    cancel_requested: bool = False
    #: Why the job was cancelled, once it was: the first reason given wins.
    cancel_reason: CancelReason | None = None
    #: Bumped by every change, so a watcher can tell a new state from a repeat.
    revision: int = 0
    total: int = field(init=False)
    # The emails with no outcome yet, in submission order (a dict is an ordered set).
    _pending: dict[UUID, None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.email_ids:
            raise ValueError("a job needs at least one email")
        self.total = len(self.email_ids)
        self._pending = dict.fromkeys(self.email_ids)
        if len(self._pending) != self.total:
            raise ValueError("email ids of a job must be unique")
        if JobKind.of_job_id(self.id) is not self.kind:
            raise ValueError("job id does not match its kind")
        if self.max_cost_usd is not None and not self.max_cost_usd > 0:
            raise ValueError("a budget must be more than 0")

    @classmethod
    def restore(
        cls,
        *,
        pending: Sequence[UUID],
        total: int,
        **fields: Any,
    ) -> BatchJob:
        """A job as a shared store kept it: every field as saved, ``pending`` the
        emails with no outcome yet (a finished job keeps no email ids at all)."""
        job = cls.__new__(cls)
        for spec in _RESTORED_FIELDS:
            if spec.name in fields:
                value = fields.pop(spec.name)
            elif spec.default is not dataclasses.MISSING:
                value = spec.default
            elif spec.default_factory is not dataclasses.MISSING:
                value = spec.default_factory()
            else:
                raise TypeError(f"restore() needs {spec.name}")
            setattr(job, spec.name, value)
        if fields:
            raise TypeError(f"restore() got unknown fields {sorted(fields)}")
        job.total = total
        job._pending = dict.fromkeys(pending)
        return job

    @property
    def processed(self) -> int:
        return self.succeeded + self.failed

    @property
    def is_finished(self) -> bool:
        return self.status.is_finished

    def has_outcome(self, email_id: UUID) -> bool:
        """Whether ``email_id``, one of this job's emails, has its outcome already."""
        if email_id in self._pending:
            return False
        return self.is_finished or email_id in self.email_ids

    def pending_ids(self) -> list[UUID]:
        """Emails with no outcome yet, in submission order."""
        return list(self._pending)

    @property
    def over_budget(self) -> bool:
        """Whether the summed cost has reached the budget: no email may start now.

        An unpriced cost (None) never reaches it; submissions refuse a budget
        when the model has no known price.
        """
        spent = self.usage.cost_usd
        return self.max_cost_usd is not None and spent is not None and spent >= self.max_cost_usd

    def failed_ids(self) -> list[UUID]:
        return [e.email_id for e in self.errors]

    def start(self, now: datetime) -> None:
        if self.status is JobStatus.QUEUED:
            self.status = JobStatus.PROCESSING
            self.updated_at = now
            self.revision += 1

    def record_success(self, email_id: UUID, now: datetime, usage: Usage = NO_USAGE) -> bool:
        if not self._accepts(email_id):
            return False
        del self._pending[email_id]
        self.succeeded += 1
        self._after_outcome(now, usage)
        return True

    def record_failure(
        self, email_id: UUID, error: str, now: datetime, usage: Usage = NO_USAGE
    ) -> bool:
        if not self._accepts(email_id):
            return False
        del self._pending[email_id]
        self.failed += 1
        self.errors.append(JobError(email_id, error, now))
        self._after_outcome(now, usage)
        return True

    def record_cancelled(
        self, email_ids: list[UUID], now: datetime, reason: CancelReason | None = None
    ) -> int:
        """Count emails that never started as cancelled; returns how many were new.

        The first cancellation gives the job its ``cancel_reason``.
        """
        if self.is_finished:
            return 0
        fresh = [i for i in dict.fromkeys(email_ids) if self._accepts(i)]
        if not fresh and self.cancel_requested:
            return 0
        if not self.cancel_requested:
            self.cancel_reason = reason
        self.cancel_requested = True
        for email_id in fresh:
            del self._pending[email_id]
        self.cancelled += len(fresh)
        self._after_outcome(now, NO_USAGE)
        return len(fresh)

    def _accepts(self, email_id: UUID) -> bool:
        return not self.is_finished and email_id in self._pending

    def _after_outcome(self, now: datetime, usage: Usage) -> None:
        self.usage = self.usage + usage
        if self.status is JobStatus.QUEUED:
            self.status = JobStatus.PROCESSING
        self.updated_at = now
        self.revision += 1
        if not self._pending:
            self._finish(now)

    def _finish(self, now: datetime) -> None:
        if self.cancel_requested:
            self.status = JobStatus.CANCELLED
        elif self.failed == self.total:
            self.status = JobStatus.FAILED
        else:
            self.status = JobStatus.COMPLETED
        self.completed_at = now
        # Every email has its outcome: the counters and errors say all that is left
        # to say. A fresh dict, because one emptied by deletions keeps its table.
        self.email_ids = ()
        self._pending = {}


#: ``BatchJob.restore``'s fields (all but the derived ``total`` and ``_pending``),
#: listed once rather than on every restore.
_RESTORED_FIELDS = tuple(
    spec for spec in dataclasses.fields(BatchJob) if spec.name not in ("total", "_pending")
)
