"""The EmailRepository contract, run against SQLite and Postgres alike."""

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
from tests.dbs import Sql

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


async def stored(sql: Sql, *emails: Email) -> list[Email]:
    for email in emails:
        await sql.emails.add(email)
    return list(emails)


async def reread(sql: Sql, email: Email) -> Email:
    found = await sql.emails.get(email.user_id, email.id)
    assert found is not None
    return found


def assert_utc(*moments: datetime) -> None:
    for moment in moments:
        assert moment.tzinfo is not None
        assert moment.utcoffset() == timedelta(0)


# --- add, get, get_many, statuses -------------------------------------------------


async def test_every_field_round_trips_and_times_come_back_aware_utc(sql: Sql) -> None:
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
    await sql.emails.add(email)

    found = await reread(sql, email)

    assert found == email
    assert found.received_at == datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)
    assert_utc(found.received_at, found.updated_at)


async def test_naive_datetimes_are_refused(sql: Sql) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await sql.emails.add(mail(received_at=datetime(2024, 5, 1, 9, 0)))


async def test_another_users_email_is_invisible(sql: Sql) -> None:
    (bobs,) = await stored(sql, mail(BOB))

    assert await sql.emails.get(ALICE, bobs.id) is None
    assert await sql.emails.statuses(ALICE, [bobs.id]) == {}
    assert (await sql.emails.page(ALICE, EmailFilter(), 10, None)).items == []


async def test_get_of_an_unknown_id_is_none(sql: Sql) -> None:
    assert await sql.emails.get(ALICE, uuid.uuid4()) is None


async def test_get_many_returns_the_known_ids_only(sql: Sql) -> None:
    a, b = await stored(sql, mail(), mail(BOB))

    found = await sql.emails.get_many([a.id, b.id, uuid.uuid4()])

    assert found == {a.id: a, b.id: b}
    assert await sql.emails.get_many([]) == {}


async def test_statuses_report_only_the_callers_emails(sql: Sql) -> None:
    a, b, bobs = await stored(sql, mail(), mail(status=EmailStatus.SENT), mail(BOB))

    statuses = await sql.emails.statuses(ALICE, [a.id, b.id, bobs.id, uuid.uuid4()])

    assert statuses == {a.id: EmailStatus.PENDING, b.id: EmailStatus.SENT}


# --- page --------------------------------------------------------------------------


async def test_pages_walk_newest_first_without_repeats_across_equal_timestamps(
    sql: Sql,
) -> None:
    # Five emails share one timestamp: only the id breaks the tie.
    emails = await stored(
        sql, *[mail(minutes=5) for _ in range(5)], mail(minutes=9), mail(minutes=1)
    )
    seen: list[Email] = []
    cursor: str | None = None
    for _ in range(10):
        page = await sql.emails.page(ALICE, EmailFilter(), 2, cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
        assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), "cursor must be URL-safe"

    expected = sorted(emails, key=lambda e: (e.received_at, e.id.hex), reverse=True)
    assert [e.id for e in seen] == [e.id for e in expected]
    assert_utc(*(e.received_at for e in seen))


async def test_a_page_that_ends_exactly_has_no_next_cursor(sql: Sql) -> None:
    await stored(sql, mail(minutes=1), mail(minutes=2))

    page = await sql.emails.page(ALICE, EmailFilter(), 2, None)

    assert len(page.items) == 2
    assert page.next_cursor is None


async def test_pages_filter_by_status_and_intent(sql: Sql) -> None:
    wanted, _, _, _ = await stored(
        sql,
        mail(minutes=1, status=EmailStatus.DRAFTED, intent=Intent.COMPLAINT),
        mail(minutes=2, status=EmailStatus.DRAFTED, intent=Intent.SPAM),
        mail(minutes=3, status=EmailStatus.PENDING, intent=Intent.COMPLAINT),
        mail(BOB, minutes=4, status=EmailStatus.DRAFTED, intent=Intent.COMPLAINT),
    )

    both = EmailFilter(status=EmailStatus.DRAFTED, intent=Intent.COMPLAINT)
    page = await sql.emails.page(ALICE, both, 10, None)
    by_status = await sql.emails.page(ALICE, EmailFilter(status=EmailStatus.DRAFTED), 10, None)

    assert page.items == [wanted]
    assert len(by_status.items) == 2


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
async def test_a_malformed_cursor_is_a_domain_error(sql: Sql, cursor: str) -> None:
    with pytest.raises(InvalidCursor, match="cursor is malformed"):
        await sql.emails.page(ALICE, EmailFilter(), 10, cursor)


