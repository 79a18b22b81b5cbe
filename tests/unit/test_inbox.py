"""InboxService: adding and reading emails, and the user's review actions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import cast
from uuid import UUID, uuid4

import pytest

from reasonflow.domain.dispatch import ReplyDispatcher
from reasonflow.domain.errors import DraftRequired, EmailNotFound, InvalidEmailTransition
from reasonflow.domain.inbox import InboxService, NewEmail
from reasonflow.domain.model import Email, EmailStatus, Intent
from reasonflow.domain.ports import EmailFilter
from reasonflow.entrypoints.settings import Settings
from tests.fakes import EPOCH, FakeClock, FakeEmailRepository, FakeMailer, fake_services, make_email

ALICE, BOB = UUID(int=0xA11CE), UUID(int=0xB0B)
REVIEWABLE = [EmailStatus.DRAFTED, EmailStatus.NEEDS_REVIEW, EmailStatus.SEND_FAILED]
NOT_REVIEWABLE = [s for s in EmailStatus if s not in REVIEWABLE]


@dataclass
class Inbox:
    service: InboxService
    emails: FakeEmailRepository
    mailer: FakeMailer
    clock: FakeClock
    dispatcher: ReplyDispatcher

    async def given(self, user_id: UUID = ALICE, **fields: object) -> UUID:
        email = make_email(user_id, **fields)
        await self.emails.add(email)
        return email.id

    def stored(self, email_id: UUID) -> Email:
        return self.emails.rows[email_id]


def build(send_wait: float = 0.0) -> Inbox:
    clock = FakeClock()
    services, adapters = fake_services(clock, Settings(send_wait_seconds=send_wait))
    emails, mailer = cast(FakeEmailRepository, adapters.emails), cast(FakeMailer, adapters.mailer)
    inbox = Inbox(services.inbox, emails, mailer, clock, services.dispatcher)
    clock.advance(3600)
    return inbox


# -- add and read ------------------------------------------------------------------


async def test_a_new_email_is_pending_and_received_now_unless_told() -> None:
    inbox = build()
    email = await inbox.service.add(ALICE, NewEmail("Hi", "Body", "ada@example.com"))
    assert (email.status, email.intent, email.received_at, email.user_id) == (
        EmailStatus.PENDING,
        None,
        inbox.clock.now(),
        ALICE,
    )
    assert await inbox.service.get(ALICE, email.id) == email
    dated = await inbox.service.add(ALICE, NewEmail("Hi", "Body", "ada@example.com", "", EPOCH))
    assert dated.received_at == EPOCH


async def test_another_users_email_is_not_found() -> None:
    inbox = build()
    email_id = await inbox.given(BOB)
    with pytest.raises(EmailNotFound):
        await inbox.service.get(ALICE, email_id)
    with pytest.raises(EmailNotFound):
        await inbox.service.get(ALICE, uuid4())


async def test_pages_walk_the_inbox_newest_first_without_gaps_or_repeats() -> None:
    inbox = build()
    # Two emails share a timestamp, so the cursor must break ties.
    times = [EPOCH + timedelta(minutes=m) for m in (0, 1, 1, 2, 3, 4, 5)]
    ids = [await inbox.given(received_at=t) for t in times]
    await inbox.given(BOB)
    seen: list[Email] = []
    cursor = None
    while True:
        page = await inbox.service.page(ALICE, EmailFilter(), 2, cursor)
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(e.id for e in seen) == sorted(ids)
    assert [e.received_at for e in seen] == sorted(times, reverse=True)


async def test_pages_filter_by_status_and_intent() -> None:
    inbox = build()
    wanted = await inbox.given(status=EmailStatus.DRAFTED, intent=Intent.INQUIRY)
    await inbox.given(status=EmailStatus.DRAFTED, intent=Intent.SPAM)
    await inbox.given(status=EmailStatus.PENDING, intent=Intent.INQUIRY)
    page = await inbox.service.page(
        ALICE, EmailFilter(EmailStatus.DRAFTED, Intent.INQUIRY), 10, None
    )
    assert ([e.id for e in page.items], page.next_cursor) == ([wanted], None)


# -- approve -----------------------------------------------------------------------


@pytest.mark.parametrize("status", REVIEWABLE)
async def test_approve_keeps_the_draft_and_records_the_time(status: EmailStatus) -> None:
    inbox = build()
    email_id = await inbox.given(status=status, draft="Thanks, it ships Monday.")
    email = await inbox.service.approve(ALICE, email_id, None)
    stored = inbox.stored(email_id)
    assert (stored.status, stored.draft, stored.updated_at) == (
        EmailStatus.APPROVED,
        "Thanks, it ships Monday.",
        inbox.clock.now(),
    )
    assert email.status is EmailStatus.APPROVED


async def test_approve_with_an_edited_draft_stores_the_edit() -> None:
    inbox = build()
    email_id = await inbox.given(status=EmailStatus.NEEDS_REVIEW, draft="Old")
    await inbox.service.approve(ALICE, email_id, "Edited reply")
    assert (inbox.stored(email_id).status, inbox.stored(email_id).draft) == (
        EmailStatus.APPROVED,
        "Edited reply",
    )


@pytest.mark.parametrize(
    ("stored", "given"), [(None, None), (None, "   "), ("Old", ""), (" ", None)]
)
async def test_approve_needs_a_non_blank_draft(stored: str | None, given: str | None) -> None:
    inbox = build()
    email_id = await inbox.given(status=EmailStatus.NEEDS_REVIEW, draft=stored)
    with pytest.raises(DraftRequired):
        await inbox.service.approve(ALICE, email_id, given)
    assert (inbox.stored(email_id).status, inbox.stored(email_id).draft) == (
        EmailStatus.NEEDS_REVIEW,
        stored,
    )


@pytest.mark.parametrize("status", NOT_REVIEWABLE)
async def test_approve_and_reject_refuse_emails_not_under_review(status: EmailStatus) -> None:
    inbox = build()
    email_id = await inbox.given(status=status, draft="A reply")
    with pytest.raises(InvalidEmailTransition) as approving:
        await inbox.service.approve(ALICE, email_id, "A reply")
    with pytest.raises(InvalidEmailTransition) as rejecting:
        await inbox.service.reject(ALICE, email_id)
    assert approving.value.status is rejecting.value.status is status
    assert approving.value.message == f"Cannot approve an email that is {status.value}"
    assert inbox.stored(email_id).status is status


# -- reject ------------------------------------------------------------------------


@pytest.mark.parametrize("status", REVIEWABLE)
async def test_reject_needs_no_draft(status: EmailStatus) -> None:
    inbox = build()
    email_id = await inbox.given(status=status)
    await inbox.service.reject(ALICE, email_id)
    assert inbox.stored(email_id).status is EmailStatus.REJECTED
    assert inbox.mailer.sent == []


# -- send --------------------------------------------------------------------------


async def test_send_queues_the_approved_draft_and_the_dispatcher_marks_it_sent() -> None:
    inbox = build()
    email_id = await inbox.given(status=EmailStatus.DRAFTED, draft="See you at 3pm.")
    await inbox.service.approve(ALICE, email_id, None)

    answered = await inbox.service.send(ALICE, email_id)

    assert answered.status is EmailStatus.SENDING  # no dispatcher ran within the wait
    assert inbox.mailer.sent == []
    assert await inbox.dispatcher.deliver_due() == 1
    assert inbox.mailer.sent == [(email_id, "See you at 3pm.")]
    assert inbox.stored(email_id).status is EmailStatus.SENT


async def test_send_answers_sent_when_the_running_dispatcher_delivers_within_the_wait() -> None:
    inbox = build(send_wait=5.0)
    email_id = await inbox.given(status=EmailStatus.APPROVED, draft="A reply")
    running = asyncio.create_task(inbox.dispatcher.run())
    try:
        answered = await asyncio.wait_for(inbox.service.send(ALICE, email_id), 2.0)
    finally:
        await inbox.dispatcher.stop()
        await running
    assert answered.status is EmailStatus.SENT
    assert inbox.mailer.sent == [(email_id, "A reply")]


SENDABLE = [EmailStatus.APPROVED, EmailStatus.SEND_FAILED]


@pytest.mark.parametrize("status", [s for s in EmailStatus if s not in SENDABLE])
async def test_send_refuses_anything_not_approved_or_failed_to_send(status: EmailStatus) -> None:
    inbox = build()
    email_id = await inbox.given(status=status, draft="A reply")
    with pytest.raises(InvalidEmailTransition, match=f"Cannot send an email that is {status}"):
        await inbox.service.send(ALICE, email_id)
    assert inbox.emails.replies == {}


async def test_a_reply_that_keeps_failing_ends_send_failed_and_send_tries_again() -> None:
    inbox = build()
    email_id = await inbox.given(status=EmailStatus.APPROVED, draft="A reply")
    inbox.mailer.failures = 100
    await inbox.service.send(ALICE, email_id)
    for _ in range(inbox.dispatcher.policy.max_attempts):
        assert inbox.stored(email_id).status is EmailStatus.SENDING
        assert await inbox.dispatcher.deliver_due() == 1
        inbox.clock.advance(inbox.dispatcher.policy.retry_max_seconds)
    failed = inbox.stored(email_id)
    assert failed.status is EmailStatus.SEND_FAILED
    assert failed.last_error == (
        "Sending failed after 8 attempts: SMTP delivery failed: could not reach the mail server"
    )
    assert await inbox.dispatcher.deliver_due() == 0  # given up: nothing is due any more

    inbox.mailer.failures = 0
    again = await inbox.service.send(ALICE, email_id)
    assert (again.status, again.last_error) == (EmailStatus.SENDING, None)
    assert await inbox.dispatcher.deliver_due() == 1
    assert inbox.stored(email_id).status is EmailStatus.SENT
    assert inbox.mailer.sent == [(email_id, "A reply")]


@pytest.mark.parametrize("action", ["approve", "reject", "send"])
async def test_review_actions_on_another_users_email_are_not_found(action: str) -> None:
    inbox = build()
    status = EmailStatus.APPROVED if action == "send" else EmailStatus.DRAFTED
    email_id = await inbox.given(BOB, status=status, draft="A reply")
    actions = {
        "approve": lambda: inbox.service.approve(ALICE, email_id, "Mine now"),
        "reject": lambda: inbox.service.reject(ALICE, email_id),
        "send": lambda: inbox.service.send(ALICE, email_id),
    }
    with pytest.raises(EmailNotFound):
        await actions[action]()
    assert (inbox.stored(email_id).status, inbox.stored(email_id).draft) == (status, "A reply")
    assert inbox.mailer.sent == []
