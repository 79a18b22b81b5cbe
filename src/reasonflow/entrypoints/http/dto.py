"""HTTP request and response bodies (msgspec Structs at the edge only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from reasonflow.domain.estimates import Estimate
from reasonflow.domain.inbox import ImportReport
from reasonflow.domain.model import (
    BatchJob,
    CancelReason,
    Email,
    EmailOutcome,
    EmailStatus,
    Intent,
    JobKind,
    JobStatus,
    Outcome,
)

Address = Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies reject fields they do not know (400)."""


class Credentials(Input):
    email: Address
    password: Password


class UserOut(msgspec.Struct):
    id: UUID
    email: str


class TokenOut(msgspec.Struct):
    access_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret


class EmailIn(Input):
    subject: Annotated[str, msgspec.Meta(max_length=998)]
    body: Annotated[str, msgspec.Meta(max_length=200_000)]
    sender: Address
    recipient: Annotated[str, msgspec.Meta(max_length=320)] = ""
    received_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    thread_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None


class EmailOut(msgspec.Struct):
    id: UUID
    subject: str
    body: str
    sender: str
    recipient: str
    received_at: str
    updated_at: str
    thread_id: str | None
    intent: Intent | None
    confidence: float | None
    status: EmailStatus
    draft: str | None
    last_error: str | None

    @classmethod
    def of(cls, email: Email) -> EmailOut:
        return cls(
            id=email.id,
            subject=email.subject,
            body=email.body,
            sender=email.sender,
            recipient=email.recipient,
            received_at=iso(email.received_at),
            updated_at=iso(email.updated_at),
            thread_id=email.thread_id,
            intent=email.intent,
            confidence=email.confidence,
            status=email.status,
            draft=email.draft,
            last_error=email.last_error,
        )


class EmailPage(msgspec.Struct):
    items: list[EmailOut]
    next_cursor: str | None


class ImportProblemOut(msgspec.Struct):
    position: int
    message_id: str | None
    error: str


class ImportOut(msgspec.Struct):
    imported: int
    duplicates: int
    problems: list[ImportProblemOut]

    @classmethod
    def of(cls, report: ImportReport) -> ImportOut:
        return cls(
            report.imported,
            report.duplicates,
            [ImportProblemOut(p.position, p.message_id, p.error) for p in report.problems],
        )


class ApproveIn(Input):
    draft: Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)] | None = None


#: A job's budget in USD: more than 0 (DESIGN §10).
Budget = Annotated[float, msgspec.Meta(gt=0, le=1_000_000)]


class ClassifyIn(Input):
    email_ids: list[UUID]
    force: bool = False
    max_cost_usd: Budget | None = None


class ProcessIn(Input):
    email_ids: list[UUID]
    max_cost_usd: Budget | None = None


class EstimateOut(msgspec.Struct):
    """At most what the job would spend (``cost_usd`` null when unpriced), and
    about how long it would take."""

    emails: int
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    seconds: float

    @classmethod
    def of(cls, estimate: Estimate) -> EstimateOut:
        return cls(
            estimate.emails,
            estimate.llm_calls,
            estimate.prompt_tokens,
            estimate.completion_tokens,
            estimate.cost_usd,
            estimate.seconds,
        )


MESSAGES = {
    JobKind.CLASSIFY: "Batch classification job accepted and queued for processing",
    JobKind.PROCESS: "Batch processing job accepted and queued for processing",
}


class AcceptedOut(msgspec.Struct):
    job_id: str
    status: JobStatus
    total: int
    processed: int
    message: str

    @classmethod
    def of(cls, job: BatchJob) -> AcceptedOut:
        # The answer describes the job as accepted, before the runner touches it.
        return cls(job.id, JobStatus.QUEUED, job.total, 0, MESSAGES[job.kind])


class JobErrorOut(msgspec.Struct):
    email_id: UUID
    error: str
    timestamp: str


class UsageOut(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    llm_calls: int
    llm_calls_saved: int


class JobOut(msgspec.Struct):
    job_id: str
    kind: JobKind
    status: JobStatus
    total: int
    processed: int
    succeeded: int
    failed: int
    cancelled: int
    errors: list[JobErrorOut] | None
    created_at: str
    updated_at: str
    completed_at: str | None
    usage: UsageOut
    cancel_reason: CancelReason | None
    max_cost_usd: float | None

    @classmethod
    def of(cls, job: BatchJob) -> JobOut:
        return cls(
            job_id=job.id,
            kind=job.kind,
            status=job.status,
            total=job.total,
            processed=job.processed,
            succeeded=job.succeeded,
            failed=job.failed,
            cancelled=job.cancelled,
            errors=[JobErrorOut(e.email_id, e.error, iso(e.timestamp)) for e in job.errors] or None,
            created_at=iso(job.created_at),
            updated_at=iso(job.updated_at),
            completed_at=iso(job.completed_at) if job.completed_at else None,
            usage=UsageOut(
                job.usage.prompt_tokens,
                job.usage.completion_tokens,
                job.usage.cost_usd,
                job.usage.llm_calls,
                job.usage.llm_calls_saved,
            ),
            cancel_reason=job.cancel_reason,
            max_cost_usd=job.max_cost_usd,
        )


class EmailEventOut(msgspec.Struct):
    """The data of a status stream's ``email`` event: one email's outcome."""

    email_id: UUID
    outcome: Outcome
    intent: Intent | None
    status: EmailStatus | None
    error: str | None

    @classmethod
    def of(cls, outcome: EmailOutcome) -> EmailEventOut:
        return cls(outcome.email_id, outcome.outcome, outcome.intent, outcome.status, outcome.error)


class JobPage(msgspec.Struct):
    items: list[JobOut]
    next_cursor: str | None


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with an explicit offset, e.g. ``2026-02-19T10:30:05.120000+00:00``."""
    return moment.astimezone(UTC).isoformat()
