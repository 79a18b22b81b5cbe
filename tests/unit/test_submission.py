"""Submission rules (DESIGN §3) and the review policy every pipeline shares."""

from __future__ import annotations

import math
from uuid import UUID

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reasonflow.domain.errors import (
    BatchTooLarge,
    DuplicateEmailIds,
    EmailsConflict,
    EmailsNotFound,
    EmptyBatch,
)
from reasonflow.domain.model import EmailStatus, Intent, JobKind
from reasonflow.domain.pipeline import ReviewPolicy
from reasonflow.domain.submission import (
    PROCESS_BLOCKING,
    check_submission,
    conflicts,
    validate_selection,
)

kinds = st.sampled_from(JobKind)
statuses = st.sampled_from(EmailStatus)
confidences = st.floats(0.0, 1.0)


def unique_ids(min_size: int = 0, max_size: int = 120) -> st.SearchStrategy[list[UUID]]:
    return st.lists(st.uuids(), min_size=min_size, max_size=max_size, unique=True)


@pytest.mark.parametrize("kind", list(JobKind))
def test_an_empty_selection_is_refused(kind: JobKind) -> None:
    with pytest.raises(EmptyBatch):
        validate_selection(kind, [])


@given(kind=kinds, data=st.data())
def test_up_to_the_limit_distinct_ids_are_accepted_in_order(
    kind: JobKind, data: st.DataObject
) -> None:
    ids = data.draw(unique_ids(1, kind.limit))
    assert validate_selection(kind, ids) == tuple(ids)


@pytest.mark.parametrize(("kind", "limit"), [(JobKind.CLASSIFY, 100), (JobKind.PROCESS, 50)])
def test_exactly_the_limit_is_accepted_and_one_more_is_too_large(kind: JobKind, limit: int) -> None:
    ids = [UUID(int=i + 1) for i in range(limit + 1)]
    assert len(validate_selection(kind, ids[:limit])) == limit
    with pytest.raises(BatchTooLarge) as caught:
        validate_selection(kind, ids)
    assert (caught.value.kind, caught.value.requested) == (kind, limit + 1)
    assert f"at most {limit}" in caught.value.message


@given(kind=kinds, data=st.data())
def test_over_the_limit_is_too_large(kind: JobKind, data: st.DataObject) -> None:
    ids = data.draw(unique_ids(kind.limit + 1, kind.limit + 30))
    with pytest.raises(BatchTooLarge) as caught:
        validate_selection(kind, ids)
    assert caught.value.requested == len(ids)


@given(kind=kinds, data=st.data())
def test_any_repeat_is_refused_naming_exactly_the_repeated_ids(
    kind: JobKind, data: st.DataObject
) -> None:
    distinct = data.draw(unique_ids(1, kind.limit - 1))
    repeated = data.draw(
        st.lists(st.sampled_from(distinct), min_size=1, max_size=kind.limit - len(distinct))
    )
    selection = data.draw(st.permutations(distinct + repeated))
    with pytest.raises(DuplicateEmailIds) as caught:
        validate_selection(kind, selection)
    assert set(caught.value.ids) == set(repeated)
    assert caught.value.extra == {"email_ids": sorted(str(i) for i in set(repeated))}


@st.composite
def submissions(draw: st.DrawFn) -> tuple[list[UUID], dict[UUID, EmailStatus], list[UUID]]:
    """A selection, the statuses of the part the caller owns, and the rest
    (missing or another user's: the rules cannot tell them apart, by design)."""
    requested = draw(unique_ids(1, 50))
    owned_ids = draw(st.lists(st.sampled_from(requested), unique=True))
    owned = {i: draw(statuses) for i in owned_ids}
    return requested, owned, [i for i in requested if i not in owned]


@given(kind=kinds, submission=submissions())
def test_missing_or_foreign_ids_are_not_found_listing_exactly_those(
    kind: JobKind, submission: tuple[list[UUID], dict[UUID, EmailStatus], list[UUID]]
) -> None:
    requested, owned, absent = submission
    assume(absent)
    with pytest.raises(EmailsNotFound) as caught:
        check_submission(kind, requested, owned)
    assert caught.value.ids == sorted(absent, key=str)
    assert caught.value.extra == {"email_ids": sorted(str(i) for i in absent)}
    # One message whatever the reason, so it cannot tell who owns what.
    assert caught.value.message == "Some emails were not found"


