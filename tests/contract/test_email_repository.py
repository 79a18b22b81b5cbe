"""The EmailRepository contract, run against SQLite, Postgres and the unit-test fake alike."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from sqlalchemy.exc import StatementError

from reasonflow.domain.errors import InvalidCursor
from reasonflow.domain.model import Email, EmailStatus, Intent, PipelineResult
from reasonflow.domain.ports import EmailFilter
from tests.contract.conftest import Backend

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ALICE = uuid.UUID("00000000-0000-4000-8000-00000000a11c")
BOB = uuid.UUID("00000000-0000-4000-8000-000000000b0b")


def mail(user_id: UUID = ALICE, minutes: float = 0, **fields: object) -> Email:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "subject": "Pricing question",
        "body": "How much is the pro plan?",
        "sender": "carol@example.com",
        "recipient": "support@example.com",
        "received_at": T0 + timedelta(minutes=minutes),
        "updated_at": T0,
    }
    values.update(fields)
    return Email(**values)  # type: ignore[arg-type]


async def stored(repo: Backend, *emails: Email) -> list[Email]:
    for email in emails:
        await repo.emails.add(email)
    return list(emails)


async def reread(repo: Backend, email: Email) -> Email:
    found = await repo.emails.get(email.user_id, email.id)
    assert found is not None
    return found


def assert_utc(*moments: datetime) -> None:
    for moment in moments:
        assert moment.tzinfo is not None
        assert moment.utcoffset() == timedelta(0)


# --- add, get, statuses -------------------------------------------------


async def test_every_field_round_trips_and_times_come_back_aware_utc(repo: Backend) -> None:
    paris = timezone(timedelta(hours=2))
    email = mail(
        received_at=datetime(2024, 5, 1, 11, 30, 15, 123456, tzinfo=paris),
        thread_id="thread-1",
        intent=Intent.INQUIRY,
        confidence=0.75,
        status=EmailStatus.PROCESSING,
        draft="Hello",
        job_id="prc_0123456789abcdef",
        previous_status=EmailStatus.DRAFTED,
        last_error="Agent pipeline failed: provider timed out",
    )
    await repo.emails.add(email)

    found = await reread(repo, email)

    assert found == email
    assert found.received_at == datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)
    assert_utc(found.received_at, found.updated_at)


async def test_naive_datetimes_are_refused(repo: Backend) -> None:
    with pytest.raises((StatementError, ValueError), match="naive datetime"):
        await repo.emails.add(mail(received_at=datetime(2024, 5, 1, 9, 0)))


async def test_another_users_email_is_invisible(repo: Backend) -> None:
    (bobs,) = await stored(repo, mail(BOB))

    assert await repo.emails.get(ALICE, bobs.id) is None
    assert await repo.emails.statuses(ALICE, [bobs.id]) == {}
    assert (await repo.emails.page(ALICE, EmailFilter(), 10, None)).items == []


async def test_get_of_an_unknown_id_is_none(repo: Backend) -> None:
    assert await repo.emails.get(ALICE, uuid.uuid4()) is None


async def test_statuses_report_only_the_callers_emails(repo: Backend) -> None:
    a, b, bobs = await stored(repo, mail(), mail(status=EmailStatus.SENT), mail(BOB))

    statuses = await repo.emails.statuses(ALICE, [a.id, b.id, bobs.id, uuid.uuid4()])

    assert statuses == {a.id: EmailStatus.PENDING, b.id: EmailStatus.SENT}


@pytest.mark.parametrize("count", [1, 100, 101, 150])
async def test_statuses_of_a_selection_of_any_size_with_repeats(repo: Backend, count: int) -> None:
    # Up to 100 ids in one statement; more in chunks of it.
    mine = await stored(repo, *(mail() for _ in range(count)))
    bobs = await stored(repo, mail(BOB))
    asked = [e.id for e in mine] + [mine[0].id, bobs[0].id]

    statuses = await repo.emails.statuses(ALICE, asked)

    assert statuses == dict.fromkeys((e.id for e in mine), EmailStatus.PENDING)
    assert await repo.emails.statuses(ALICE, []) == {}


# --- page --------------------------------------------------------------------------


async def test_pages_walk_newest_first_without_repeats_across_equal_timestamps(
    repo: Backend,
) -> None:
    # Five emails share one timestamp: only the id breaks the tie.
    emails = await stored(
        repo, *[mail(minutes=5) for _ in range(5)], mail(minutes=9), mail(minutes=1)
    )
    seen: list[Email] = []
    cursor: str | None = None
    for _ in range(10):
        page = await repo.emails.page(ALICE, EmailFilter(), 2, cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
        assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), "cursor must be URL-safe"

    expected = sorted(emails, key=lambda e: (e.received_at, e.id.hex), reverse=True)
    assert [e.id for e in seen] == [e.id for e in expected]
    assert_utc(*(e.received_at for e in seen))


async def test_a_page_that_ends_exactly_has_no_next_cursor(repo: Backend) -> None:
    await stored(repo, mail(minutes=1), mail(minutes=2))

    page = await repo.emails.page(ALICE, EmailFilter(), 2, None)

    assert len(page.items) == 2
    assert page.next_cursor is None


async def test_pages_filter_by_status_and_intent(repo: Backend) -> None:
    wanted, _, _, _ = await stored(
        repo,
        mail(minutes=1, status=EmailStatus.DRAFTED, intent=Intent.COMPLAINT),
        mail(minutes=2, status=EmailStatus.DRAFTED, intent=Intent.SPAM),
        mail(minutes=3, status=EmailStatus.PENDING, intent=Intent.COMPLAINT),
        mail(BOB, minutes=4, status=EmailStatus.DRAFTED, intent=Intent.COMPLAINT),
    )

    both = EmailFilter(status=EmailStatus.DRAFTED, intent=Intent.COMPLAINT)
    page = await repo.emails.page(ALICE, both, 10, None)
    by_status = await repo.emails.page(ALICE, EmailFilter(status=EmailStatus.DRAFTED), 10, None)

    assert page.items == [wanted]
    assert len(by_status.items) == 2


async def test_pages_walk_oldest_first_when_asked_without_repeats(repo: Backend) -> None:
    emails = await stored(
        repo, *[mail(minutes=5) for _ in range(4)], mail(minutes=9), mail(minutes=1)
    )
    seen: list[Email] = []
    cursor: str | None = None
    for _ in range(10):
        page = await repo.emails.page(ALICE, EmailFilter(oldest_first=True), 2, cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break

    expected = sorted(emails, key=lambda e: (e.received_at, e.id.hex))
    assert [e.id for e in seen] == [e.id for e in expected]


async def test_pages_filter_by_thread_and_owner(repo: Backend) -> None:
    first, second, _, _ = await stored(
        repo,
        mail(minutes=1, thread_id="t-renewal"),
        mail(minutes=2, thread_id="t-renewal"),
        mail(minutes=3, thread_id="t-other"),
        mail(BOB, minutes=4, thread_id="t-renewal"),
    )

    page = await repo.emails.page(ALICE, EmailFilter(thread_id="t-renewal"), 10, None)

    assert [e.id for e in page.items] == [second.id, first.id]


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"no separator").decode(),
        base64.urlsafe_b64encode(b"2024-05-01T09:00:00|not-a-uuid").decode(),
        base64.urlsafe_b64encode(f"2024-05-01T09:00:00|{uuid.uuid4().hex}".encode()).decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
async def test_a_malformed_cursor_is_a_domain_error(repo: Backend, cursor: str) -> None:
    with pytest.raises(InvalidCursor, match="cursor is malformed"):
        await repo.emails.page(ALICE, EmailFilter(), 10, cursor)


# --- claim, finish_claimed, release, recover_orphans ----------------------------------


async def test_claim_takes_every_email_and_remembers_its_previous_status(repo: Backend) -> None:
    a, b = await stored(repo, mail(), mail(status=EmailStatus.DRAFTED))

    assert await repo.emails.claim(ALICE, [a.id, b.id], "prc_a")

    for email, before in ((a, EmailStatus.PENDING), (b, EmailStatus.DRAFTED)):
        now = await reread(repo, email)
        assert (now.status, now.job_id, now.previous_status) == (
            EmailStatus.PROCESSING,
            "prc_a",
            before,
        )
        assert now.updated_at == repo.clock.now()


async def test_claim_with_a_missing_or_foreign_id_claims_nothing(repo: Backend) -> None:
    mine, bobs = await stored(repo, mail(), mail(BOB))
    unknown = uuid.uuid4()

    assert not await repo.emails.claim(ALICE, [mine.id, bobs.id, unknown], "prc_a")

    # Why is the domain's to say, from the statuses: Bob's email and the unknown one.
    assert await repo.emails.statuses(ALICE, [mine.id, bobs.id, unknown]) == {
        mine.id: EmailStatus.PENDING
    }
    assert (await reread(repo, mine)).status is EmailStatus.PENDING
    assert (await reread(repo, bobs)).status is EmailStatus.PENDING


async def test_claim_refuses_emails_already_processing_or_sent(repo: Backend) -> None:
    free, busy, sent = await stored(repo, mail(), mail(), mail(status=EmailStatus.SENT))
    assert await repo.emails.claim(ALICE, [busy.id], "prc_first")

    assert not await repo.emails.claim(ALICE, [free.id, busy.id, sent.id], "prc_second")

    assert await repo.emails.statuses(ALICE, [free.id, busy.id, sent.id]) == {
        free.id: EmailStatus.PENDING,
        busy.id: EmailStatus.PROCESSING,
        sent.id: EmailStatus.SENT,
    }
    assert (await reread(repo, free)).job_id is None
    assert (await reread(repo, busy)).job_id == "prc_first"


async def test_finish_claimed_commits_the_result_and_drops_the_claim(repo: Backend) -> None:
    (email,) = await stored(repo, mail())
    await repo.emails.claim(ALICE, [email.id], "prc_a")
    result = PipelineResult(Intent.INQUIRY, 0.9, EmailStatus.DRAFTED, "Thanks, it is $10.")
    finished_at = repo.clock.advance()

    assert await repo.emails.finish_claimed(email.id, "prc_a", result)

    now = await reread(repo, email)
    assert (now.intent, now.confidence, now.status, now.draft) == (
        Intent.INQUIRY,
        0.9,
        EmailStatus.DRAFTED,
        "Thanks, it is $10.",
    )
    assert (now.job_id, now.previous_status, now.last_error) == (None, None, None)
    assert now.updated_at == finished_at
    # The claim is gone, so a second finish writes nothing.
    assert not await repo.emails.finish_claimed(email.id, "prc_a", None, error="late")
    assert await reread(repo, email) == now


async def test_finish_claimed_by_a_job_that_does_not_hold_the_email_writes_nothing(
    repo: Backend,
) -> None:
    (email,) = await stored(repo, mail())
    await repo.emails.claim(ALICE, [email.id], "prc_holder")
    before = await reread(repo, email)
    result = PipelineResult(Intent.SPAM, 1.0, EmailStatus.REJECTED, None)

    assert not await repo.emails.finish_claimed(email.id, "prc_other", result)
    assert await reread(repo, email) == before


async def test_a_failed_email_goes_to_review_with_its_error(repo: Backend) -> None:
    (email,) = await stored(repo, mail(intent=Intent.OTHER, confidence=0.2))
    await repo.emails.claim(ALICE, [email.id], "prc_a")
    error = "Agent pipeline failed: API rate limit exceeded"

    assert await repo.emails.finish_claimed(email.id, "prc_a", None, error=error)

    now = await reread(repo, email)
    assert (now.status, now.last_error, now.job_id) == (EmailStatus.NEEDS_REVIEW, error, None)
    assert (now.intent, now.confidence) == (Intent.OTHER, 0.2)


async def test_release_restores_previous_statuses_of_the_jobs_emails(repo: Backend) -> None:
    a, b, c, other = await stored(
        repo, mail(), mail(status=EmailStatus.NEEDS_REVIEW), mail(), mail()
    )
    await repo.emails.claim(ALICE, [a.id, b.id, c.id], "prc_a")
    await repo.emails.claim(ALICE, [other.id], "prc_b")

    assert await repo.emails.release("prc_a", [a.id]) == 1
    assert await repo.emails.release("prc_a") == 2
    assert await repo.emails.release("prc_a") == 0
    assert await repo.emails.release("prc_b", []) == 0

    for email, status in ((a, "pending"), (b, "needs_review"), (c, "pending")):
        now = await reread(repo, email)
        assert (now.status, now.job_id, now.previous_status) == (status, None, None)
    assert (await reread(repo, other)).job_id == "prc_b"


async def test_recover_orphans_releases_claims_of_jobs_no_longer_running(repo: Backend) -> None:
    orphan, running, idle = await stored(repo, mail(status=EmailStatus.DRAFTED), mail(), mail())
    await repo.emails.claim(ALICE, [orphan.id], "prc_dead")
    await repo.emails.claim(ALICE, [running.id], "prc_alive")

    assert await repo.emails.recover_orphans({"prc_alive"}) == 1

    assert (await reread(repo, orphan)).status is EmailStatus.DRAFTED
    assert (await reread(repo, running)).job_id == "prc_alive"
    assert (await reread(repo, idle)).status is EmailStatus.PENDING
    assert await repo.emails.recover_orphans(set()) == 1
    assert (await reread(repo, running)).status is EmailStatus.PENDING


async def test_recover_orphans_can_spare_claims_made_just_now(repo: Backend) -> None:
    old, fresh = await stored(repo, mail(), mail())
    await repo.emails.claim(ALICE, [old.id], "prc_old")
    cutoff = repo.clock.advance(60)
    await repo.emails.claim(ALICE, [fresh.id], "prc_just_submitted")

    assert await repo.emails.recover_orphans(set(), claimed_before=cutoff) == 1

    assert (await reread(repo, old)).job_id is None
    assert (await reread(repo, fresh)).job_id == "prc_just_submitted"


# --- save_classification, context, update_review --------------------------------------


async def test_save_classification_keeps_the_status(repo: Backend) -> None:
    (email,) = await stored(repo, mail(status=EmailStatus.DRAFTED))

    await repo.emails.save_classification(email.id, Intent.MEETING_REQUEST, 0.66)

    now = await reread(repo, email)
    assert (now.intent, now.confidence, now.status) == (
        Intent.MEETING_REQUEST,
        0.66,
        EmailStatus.DRAFTED,
    )
    assert now.updated_at == repo.clock.now()


async def test_context_is_the_thread_and_earlier_mail_from_the_sender(repo: Backend) -> None:
    this = mail(minutes=10, thread_id="t1")
    later_in_thread = mail(minutes=20, thread_id="t1", sender="dave@example.com")
    earlier_from_sender = mail(minutes=5)
    oldest_from_sender = mail(minutes=1)
    later_from_sender = mail(minutes=15)
    unrelated = mail(minutes=2, sender="erin@example.com")
    bobs_from_sender = mail(BOB, minutes=3, thread_id="t1")
    await stored(
        repo,
        this,
        later_in_thread,
        earlier_from_sender,
        oldest_from_sender,
        later_from_sender,
        unrelated,
        bobs_from_sender,
    )

    related = await repo.emails.context(this)
    limited = await repo.emails.context(this, limit=2)

    assert related == [later_in_thread, earlier_from_sender, oldest_from_sender]
    assert limited == related[:2]
    assert_utc(*(e.received_at for e in related))


async def test_context_without_a_thread_is_earlier_mail_from_the_sender(repo: Backend) -> None:
    this, earlier, threaded_elsewhere = await stored(
        repo, mail(minutes=10), mail(minutes=5), mail(minutes=11, thread_id="x")
    )

    assert await repo.emails.context(this) == [earlier]
    assert threaded_elsewhere not in await repo.emails.context(this)


async def test_update_review_persists_status_draft_and_time(repo: Backend) -> None:
    (email,) = await stored(repo, mail(status=EmailStatus.DRAFTED, draft="v1"))
    email.status, email.draft, email.updated_at = EmailStatus.APPROVED, "v2", T0 + timedelta(1)

    assert await repo.emails.update_review(email, EmailStatus.DRAFTED)

    assert await reread(repo, email) == email


async def test_update_review_only_writes_from_the_expected_status(repo: Backend) -> None:
    (email,) = await stored(repo, mail(status=EmailStatus.PROCESSING))
    email.status = EmailStatus.APPROVED

    assert not await repo.emails.update_review(email, EmailStatus.DRAFTED)

    assert (await reread(repo, email)).status is EmailStatus.PROCESSING


async def test_update_review_never_touches_another_users_email(repo: Backend) -> None:
    (bobs,) = await stored(repo, mail(BOB, status=EmailStatus.DRAFTED))
    forged = mail(ALICE, id=bobs.id, status=EmailStatus.APPROVED)

    assert not await repo.emails.update_review(forged, EmailStatus.DRAFTED)

    assert (await reread(repo, bobs)).status is EmailStatus.DRAFTED
