"""Submission rules (DESIGN §3) as pure functions: which error a selection deserves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from uuid import UUID

from reasonflow.domain.errors import (
    BatchTooLarge,
    DomainError,
    DuplicateEmailIds,
    EmailsConflict,
    EmailsNotFound,
    EmptyBatch,
)
from reasonflow.domain.model import EmailStatus, JobKind

#: A process job may not take an email in one of these states.
PROCESS_BLOCKING = frozenset({EmailStatus.PROCESSING, EmailStatus.SENDING, EmailStatus.SENT})


def validate_selection(kind: JobKind, email_ids: Sequence[UUID]) -> tuple[UUID, ...]:
    """Check the shape of a selection before any lookup: size and repeats."""
    if not email_ids:
        raise EmptyBatch()
    if len(email_ids) > kind.limit:
        raise BatchTooLarge(kind, len(email_ids))
    repeated = [i for i, n in Counter(email_ids).items() if n > 1]
    if repeated:
        raise DuplicateEmailIds(repeated)
    return tuple(email_ids)


def missing_ids(requested: Sequence[UUID], owned: Mapping[UUID, EmailStatus]) -> list[UUID]:
    return [i for i in requested if i not in owned]


def conflicts(kind: JobKind, owned: Mapping[UUID, EmailStatus]) -> dict[UUID, EmailStatus]:
    """Emails the job may not take, with their status. Classify takes any email."""
    if kind is JobKind.CLASSIFY:
        return {}
    return {i: s for i, s in owned.items() if s in PROCESS_BLOCKING}


def refusal(
    kind: JobKind, requested: Sequence[UUID], owned: Mapping[UUID, EmailStatus]
) -> DomainError | None:
    """The error a submission deserves given the caller's emails' statuses, if any.

    ``owned`` holds only the requested emails that belong to the caller, so a
    missing email and another user's email give the same ``EmailsNotFound``.
    Missing emails are reported before conflicting ones (DESIGN §3).
    """
    missing = missing_ids(requested, owned)
    if missing:
        return EmailsNotFound(missing)
    found = conflicts(kind, owned)
    if found:
        return EmailsConflict(found)
    return None


def check_submission(
    kind: JobKind, requested: Sequence[UUID], owned: Mapping[UUID, EmailStatus]
) -> None:
    """Raise what ``refusal`` finds, if anything."""
    error = refusal(kind, requested, owned)
    if error is not None:
        raise error
