"""Domain errors. The HTTP layer maps each type to a status code in one table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from reasonflow.domain.model import EmailStatus, JobKind


class DomainError(Exception):
    """Base of every error a user can cause; its message is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extra(self) -> dict[str, object] | None:
        return None


class EmptyBatch(DomainError):
    def __init__(self) -> None:
        super().__init__("email_ids must contain at least one id")


class BatchTooLarge(DomainError):
    def __init__(self, kind: JobKind, requested: int) -> None:
        super().__init__(
            f"A {kind.value} batch accepts at most {kind.limit} emails; {requested} were given"
        )
        self.kind = kind
        self.requested = requested


class DuplicateEmailIds(DomainError):
    def __init__(self, ids: Iterable[UUID]) -> None:
        self.ids = sorted(set(ids), key=str)
        super().__init__("email_ids contains repeated ids")

    @property
    def extra(self) -> dict[str, object]:
        return {"email_ids": [str(i) for i in self.ids]}


class EmailsNotFound(DomainError):
    """Missing and not-owned ids alike, so ownership never leaks."""

    def __init__(self, ids: Iterable[UUID]) -> None:
        self.ids = sorted(set(ids), key=str)
        super().__init__("Some emails were not found")

    @property
    def extra(self) -> dict[str, object]:
        return {"email_ids": [str(i) for i in self.ids]}


class EmailNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("Email not found")


class EmailsConflict(DomainError):
    def __init__(self, conflicts: Mapping[UUID, EmailStatus]) -> None:
        self.conflicts = dict(sorted(conflicts.items(), key=lambda kv: str(kv[0])))
        states = sorted({s.value for s in self.conflicts.values()})
        super().__init__(f"Some emails cannot be processed now: already {' or '.join(states)}")

    @property
    def extra(self) -> dict[str, object]:
        return {"conflicts": {str(k): v.value for k, v in self.conflicts.items()}}


class InvalidEmailTransition(DomainError):
    def __init__(self, action: str, status: EmailStatus) -> None:
        super().__init__(f"Cannot {action} an email that is {status.value}")
        self.status = status


class DraftRequired(DomainError):
    def __init__(self) -> None:
        super().__init__("A draft is required: pass a non-empty draft (the email has none)")


class JobNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("Batch job not found")


class JobConflict(DomainError):
    """An action the job's current state does not allow (cancel a finished job, ...)."""


class TooManyActiveJobs(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"You already have {limit} unfinished batch jobs; wait for one to finish")
        self.limit = limit


class EmailTaken(DomainError):
    def __init__(self) -> None:
        super().__init__("An account with this email already exists")


class InvalidCredentials(DomainError):
    def __init__(self) -> None:
        super().__init__("Invalid email or password")


class ProviderError(Exception):
    """An LLM provider could not answer for one email.

    ``reason`` is a short user-facing phrase (``API rate limit exceeded``) with
    no secret or trace; ``fatal`` means no further call can succeed in this job
    (rejected credentials), so the rest of the job fails without calling it.
    """

    def __init__(self, reason: str, *, fatal: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fatal = fatal


class InvalidCursor(DomainError):
    def __init__(self) -> None:
        super().__init__("cursor is malformed")
