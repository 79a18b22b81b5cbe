"""``EmailRepository.add_many_new``: idempotent by Message-ID per user, on every backend."""

from __future__ import annotations

import asyncio
import email as stdlib_email
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from reasonflow.adapters.mail.importer import parse_mbox, parse_paths
from reasonflow.domain.inbox import ImportedEmail, ImportProblem, InboxService
from reasonflow.domain.model import Email, EmailStatus
from reasonflow.domain.ports import EmailFilter
from tests.contract.conftest import Backend

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ALICE = uuid.UUID("00000000-0000-4000-8000-00000000a11c")
BOB = uuid.UUID("00000000-0000-4000-8000-000000000b0b")


def imported(message_id: str | None, user_id: UUID = ALICE, **fields: object) -> Email:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "subject": f"About {message_id}",
        "body": "Imported body",
        "sender": "Carol <carol@example.com>",
        "recipient": "support@example.com",
        "received_at": T0,
        "updated_at": T0,
        "thread_id": message_id,
        "message_id": message_id,
    }
    values.update(fields)
    return Email(**values)


async def everything(repo: Backend, user_id: UUID = ALICE) -> list[Email]:
    page = await repo.emails.page(user_id, EmailFilter(), 10_000, None)
    assert page.next_cursor is None
    return page.items


async def test_new_mail_is_added_with_its_message_id_and_counted(repo: Backend) -> None:
    mails = [
        imported(f"<m{i}@example.com>", received_at=T0 + timedelta(minutes=i)) for i in range(3)
    ]

    assert await repo.emails.add_many_new(mails) == 3

    stored = {e.id: e for e in await everything(repo)}
    assert stored == {e.id: e for e in mails}
    assert all(e.status is EmailStatus.PENDING for e in stored.values())


async def test_importing_the_same_mail_again_adds_nothing_and_changes_nothing(
    repo: Backend,
) -> None:
    first = [imported("<a@example.com>"), imported("<b@example.com>")]
    await repo.emails.add_many_new(first)

    again = [imported("<a@example.com>", subject="changed"), imported("<b@example.com>")]
    assert await repo.emails.add_many_new(again) == 0

    assert sorted(await everything(repo), key=lambda e: e.message_id or "") == first


async def test_only_the_unseen_part_of_a_batch_is_added(repo: Backend) -> None:
    await repo.emails.add_many_new([imported("<old@example.com>")])

    added = await repo.emails.add_many_new(
        [imported("<old@example.com>"), imported("<new@example.com>")]
    )

    assert added == 1
    assert sorted(e.message_id or "" for e in await everything(repo)) == [
        "<new@example.com>",
        "<old@example.com>",
    ]


async def test_a_message_id_repeated_within_one_batch_is_added_once(repo: Backend) -> None:
    added = await repo.emails.add_many_new(
        [imported("<twice@example.com>"), imported("<twice@example.com>")]
    )

    assert added == 1
    assert len(await everything(repo)) == 1


async def test_the_message_id_is_unique_per_user_not_globally(repo: Backend) -> None:
    assert await repo.emails.add_many_new([imported("<shared@example.com>", ALICE)]) == 1
    assert await repo.emails.add_many_new([imported("<shared@example.com>", BOB)]) == 1

    assert len(await everything(repo, ALICE)) == len(await everything(repo, BOB)) == 1


async def test_mail_without_a_message_id_is_always_added(repo: Backend) -> None:
    assert await repo.emails.add_many_new([imported(None), imported(None)]) == 2
    assert await repo.emails.add_many_new([imported(None)]) == 1

    assert len(await everything(repo)) == 3


async def test_an_empty_batch_adds_nothing(repo: Backend) -> None:
    assert await repo.emails.add_many_new([]) == 0


async def test_a_batch_larger_than_one_statement_is_added_whole(repo: Backend) -> None:
    # 1,500 rows x 18 columns is more bind parameters than one statement may carry.
    mails = [imported(f"<bulk-{i}@example.com>") for i in range(1500)]

    assert await repo.emails.add_many_new(mails) == 1500
    assert await repo.emails.add_many_new(mails[::7]) == 0
    assert len(await everything(repo)) == 1500


async def test_concurrent_imports_of_overlapping_mail_store_each_message_once(
    repo: Backend,
) -> None:
    ids = [f"<race-{i}@example.com>" for i in range(200)]
    forward = [imported(m) for m in ids]
    backward = [imported(m) for m in reversed(ids[50:] + [f"<only-b-{i}@x>" for i in range(10)])]

    # Each import builds its own rows (fresh ids), as two uploads of one mailbox do.
    every_third = [imported(m) for m in ids[::3]]
    results = await asyncio.gather(
        repo.emails.add_many_new(forward),
        repo.emails.add_many_new(backward),
        repo.emails.add_many_new(every_third),
    )

    assert sum(results) == 210
    stored = await everything(repo)
    assert len(stored) == len({e.message_id for e in stored}) == 210


# Every limit at once: long names and ids, a NUL, raw Latin-1 header bytes, a far date.
EDGY_MBOX = b"".join(
    b"From x Sat Mar  1 12:00:00 2025\n" + m + b"\n"
    for m in (
        b"From: " + b"N" * 400 + b" <" + b"a" * 300 + b"@example.com>\n"
        b"To: " + b"r" * 400 + b"@example.com\n"
        b"Message-ID: <" + b"i" * 600 + b"@example.com>\n"
        b"References: <" + b"r" * 300 + b"@example.com>\n"
        b"Subject: caf\xe9 \x00 cr\xe8me\n"
        b"Date: Fri, 31 Dec 9999 23:00:00 +0000\n\nnul \x00 byte \xff\n",
        b"From: =?utf-8?q?Bad_=FF_word?= <b@example.com>\nSubject: =?x-unknown?q?abc?=\n\nhi\n",
    )
)


async def test_real_and_edge_case_mail_fits_the_schema_and_imports_once(repo: Backend) -> None:
    inbox = InboxService(repo.emails, repo.clock)
    corpus = Path(stdlib_email.__file__).parent.parent / "test" / "test_email" / "data"
    now = datetime(2025, 1, 1, tzinfo=UTC)

    def items() -> list[ImportedEmail | ImportProblem]:
        files = sorted(corpus.glob("msg_*.txt")) if corpus.is_dir() else []
        return [*parse_paths(files, now=now), *parse_mbox(EDGY_MBOX, now=now)]

    first = await inbox.import_messages(ALICE, items())
    again = await inbox.import_messages(ALICE, items())

    assert first.imported >= 2
    assert (again.imported, again.duplicates) == (0, first.imported + first.duplicates)
    stored = await everything(repo)
    assert len(stored) == first.imported
    edgy = next(e for e in stored if e.subject.startswith("café"))
    # Too long with its name, the sender is the bare address; the recipient is cut.
    assert (edgy.sender, len(edgy.recipient)) == ("a" * 300 + "@example.com", 320)
    assert (edgy.subject, edgy.body, edgy.received_at.year) == (
        "café crème",
        "nul  byte ÿ",  # the NUL is dropped; 0xff in undeclared text is Latin-1
        9999,
    )
