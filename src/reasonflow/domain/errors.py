"""Domain errors. The HTTP layer maps each type to a status code in one table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from reasonflow.domain.model import NO_USAGE, EmailStatus, JobKind, Usage


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
    """Emails a process job may not take, each with its status; never empty."""

    def __init__(self, conflicts: Mapping[UUID, EmailStatus]) -> None:
        if not conflicts:
            raise ValueError("EmailsConflict needs at least one conflicting email")
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


class RateLimited(DomainError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("Too many batch submissions; slow down and try again shortly")
        self.retry_after = max(1, int(retry_after + 0.999))


class IdempotencyKeyReused(DomainError):
    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was already used with a different request body")


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

    def __init__(self, reason: str, *, fatal: bool = False, usage: Usage = NO_USAGE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fatal = fatal
        # Tokens spent before the failure still count in the job's usage.
        self.usage = usage

    def with_usage(self, usage: Usage) -> ProviderError:
        """The same failure, with ``usage`` added to what it already carries."""
        return ProviderError(self.reason, fatal=self.fatal, usage=usage + self.usage)


class DeliveryFailed(DomainError):
    """A reply could not be handed to the mail server; the message is safe to show."""


class InvalidToken(DomainError):
    """The bearer token is missing, malformed, expired, of another type or badly signed."""

    def __init__(self) -> None:
        super().__init__("Invalid or expired token")


class UnsupportedUpload(DomainError):
    def __init__(self) -> None:
        super().__init__("Send message/rfc822 (one message) or application/mbox (a mailbox)")


class BodyTooLarge(DomainError):
    """A request body over its limit: nothing of it was used."""

    def __init__(self, limit: int, what: str = "request body") -> None:
        super().__init__(f"The {what} is larger than the limit of {_size(limit)}")


def _size(count: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            amount = count / scale
            return f"{amount:.0f} {unit}" if amount == int(amount) else f"{amount:.1f} {unit}"
    return f"{count} bytes"


class ServiceUnavailable(DomainError):
    """The service cannot take this request now (shutting down); try again shortly."""

    def __init__(self, message: str = "The server is shutting down; try again shortly") -> None:
        super().__init__(message)


class DatabaseUnavailable(DomainError):
    """The database cannot be reached (down, restarting, connection lost).

    Not a ``ServiceUnavailable``: a job's email that meets it fails with a
    short reason and can be retried, rather than waiting for a task re-run.
    """

    def __init__(self) -> None:
        super().__init__("The database is unavailable right now; try again shortly")


class InvalidCursor(DomainError):
    def __init__(self) -> None:
        super().__init__("cursor is malformed")