# --- claim, finish_claimed, release, recover_orphans ----------------------------------


async def test_claim_takes_every_email_and_remembers_its_previous_status(sql: Sql) -> None:
    a, b = await stored(sql, mail(), mail(status=EmailStatus.DRAFTED))

    result = await sql.emails.claim(ALICE, [a.id, b.id], "prc_a")

    assert (result.claimed, result.missing, result.conflicts) == (True, [], {})
    for email, before in ((a, EmailStatus.PENDING), (b, EmailStatus.DRAFTED)):
        now = await reread(sql, email)
        assert (now.status, now.job_id, now.previous_status) == (
            EmailStatus.PROCESSING,
            "prc_a",
            before,
        )
        assert now.updated_at == sql.clock.now()


async def test_claim_with_a_missing_or_foreign_id_claims_nothing(sql: Sql) -> None:
    mine, bobs = await stored(sql, mail(), mail(BOB))
    unknown = uuid.uuid4()

    result = await sql.emails.claim(ALICE, [mine.id, bobs.id, unknown], "prc_a")

    assert not result.claimed
    assert result.missing == [bobs.id, unknown]
    assert (await reread(sql, mine)).status is EmailStatus.PENDING
    assert (await reread(sql, bobs)).status is EmailStatus.PENDING


async def test_claim_refuses_emails_already_processing_or_sent(sql: Sql) -> None:
    free, busy, sent = await stored(sql, mail(), mail(), mail(status=EmailStatus.SENT))
    assert (await sql.emails.claim(ALICE, [busy.id], "prc_first")).claimed

    result = await sql.emails.claim(ALICE, [free.id, busy.id, sent.id], "prc_second")

    assert not result.claimed
    assert result.missing == []
    assert result.conflicts == {busy.id: EmailStatus.PROCESSING, sent.id: EmailStatus.SENT}
    assert (await reread(sql, free)).job_id is None
    assert (await reread(sql, busy)).job_id == "prc_first"


async def test_finish_claimed_commits_the_result_and_drops_the_claim(sql: Sql) -> None:
    (email,) = await stored(sql, mail())
    await sql.emails.claim(ALICE, [email.id], "prc_a")
    result = PipelineResult(Intent.INQUIRY, 0.9, EmailStatus.DRAFTED, "Thanks, it is $10.")
    finished_at = sql.clock.advance()

    assert await sql.emails.finish_claimed(email.id, "prc_a", result)

    now = await reread(sql, email)
    assert (now.intent, now.confidence, now.status, now.draft) == (
        Intent.INQUIRY,
        0.9,
        EmailStatus.DRAFTED,
        "Thanks, it is $10.",
    )
    assert (now.job_id, now.previous_status, now.last_error) == (None, None, None)
    assert now.updated_at == finished_at
    # The claim is gone, so a second finish writes nothing.
    assert not await sql.emails.finish_claimed(email.id, "prc_a", None, error="late")
    assert await reread(sql, email) == now


async def test_finish_claimed_by_a_job_that_does_not_hold_the_email_writes_nothing(
    sql: Sql,
) -> None:
    (email,) = await stored(sql, mail())
    await sql.emails.claim(ALICE, [email.id], "prc_holder")
    before = await reread(sql, email)
    result = PipelineResult(Intent.SPAM, 1.0, EmailStatus.REJECTED, None)

    assert not await sql.emails.finish_claimed(email.id, "prc_other", result)
    assert await reread(sql, email) == before


async def test_a_failed_email_goes_to_review_with_its_error(sql: Sql) -> None:
    (email,) = await stored(sql, mail(intent=Intent.OTHER, confidence=0.2))
    await sql.emails.claim(ALICE, [email.id], "prc_a")
    error = "Agent pipeline failed: API rate limit exceeded"

    assert await sql.emails.finish_claimed(email.id, "prc_a", None, error=error)

    now = await reread(sql, email)
    assert (now.status, now.last_error, now.job_id) == (EmailStatus.NEEDS_REVIEW, error, None)
    assert (now.intent, now.confidence) == (Intent.OTHER, 0.2)


