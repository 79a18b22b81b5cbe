"""HTTP request and response bodies (msgspec Structs at the edge only)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from reasonflow.domain.accounts import MAX_ADDRESS, MAX_PASSWORD, MIN_PASSWORD
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

#: No NUL character in stored text: PostgreSQL cannot store one (400 on every database).
NO_NUL = "^[^\\x00]*$"


def text(min_length: int = 0, max_length: int | None = None) -> msgspec.Meta:
    """A text field's limits, checked by msgspec (400) and stated in the OpenAPI schema."""
    return msgspec.Meta(min_length=min_length or None, max_length=max_length, pattern=NO_NUL)


Address = Annotated[str, text(3, 320)]
#: An account's address: a dot-atom, ``@``, a domain name with a dot. Stated as a
#: pattern (the one msgspec checks, 400) rather than ``format: email``, whose
#: validators differ on the edges (quoted local parts, IP literals, lengths).
ADDRESS = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_ADDRESS = re.compile(ADDRESS)
AccountAddress = Annotated[
    str, msgspec.Meta(min_length=3, max_length=MAX_ADDRESS, extra_json_schema={"pattern": ADDRESS})
]
#: Earliest and latest year of a ``received_at``, as given (before conversion to UTC):
#: far outside them a date cannot be converted or stored on every database.
RECEIVED_YEARS = (1000, 2999)
ReceivedAt = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={
            "format": "date-time",
            "pattern": "^[12][0-9]{3}-",
            "description": "RFC 3339 with an offset, in the years 1000 to 2999.",
        }
    ),
]
#: How ``received_at`` is read: RFC 3339 text only (Litestar converts bodies
#: leniently, which would also take a number as a Unix time).
_MOMENT = Annotated[datetime, msgspec.Meta(tz=True)]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies reject fields they do not know (400)."""


class Registration(Input):
    email: AccountAddress
    password: Annotated[str, msgspec.Meta(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)]

    def __post_init__(self) -> None:
        # The pattern the schema states, with a message a person can act on.
        if not _ADDRESS.fullmatch(self.email):
            raise ValueError("email must be a valid address such as ada@example.com")


class Credentials(Input):
    email: Annotated[str, text(1, MAX_ADDRESS)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PASSWORD)]


class UserOut(msgspec.Struct):
    id: UUID
    email: str


class TokenOut(msgspec.Struct):
    access_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret


class EmailIn(Input):
    subject: Annotated[str, text(0, 998)]
    body: Annotated[str, text(0, 200_000)]
    sender: Address
    recipient: Annotated[str, text(0, 320)] = ""
    received_at: ReceivedAt | None = None
    thread_id: Annotated[str, text(1, 255)] | None = None

    def __post_init__(self) -> None:
        self.received()

    def received(self) -> datetime | None:
        """``received_at`` as a datetime; a ``ValueError`` (400) when it is not one
        the schema allows."""
        if self.received_at is None:
            return None
        try:
            moment = msgspec.convert(self.received_at, _MOMENT)
        except msgspec.ValidationError as exc:
            raise ValueError(f"received_at: {str(exc).split(' - at ')[0]}") from None
        first, last = RECEIVED_YEARS
        if not first <= moment.year <= last:
            raise ValueError(f"received_at must be in the years {first} to {last}")
        return moment


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
    draft: Annotated[str, text(1, 100_000)] | None = None


def selection(kind: JobKind) -> msgspec.Meta:
    """The rules of a batch's ``email_ids``, as the schema states them. The batch
    service enforces them itself (400 with its own messages: empty, too many,
    repeated ids), so msgspec only states them here."""
    return msgspec.Meta(
        extra_json_schema={"minItems": 1, "maxItems": kind.limit, "uniqueItems": True}
    )


#: A job's budget in USD: more than 0 (DESIGN §10).
Budget = Annotated[float, msgspec.Meta(gt=0, le=1_000_000)]


class ClassifyIn(Input):
    email_ids: Annotated[list[UUID], selection(JobKind.CLASSIFY)]
    force: bool = False
    max_cost_usd: Budget | None = None


class ProcessIn(Input):
    email_ids: Annotated[list[UUID], selection(JobKind.PROCESS)]
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
