"""Submission rules (DESIGN §3) as pure functions, plus the review and dispatch
rules every agent pipeline shares (DESIGN §1, §4)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from reasonflow.domain.errors import (
    BatchTooLarge,
    DuplicateEmailIds,
    EmailsConflict,
    EmailsNotFound,
    EmptyBatch,
)
from reasonflow.domain.model import EmailStatus, Intent, JobKind

#: A process job may not take an email in one of these states.
PROCESS_BLOCKING = frozenset({EmailStatus.PROCESSING, EmailStatus.SENT})


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


def check_submission(
    kind: JobKind, requested: Sequence[UUID], owned: Mapping[UUID, EmailStatus]
) -> None:
    """Raise the error a submission deserves given the caller's emails' statuses.

    ``owned`` holds only the requested emails that belong to the caller, so a
    missing email and another user's email give the same ``EmailsNotFound``.
    """
    missing = missing_ids(requested, owned)
    if missing:
        raise EmailsNotFound(missing)
    found = conflicts(kind, owned)
    if found:
        raise EmailsConflict(found)


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """Where an email goes after its draft: review, then dispatch.

    Below ``auto_approve_threshold`` or a complaint → ``needs_review``; spam at
    or above it → ``rejected`` (no reply); otherwise ``drafted``, or ``sent``
    when auto-send is on.
    """

    auto_approve_threshold: float = 0.8
    auto_send: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.auto_approve_threshold <= 1.0:
            raise ValueError("auto_approve_threshold must lie in 0..1")

    def review(self, intent: Intent, confidence: float) -> EmailStatus:
        if intent is Intent.SPAM and confidence >= self.auto_approve_threshold:
            return EmailStatus.REJECTED
        if intent is Intent.COMPLAINT or confidence < self.auto_approve_threshold:
            return EmailStatus.NEEDS_REVIEW
        return EmailStatus.SENT if self.auto_send else EmailStatus.DRAFTED

    def needs_draft(self, intent: Intent, confidence: float) -> bool:
        return self.review(intent, confidence) is not EmailStatus.REJECTED