async def test_release_restores_previous_statuses_of_the_jobs_emails(sql: Sql) -> None:
    a, b, c, other = await stored(
        sql, mail(), mail(status=EmailStatus.NEEDS_REVIEW), mail(), mail()
    )
    await sql.emails.claim(ALICE, [a.id, b.id, c.id], "prc_a")
    await sql.emails.claim(ALICE, [other.id], "prc_b")

    assert await sql.emails.release("prc_a", [a.id]) == 1
    assert await sql.emails.release("prc_a") == 2
    assert await sql.emails.release("prc_a") == 0
    assert await sql.emails.release("prc_b", []) == 0

    for email, status in ((a, "pending"), (b, "needs_review"), (c, "pending")):
        now = await reread(sql, email)
        assert (now.status, now.job_id, now.previous_status) == (status, None, None)
    assert (await reread(sql, other)).job_id == "prc_b"


async def test_recover_orphans_releases_claims_of_jobs_no_longer_running(sql: Sql) -> None:
    orphan, running, idle = await stored(sql, mail(status=EmailStatus.DRAFTED), mail(), mail())
    await sql.emails.claim(ALICE, [orphan.id], "prc_dead")
    await sql.emails.claim(ALICE, [running.id], "prc_alive")

    assert await sql.emails.recover_orphans({"prc_alive"}) == 1

    assert (await reread(sql, orphan)).status is EmailStatus.DRAFTED
    assert (await reread(sql, running)).job_id == "prc_alive"
    assert (await reread(sql, idle)).status is EmailStatus.PENDING
    assert await sql.emails.recover_orphans(set()) == 1
    assert (await reread(sql, running)).status is EmailStatus.PENDING


# --- save_classification, context, update_review --------------------------------------


async def test_save_classification_keeps_the_status(sql: Sql) -> None:
    (email,) = await stored(sql, mail(status=EmailStatus.DRAFTED))

    await sql.emails.save_classification(email.id, Intent.MEETING_REQUEST, 0.66)

    now = await reread(sql, email)
    assert (now.intent, now.confidence, now.status) == (
        Intent.MEETING_REQUEST,
        0.66,
        EmailStatus.DRAFTED,
    )
    assert now.updated_at == sql.clock.now()


async def test_context_is_the_thread_and_earlier_mail_from_the_sender(sql: Sql) -> None:
    this = mail(minutes=10, thread_id="t1")
    later_in_thread = mail(minutes=20, thread_id="t1", sender="dave@example.com")
    earlier_from_sender = mail(minutes=5)
    oldest_from_sender = mail(minutes=1)
    later_from_sender = mail(minutes=15)
    unrelated = mail(minutes=2, sender="erin@example.com")
    bobs_from_sender = mail(BOB, minutes=3, thread_id="t1")
    await stored(
        sql,
        this,
        later_in_thread,
        earlier_from_sender,
        oldest_from_sender,
        later_from_sender,
        unrelated,
        bobs_from_sender,
    )

    related = await sql.emails.context(this)
    limited = await sql.emails.context(this, limit=2)

    assert related == [later_in_thread, earlier_from_sender, oldest_from_sender]
    assert limited == related[:2]
    assert_utc(*(e.received_at for e in related))


async def test_context_without_a_thread_is_earlier_mail_from_the_sender(sql: Sql) -> None:
    this, earlier, threaded_elsewhere = await stored(
        sql, mail(minutes=10), mail(minutes=5), mail(minutes=11, thread_id="x")
    )

    assert await sql.emails.context(this) == [earlier]
    assert threaded_elsewhere not in await sql.emails.context(this)


async def test_update_review_persists_status_draft_and_time(sql: Sql) -> None:
    (email,) = await stored(sql, mail(status=EmailStatus.DRAFTED, draft="v1"))
    email.status, email.draft, email.updated_at = EmailStatus.APPROVED, "v2", T0 + timedelta(1)

    assert await sql.emails.update_review(email, EmailStatus.DRAFTED)

    assert await reread(sql, email) == email


async def test_update_review_only_writes_from_the_expected_status(sql: Sql) -> None:
    (email,) = await stored(sql, mail(status=EmailStatus.PROCESSING))
    email.status = EmailStatus.APPROVED

    assert not await sql.emails.update_review(email, EmailStatus.DRAFTED)

    assert (await reread(sql, email)).status is EmailStatus.PROCESSING


async def test_update_review_never_touches_another_users_email(sql: Sql) -> None:
    (bobs,) = await stored(sql, mail(BOB, status=EmailStatus.DRAFTED))
    forged = mail(ALICE, id=bobs.id, status=EmailStatus.APPROVED)

    assert not await sql.emails.update_review(forged, EmailStatus.DRAFTED)

    assert (await reread(sql, bobs)).status is EmailStatus.DRAFTED
