"""BatchJob invariants (DESIGN §3), job ids, Usage and Classification."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from functools import reduce
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from reasonflow.domain.model import (
    NO_USAGE,
    BatchJob,
    CancelReason,
    Classification,
    Intent,
    JobKind,
    JobStatus,
    Usage,
)
from tests.fakes import EPOCH

JOB_ID = re.compile(r"^(cls|prc)_[0-9a-f]{16}$")
USER = UUID(int=7)
# Version-4 ids always carry version bits, so this one never collides with a generated id.
FOREIGN = UUID(int=1)

usages = st.builds(
    Usage,
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.one_of(st.none(), st.floats(0, 5, allow_nan=False)),
)


def new_job(kind: JobKind, ids: list[UUID]) -> BatchJob:
    return BatchJob(kind.new_job_id(), kind, USER, tuple(ids), EPOCH, EPOCH)


def snapshot(job: BatchJob) -> tuple[object, ...]:
    return (
        job.status,
        job.succeeded,
        job.failed,
        job.cancelled,
        list(job.errors),
        job.usage,
        job.updated_at,
        job.completed_at,
        job.cancel_requested,
        job.pending_ids(),
    )


class BatchJobMachine(RuleBasedStateMachine):
    """Drives one job with any mix of outcomes, repeats, foreign ids and cancels,
    checking it against a plain record of what was accepted."""

    @initialize(
        kind=st.sampled_from(JobKind),
        ids=st.lists(st.uuids(version=4), min_size=1, max_size=8, unique=True),
    )
    def create(self, kind: JobKind, ids: list[UUID]) -> None:
        self.ids = ids
        self.job = new_job(kind, ids)
        self.now = EPOCH
        self.outcomes: dict[UUID, str] = {}
        self.failures: list[tuple[UUID, str]] = []
        self.usages: list[Usage] = []
        self.cancel_requested = False
        self.cancel_reason: CancelReason | None = None
        self.touched = False
        self.counters = (0, 0, 0)
        self.finished_snapshot: tuple[object, ...] | None = None

    def _tick(self) -> None:
        self.now += timedelta(seconds=1)

    def _pick(self, index: int) -> UUID:
        return self.ids[index] if index < len(self.ids) else FOREIGN

    def _accepts(self, email_id: UUID) -> bool:
        return (
            self.finished_snapshot is None
            and email_id in self.ids
            and email_id not in self.outcomes
        )

    @rule()
    def start(self) -> None:
        self._tick()
        before = snapshot(self.job)
        self.job.start(self.now)
        if self.touched:
            assert snapshot(self.job) == before
        self.touched = True

    @rule(index=st.integers(0, 8), usage=usages)
    def succeed(self, index: int, usage: Usage) -> None:
        self._tick()
        email_id = self._pick(index)
        expected = self._accepts(email_id)
        before = snapshot(self.job)
        assert self.job.record_success(email_id, self.now, usage) is expected
        if expected:
            self.outcomes[email_id] = "succeeded"
            self.usages.append(usage)
            self.touched = True
        else:
            assert snapshot(self.job) == before

    @rule(index=st.integers(0, 8), usage=usages, message=st.text(min_size=1, max_size=20))
    def fail(self, index: int, usage: Usage, message: str) -> None:
        self._tick()
        email_id = self._pick(index)
        expected = self._accepts(email_id)
        before = snapshot(self.job)
        assert self.job.record_failure(email_id, message, self.now, usage) is expected
        if expected:
            self.outcomes[email_id] = "failed"
            self.failures.append((email_id, message))
            self.usages.append(usage)
            self.touched = True
        else:
            assert snapshot(self.job) == before

    @rule(
        indexes=st.lists(st.integers(0, 8), max_size=10),
        reason=st.sampled_from([None, *CancelReason]),
    )
    def cancel(self, indexes: list[int], reason: CancelReason | None) -> None:
        self._tick()
        chosen = [self._pick(i) for i in indexes]
        fresh = [i for i in dict.fromkeys(chosen) if self._accepts(i)]
        finished_before = self.finished_snapshot is not None
        assert self.job.record_cancelled(chosen, self.now, reason) == len(fresh)
        if not finished_before:
            if not self.cancel_requested:
                self.cancel_reason = reason  # the first cancellation names the reason
            self.cancel_requested = True
            self.touched = True
            self.outcomes.update(dict.fromkeys(fresh, "cancelled"))

    @invariant()
    def counters_add_up(self) -> None:
        job = self.job
        assert job.processed == job.succeeded + job.failed
        assert job.processed + job.cancelled <= job.total == len(self.ids)
        outcomes = list(self.outcomes.values())
        assert job.succeeded == outcomes.count("succeeded")
        assert job.failed == outcomes.count("failed")
        assert job.cancelled == outcomes.count("cancelled")

    @invariant()
    def the_first_cancel_reason_stands(self) -> None:
        assert self.job.cancel_reason is self.cancel_reason

    @invariant()
    def counters_never_decrease(self) -> None:
        counters = (self.job.succeeded, self.job.failed, self.job.cancelled)
        assert all(new >= old for new, old in zip(counters, self.counters, strict=True))
        self.counters = counters

    @invariant()
    def errors_list_each_failure_once(self) -> None:
        assert [(e.email_id, e.error) for e in self.job.errors] == self.failures
        assert self.job.failed_ids() == [i for i, _ in self.failures]

    @invariant()
    def pending_are_the_emails_without_outcome_in_order(self) -> None:
        assert self.job.pending_ids() == [i for i in self.ids if i not in self.outcomes]
        assert all(self.job.has_outcome(i) == (i in self.outcomes) for i in self.ids)

    @invariant()
    def a_finished_job_lets_its_email_ids_go(self) -> None:
        expected = () if self.job.is_finished else tuple(self.ids)
        assert self.job.email_ids == expected
        assert self.job.total == len(self.ids)

    @invariant()
    def usage_is_the_sum_of_accepted_outcomes(self) -> None:
        usage = self.job.usage
        assert usage.prompt_tokens == sum(u.prompt_tokens for u in self.usages)
        assert usage.completion_tokens == sum(u.completion_tokens for u in self.usages)
        costs = [u.cost_usd for u in self.usages]
        if any(c is None for c in costs):
            assert usage.cost_usd is None
        else:
            assert usage.cost_usd is not None
            assert math.isclose(usage.cost_usd, math.fsum(c or 0.0 for c in costs), abs_tol=1e-9)

    @invariant()
    def finishes_exactly_when_every_email_has_an_outcome(self) -> None:
        job = self.job
        assert job.is_finished == (len(self.outcomes) == len(self.ids))
        assert (job.completed_at is not None) == job.is_finished
        if not job.is_finished:
            expected = JobStatus.PROCESSING if self.touched else JobStatus.QUEUED
            assert job.status is expected

    @invariant()
    def final_status_follows_the_outcomes(self) -> None:
        job = self.job
        if job.status is JobStatus.FAILED:
            assert job.failed == job.total
        if not job.is_finished:
            return
        if self.cancel_requested:
            assert job.status is JobStatus.CANCELLED
        elif job.failed == job.total:
            assert job.status is JobStatus.FAILED
        else:
            assert job.status is JobStatus.COMPLETED

    @invariant()
    def a_finished_job_never_changes_again(self) -> None:
        if not self.job.is_finished:
            return
        if self.finished_snapshot is None:
            self.finished_snapshot = snapshot(self.job)
        assert snapshot(self.job) == self.finished_snapshot

    @precondition(lambda self: self.finished_snapshot is not None)
    @rule(index=st.integers(0, 8))
    def everything_is_refused_once_finished(self, index: int) -> None:
        self._tick()
        email_id = self._pick(index)
        assert not self.job.record_success(email_id, self.now)
        assert not self.job.record_failure(email_id, "late", self.now)
        assert self.job.record_cancelled([email_id], self.now) == 0


TestBatchJobInvariants = BatchJobMachine.TestCase
TestBatchJobInvariants.settings = settings(max_examples=150, stateful_step_count=25, deadline=None)


@given(kind=st.sampled_from(JobKind), size=st.integers(1, 10))
def test_a_job_where_every_email_failed_is_failed(kind: JobKind, size: int) -> None:
    ids = [uuid4() for _ in range(size)]
    job = new_job(kind, ids)
    for email_id in ids:
        job.record_failure(email_id, "Classification failed: provider timed out", EPOCH)
    assert job.status is JobStatus.FAILED
    assert (job.processed, job.failed, job.succeeded) == (size, size, 0)


@given(kind=st.sampled_from(JobKind), size=st.integers(2, 10), data=st.data())
def test_partial_success_is_completed(kind: JobKind, size: int, data: st.DataObject) -> None:
    ids = [uuid4() for _ in range(size)]
    lucky = data.draw(st.sampled_from(ids))
    job = new_job(kind, ids)
    for email_id in ids:
        if email_id == lucky:
            job.record_success(email_id, EPOCH)
        else:
            job.record_failure(email_id, "Classification failed: provider timed out", EPOCH)
    assert job.status is JobStatus.COMPLETED
    assert (job.succeeded, job.failed) == (1, size - 1)


def test_a_cancel_while_emails_run_ends_cancelled_when_they_finish() -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    job = new_job(JobKind.PROCESS, [a, b, c])
    job.record_success(a, EPOCH)
    assert job.record_cancelled([c], EPOCH + timedelta(seconds=1)) == 1
    assert job.status is JobStatus.PROCESSING  # b has started and may still finish
    job.record_success(b, EPOCH + timedelta(seconds=2))
    assert job.status is JobStatus.CANCELLED
    assert (job.succeeded, job.failed, job.cancelled) == (2, 0, 1)
    assert job.completed_at == EPOCH + timedelta(seconds=2)


def test_cancelling_every_email_of_a_queued_job_ends_it_cancelled() -> None:
    ids = [uuid4(), uuid4()]
    job = new_job(JobKind.CLASSIFY, ids)
    assert job.record_cancelled(ids + ids, EPOCH) == 2
    assert job.status is JobStatus.CANCELLED
    assert (job.processed, job.cancelled) == (0, 2)


def test_recording_the_same_cancellation_twice_changes_nothing() -> None:
    a, b = uuid4(), uuid4()
    job = new_job(JobKind.PROCESS, [a, b])
    job.record_cancelled([a], EPOCH + timedelta(seconds=1))
    before = snapshot(job)
    assert job.record_cancelled([a], EPOCH + timedelta(seconds=2)) == 0
    assert snapshot(job) == before


def test_a_finished_job_keeps_its_counters_and_failures_but_not_its_email_ids() -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    job = new_job(JobKind.CLASSIFY, [a, b, c])
    job.record_success(a, EPOCH)
    job.record_failure(b, "Classification failed: provider timed out", EPOCH)
    assert job.email_ids == (a, b, c)
    assert job.pending_ids() == [c]
    job.record_success(c, EPOCH + timedelta(seconds=1))
    assert job.status is JobStatus.COMPLETED
    assert (job.total, job.processed, job.succeeded, job.failed) == (3, 3, 2, 1)
    assert job.failed_ids() == [b]
    # What a retained job no longer needs: one entry per email (docs/benchmarks.md, row 6).
    assert job.email_ids == ()
    assert job.pending_ids() == []
    assert all(job.has_outcome(i) for i in (a, b, c))
    assert not job.record_success(a, EPOCH + timedelta(seconds=2))


def test_an_email_of_another_job_has_no_outcome_here() -> None:
    job = new_job(JobKind.CLASSIFY, [uuid4(), uuid4()])
    assert not job.has_outcome(FOREIGN)
    assert not job.record_success(FOREIGN, EPOCH)


def test_a_job_refuses_bad_shapes() -> None:
    a = uuid4()
    with pytest.raises(ValueError, match="at least one"):
        BatchJob(JobKind.CLASSIFY.new_job_id(), JobKind.CLASSIFY, USER, (), EPOCH, EPOCH)
    with pytest.raises(ValueError, match="unique"):
        BatchJob(JobKind.CLASSIFY.new_job_id(), JobKind.CLASSIFY, USER, (a, a), EPOCH, EPOCH)
    with pytest.raises(ValueError, match="kind"):
        BatchJob(JobKind.PROCESS.new_job_id(), JobKind.CLASSIFY, USER, (a,), EPOCH, EPOCH)


@pytest.mark.parametrize(
    ("kind", "prefix"), [(JobKind.CLASSIFY, "cls_"), (JobKind.PROCESS, "prc_")]
)
def test_job_ids_have_the_kind_prefix_and_16_hex_chars_and_are_unique(
    kind: JobKind, prefix: str
) -> None:
    ids = [kind.new_job_id() for _ in range(5_000)]
    assert all(JOB_ID.fullmatch(i) and i.startswith(prefix) for i in ids)
    assert len(set(ids)) == len(ids)
    assert JobKind.of_job_id(ids[0]) is kind


def test_an_unknown_job_id_prefix_has_no_kind() -> None:
    assert JobKind.of_job_id("job_0123456789abcdef") is None


def test_kind_limits() -> None:
    assert (JobKind.CLASSIFY.limit, JobKind.PROCESS.limit) == (100, 50)


@given(st.lists(usages, max_size=20))
def test_usage_adds_up_and_an_unknown_cost_is_absorbing(parts: list[Usage]) -> None:
    total = reduce(lambda a, b: a + b, parts, NO_USAGE)
    assert total.prompt_tokens == sum(u.prompt_tokens for u in parts)
    assert total.completion_tokens == sum(u.completion_tokens for u in parts)
    if any(u.cost_usd is None for u in parts):
        assert total.cost_usd is None
    else:
        assert total.cost_usd is not None
        assert math.isclose(total.cost_usd, math.fsum(u.cost_usd or 0.0 for u in parts))


@given(usages, usages)
def test_usage_addition_commutes(a: Usage, b: Usage) -> None:
    left, right = a + b, b + a
    assert (left.prompt_tokens, left.completion_tokens) == (
        right.prompt_tokens,
        right.completion_tokens,
    )
    assert left.cost_usd == right.cost_usd


@pytest.mark.parametrize(("prompt", "completion"), [(-1, 0), (0, -1)])
def test_usage_refuses_negative_token_counts(prompt: int, completion: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        Usage(prompt, completion)


@given(st.sampled_from(Intent), st.floats(0.0, 1.0))
def test_classification_accepts_any_confidence_in_0_to_1(intent: Intent, conf: float) -> None:
    assert Classification(intent, conf).confidence == conf


@given(
    st.sampled_from(Intent),
    st.one_of(
        st.floats(max_value=0.0, exclude_max=True),
        st.floats(min_value=1.0, exclude_min=True),
        st.just(math.nan),
    ),
)
def test_classification_refuses_confidence_outside_0_to_1(intent: Intent, conf: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        Classification(intent, conf)


@pytest.mark.parametrize(
    ("budget", "spent", "over"),
    [
        (None, 5.0, False),
        (1.0, 0.99, False),
        (1.0, 1.0, True),
        (1.0, 2.0, True),
        (1.0, None, False),
    ],
)
def test_a_job_is_over_budget_once_its_cost_reaches_it(
    budget: float | None, spent: float | None, over: bool
) -> None:
    job = BatchJob(
        JobKind.CLASSIFY.new_job_id(), JobKind.CLASSIFY, USER, (uuid4(), uuid4()), EPOCH, EPOCH,
        max_cost_usd=budget,
    )  # fmt: skip
    job.record_success(job.email_ids[0], EPOCH, Usage(1, 1, spent))
    assert job.over_budget is over


@pytest.mark.parametrize("budget", [0.0, -1.0])
def test_a_budget_must_be_above_zero(budget: float) -> None:
    with pytest.raises(ValueError, match="budget"):
        BatchJob(
            JobKind.CLASSIFY.new_job_id(), JobKind.CLASSIFY, USER, (uuid4(),), EPOCH, EPOCH,
            max_cost_usd=budget,
        )  # fmt: skip