@given(submission=submissions())
def test_process_conflicts_with_exactly_the_processing_sending_and_sent_emails(
    submission: tuple[list[UUID], dict[UUID, EmailStatus], list[UUID]],
) -> None:
    requested, owned, _ = submission
    owned = {i: owned.get(i, EmailStatus.PENDING) for i in requested}
    blocked = {i: s for i, s in owned.items() if s in PROCESS_BLOCKING}
    assert conflicts(JobKind.PROCESS, owned) == blocked
    if blocked:
        with pytest.raises(EmailsConflict) as caught:
            check_submission(JobKind.PROCESS, requested, owned)
        assert caught.value.conflicts == blocked
        assert caught.value.extra == {
            "conflicts": {
                str(i): s.value for i, s in sorted(blocked.items(), key=lambda x: str(x[0]))
            }
        }
        for status in {s.value for s in blocked.values()}:
            assert status in caught.value.message
    else:
        check_submission(JobKind.PROCESS, requested, owned)


@given(submission=submissions())
def test_classify_never_conflicts(
    submission: tuple[list[UUID], dict[UUID, EmailStatus], list[UUID]],
) -> None:
    requested, owned, _ = submission
    owned = {i: owned.get(i, EmailStatus.PROCESSING) for i in requested}
    assert conflicts(JobKind.CLASSIFY, owned) == {}
    check_submission(JobKind.CLASSIFY, requested, owned)


def test_not_found_is_reported_before_conflicts() -> None:
    gone, busy = UUID(int=1), UUID(int=2)
    with pytest.raises(EmailsNotFound):
        check_submission(JobKind.PROCESS, [gone, busy], {busy: EmailStatus.SENT})


def test_only_processing_and_sent_block_a_process_job() -> None:
    assert (
        frozenset({EmailStatus.PROCESSING, EmailStatus.SENDING, EmailStatus.SENT})
        == PROCESS_BLOCKING
    )


# -- review policy -----------------------------------------------------------------


def expected_review(policy: ReviewPolicy, intent: Intent, confidence: float) -> EmailStatus:
    confident = confidence >= policy.auto_approve_threshold
    if intent is Intent.SPAM and confident:
        return EmailStatus.REJECTED
    if intent is Intent.COMPLAINT or not confident:
        return EmailStatus.NEEDS_REVIEW
    return EmailStatus.SENDING if policy.auto_send else EmailStatus.DRAFTED


@settings(max_examples=300)
@given(
    threshold=confidences,
    auto_send=st.booleans(),
    intent=st.sampled_from(Intent),
    confidence=confidences,
)
def test_review_table(threshold: float, auto_send: bool, intent: Intent, confidence: float) -> None:
    policy = ReviewPolicy(threshold, auto_send)
    status = policy.review(intent, confidence)
    assert status is expected_review(policy, intent, confidence)
    assert policy.needs_draft(intent, confidence) is (status is not EmailStatus.REJECTED)


@pytest.mark.parametrize(
    ("intent", "confidence", "auto_send", "status"),
    [
        (Intent.SPAM, 0.8, False, EmailStatus.REJECTED),
        (Intent.SPAM, 0.99, True, EmailStatus.REJECTED),
        (Intent.SPAM, 0.79, False, EmailStatus.NEEDS_REVIEW),
        (Intent.COMPLAINT, 1.0, True, EmailStatus.NEEDS_REVIEW),
        (Intent.INQUIRY, 0.79, True, EmailStatus.NEEDS_REVIEW),
        (Intent.INQUIRY, 0.8, False, EmailStatus.DRAFTED),
        (Intent.MEETING_REQUEST, 0.95, False, EmailStatus.DRAFTED),
        (Intent.FOLLOW_UP, 0.8, True, EmailStatus.SENDING),
        (Intent.OTHER, 1.0, True, EmailStatus.SENDING),
    ],
)
def test_review_examples_at_the_default_threshold(
    intent: Intent, confidence: float, auto_send: bool, status: EmailStatus
) -> None:
    assert ReviewPolicy(auto_send=auto_send).review(intent, confidence) is status


def test_default_policy_is_a_threshold_of_0_8_without_auto_send() -> None:
    assert ReviewPolicy() == ReviewPolicy(0.8, False)


@given(
    st.one_of(
        st.floats(max_value=0.0, exclude_max=True),
        st.floats(min_value=1.0, exclude_min=True),
        st.just(math.nan),
    )
)
def test_a_threshold_outside_0_to_1_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError, match="auto_approve_threshold"):
        ReviewPolicy(threshold)


def test_an_empty_conflict_cannot_be_built() -> None:
    """A 409 always names the emails in the way."""
    with pytest.raises(ValueError, match="at least one"):
        EmailsConflict({})
