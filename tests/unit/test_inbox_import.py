"""InboxService.import_messages: imported mail becomes pending email, once per Message-ID."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from reasonflow.domain.inbox import ImportedEmail, ImportProblem, ImportReport, InboxService
from reasonflow.domain.model import Email, EmailStatus
from tests.fakes import FakeClock, FakeEmailRepository, fake_services

ALICE, BOB = UUID(int=0xA11CE), UUID(int=0xB0B)
SENT = datetime(2024, 12, 24, 8, 0, tzinfo=UTC)


def message(n: int, thread: int | None = None) -> ImportedEmail:
    return ImportedEmail(
        message_id=f"<m{n}@example.com>",
        subject=f"Subject {n}",
        body=f"Body {n}",
        sender="Ada <ada@example.com>",
        recipient="support@example.com",
        received_at=SENT + timedelta(minutes=n),
        thread_id=f"<m{thread or n}@example.com>",
    )


class CountingEmailRepository(FakeEmailRepository):
    """Records the size of every ``add_many_new`` call, i.e. every transaction."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.batches: list[int] = []

    async def add_many_new(self, emails: Sequence[Email]) -> int:
        self.batches.append(len(emails))
        return await super().add_many_new(emails)


def build() -> tuple[InboxService, CountingEmailRepository, FakeClock]:
    clock = FakeClock()
    emails = CountingEmailRepository(clock)
    services, _ = fake_services(clock, emails=emails)
    return services.inbox, emails, clock


async def test_imported_mail_is_stored_as_pending_email_with_its_message_id() -> None:
    inbox, emails, clock = build()

    report = await inbox.import_messages(ALICE, [message(1), message(2, thread=1)])

    assert report == ImportReport(imported=2, duplicates=0, problems=[])
    stored = sorted(emails.rows.values(), key=lambda e: e.received_at)
    assert [(e.message_id, e.thread_id, e.status) for e in stored] == [
        ("<m1@example.com>", "<m1@example.com>", EmailStatus.PENDING),
        ("<m2@example.com>", "<m1@example.com>", EmailStatus.PENDING),
    ]
    first = stored[0]
    assert (first.user_id, first.subject, first.body, first.sender, first.recipient) == (
        ALICE,
        "Subject 1",
        "Body 1",
        "Ada <ada@example.com>",
        "support@example.com",
    )
    assert (first.received_at, first.updated_at) == (SENT + timedelta(minutes=1), clock.now())


async def test_importing_the_same_mail_twice_adds_nothing() -> None:
    inbox, emails, _ = build()
    mailbox = [message(n) for n in range(5)]
    await inbox.import_messages(ALICE, mailbox)
    before = dict(emails.rows)

    again = await inbox.import_messages(ALICE, mailbox)

    assert again == ImportReport(imported=0, duplicates=5, problems=[])
    assert emails.rows == before


async def test_a_message_repeated_within_one_import_counts_as_a_duplicate() -> None:
    inbox, emails, _ = build()

    report = await inbox.import_messages(ALICE, [message(1), message(2), message(1)])

    assert (report.imported, report.duplicates) == (2, 1)
    assert len(emails.rows) == 2


async def test_problems_are_reported_in_order_and_the_rest_still_imports() -> None:
    inbox, _, _ = build()
    broken = [ImportProblem(2, None, "no From address"), ImportProblem(4, "<x@y>", "empty message")]

    report = await inbox.import_messages(ALICE, [message(1), broken[0], message(3), broken[1]])

    assert report == ImportReport(imported=2, duplicates=0, problems=broken)


async def test_message_ids_are_unique_per_user_only() -> None:
    inbox, emails, _ = build()

    await inbox.import_messages(ALICE, [message(1)])
    report = await inbox.import_messages(BOB, [message(1)])

    assert report.imported == 1
    assert sorted(e.user_id for e in emails.rows.values()) == sorted([ALICE, BOB])


async def test_a_large_import_is_stored_in_batches_read_lazily() -> None:
    inbox, emails, _ = build()
    read: list[int] = []

    def mailbox() -> Iterator[ImportedEmail | ImportProblem]:
        for n in range(7):
            read.append(n)
            yield message(n) if n != 3 else ImportProblem(n + 1, None, "no From address")

    report = await inbox.import_messages(ALICE, mailbox(), batch_size=3)

    assert (report.imported, len(report.problems)) == (6, 1)
    assert emails.batches == [3, 2, 1]  # the problem took a place in the second batch
    assert read == list(range(7))


async def test_an_empty_import_touches_nothing_and_a_batch_needs_a_size() -> None:
    inbox, emails, _ = build()

    assert await inbox.import_messages(ALICE, []) == ImportReport(0, 0, [])
    assert emails.batches == []
    with pytest.raises(ValueError, match="batch_size"):
        await inbox.import_messages(ALICE, [message(1)], batch_size=0)


def test_an_imported_email_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ImportedEmail("<a@b>", "s", "b", "a@b", "", datetime(2025, 1, 1), "<a@b>")
