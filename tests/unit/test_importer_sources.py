"""Where messages come from: mbox files and bytes, directories, Maildirs, uploads,
and Python's own email test corpus as real-world input."""

from __future__ import annotations

import email
import mailbox
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from reasonflow.adapters.mail.importer import parse_mbox, parse_paths, parse_upload
from reasonflow.domain.inbox import ImportedEmail, ImportProblem
from tests.fakes import fake_services

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ALICE = UUID(int=0xA11CE)
CORPUS = Path(email.__file__).parent.parent / "test" / "test_email" / "data"


def message(n: int, *headers: str, body: str = "") -> bytes:
    lines = [f"Message-ID: <m{n}@example.com>", f"Subject: message {n}", *headers]
    return ("\n".join(lines) + f"\n\n{body or f'Body {n}.'}\n").encode()


ROOT = message(1, "From: Ada <ada@example.com>")
REPLY = message(
    2, "From: bob@example.com", "In-Reply-To: <m1@example.com>", "References: <m1@example.com>"
)
NO_FROM = message(3, "To: nobody@example.com")
LAST = message(
    4,
    "From: ada@example.com",
    "References: <m1@example.com> <m2@example.com>",
    body="Quoted:\n>From the archive, unchanged.\n>>From deeper.",
)


def mbox(*messages: bytes) -> bytes:
    return b"".join(
        b"From sender@example.com Sat Mar  1 12:00:00 2025\n" + m + b"\n" for m in messages
    )


MIXED = mbox(ROOT, REPLY, NO_FROM, LAST)


def outcome(items: list[ImportedEmail | ImportProblem]) -> list[str]:
    return [
        f"{i.position}: {i.error}" if isinstance(i, ImportProblem) else i.message_id for i in items
    ]


def test_a_malformed_message_in_an_mbox_is_reported_and_the_rest_import() -> None:
    items = list(parse_mbox(MIXED, now=NOW))

    assert outcome(items) == [
        "<m1@example.com>",
        "<m2@example.com>",
        "3: no From address",
        "<m4@example.com>",
    ]
    emails = [i for i in items if isinstance(i, ImportedEmail)]
    assert {e.thread_id for e in emails} == {"<m1@example.com>"}
    # mboxrd quoting is undone one level; a '>' that quotes nothing stays.
    assert emails[-1].body == "Quoted:\nFrom the archive, unchanged.\n>From deeper."


def test_an_mbox_reads_the_same_from_a_file_as_from_bytes(tmp_path: Path) -> None:
    path = tmp_path / "inbox"
    path.write_bytes(MIXED)

    from_file, from_bytes = list(parse_mbox(path, now=NOW)), list(parse_mbox(MIXED, now=NOW))
    assert outcome(from_file) == [
        f"3: {path}: no From address" if "3:" in o else o for o in outcome(from_bytes)
    ]
    assert from_file[:2] + from_file[3:] == from_bytes[:2] + from_bytes[3:]
    assert list(parse_mbox(b"", now=NOW)) == []
    assert outcome(list(parse_mbox(b"Subject: not a mailbox\n\nx", now=NOW))) == [
        "1: not an mbox: no line starts with 'From '"
    ]


def test_an_upload_is_one_message_or_a_mailbox_by_type_or_first_line() -> None:
    def ids(data: bytes, content_type: str) -> list[str]:
        return outcome(list(parse_upload(data, content_type, now=NOW)))

    assert ids(ROOT, "message/rfc822") == ["<m1@example.com>"]
    assert ids(MIXED, "application/mbox") == ids(MIXED, "application/octet-stream")
    assert len(ids(MIXED, "application/mbox; charset=utf-8")) == 4
    # A single message may carry its envelope line; the type says it is one message.
    assert ids(mbox(ROOT), "message/rfc822") == ["<m1@example.com>"]
    assert ids(b"", "message/rfc822") == ["1: empty message"]


def test_paths_read_eml_files_mbox_files_directories_and_maildirs(tmp_path: Path) -> None:
    folder = tmp_path / "exported"
    folder.mkdir()
    (folder / "a.eml").write_bytes(ROOT)
    (folder / "b.EML").write_bytes(NO_FROM)
    (folder / "c.mbox").write_bytes(mbox(REPLY))
    (folder / "notes.txt").write_bytes(LAST)  # neither .eml nor .mbox: not read
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    maildir.add(LAST)
    single = tmp_path / "single.eml"
    single.write_bytes(mbox(message(5, "From: eve@example.com")))  # an envelope line

    empty = tmp_path / "empty"
    empty.mkdir()
    paths = [folder, tmp_path / "Maildir", tmp_path / "missing", single, empty]

    items = list(parse_paths(paths, now=NOW))

    assert outcome(items) == [
        "<m1@example.com>",
        f"2: {folder / 'b.EML'}: no From address",
        "<m2@example.com>",
        "<m4@example.com>",
        f"5: {tmp_path / 'missing'}: no such file or directory",
        "<m5@example.com>",
        f"7: {empty}: no .eml or .mbox files in this directory",
    ]


async def test_pythons_email_test_corpus_imports_without_a_crash() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"this interpreter ships no email test corpus ({CORPUS} is absent)")
    files = sorted(p for p in CORPUS.iterdir() if p.is_file())
    assert files, f"{CORPUS} holds no files"

    items = list(parse_paths(files, now=NOW))
    services, _ = fake_services()
    report = await services.inbox.import_messages(ALICE, items)

    assert len(items) == len(files)  # each file is one message or one problem
    assert report.imported + report.duplicates + len(report.problems) == len(files)
    messages = [f for f in files if f.name.startswith("msg_")]
    reasons = Counter(p.error.partition(": ")[2] for p in report.problems)
    print(
        f"\nPython email corpus ({CORPUS}): {len(files)} files, {len(messages)} messages;"
        f" {report.imported} imported, {report.duplicates} duplicates,"
        f" {len(report.problems)} reported: {dict(reasons)}"
    )
    imported_names = len(messages) - sum(
        1 for p in report.problems if Path(p.error.partition(": ")[0]).name.startswith("msg_")
    )
    # Most of the corpus is ordinary mail; the images and sounds beside it are not.
    assert imported_names >= len(messages) * 3 // 4
    assert all(
        reason in {"no From address", "not an email message: no headers"} for reason in reasons
    )
