"""Where raw messages come from: files, mbox mailboxes, Maildirs, directories.

Each source yields ``(where, raw)``: where it was read (a path, or "" for
bytes in memory) and a message's bytes, or a one-line reason why none could
be read. Nothing here raises for a bad file.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

MAILBOX_SUFFIXES = frozenset({".eml", ".mbox"})

Raw = tuple[str, bytes | str]


def from_path(path: Path) -> Iterator[Raw]:
    """A file (an mbox when it starts with a ``From`` line), a Maildir, or a
    directory's ``.eml`` and ``.mbox`` files in name order."""
    if not path.is_dir():
        yield from from_file(path)
    elif (path / "cur").is_dir() and (path / "new").is_dir():
        yield from _maildir(path)
    else:
        try:
            files = sorted(
                p for p in path.iterdir() if p.suffix.lower() in MAILBOX_SUFFIXES and p.is_file()
            )
        except OSError as exc:
            yield str(path), _unreadable(exc)
            return
        if not files:
            yield str(path), "no .eml or .mbox files in this directory"
        for child in files:
            yield from from_file(child)


def from_file(path: Path, *, force_mbox: bool = False) -> Iterator[Raw]:
    """One message, or each message of an mbox, read as a stream of lines."""
    where = str(path)
    try:
        with path.open("rb") as f:
            mbox = force_mbox or starts_mbox(f.read(1024))
            f.seek(0)
            yield from from_mbox(where, f) if mbox else [(where, f.read())]
    except OSError as exc:
        yield where, _unreadable(exc)


def _maildir(path: Path) -> Iterator[Raw]:
    where = str(path)
    try:
        box = mailbox.Maildir(path, factory=None, create=False)
        keys = sorted(box.keys())
    except OSError as exc:
        yield where, _unreadable(exc)
        return
    for key in keys:
        try:
            yield where, box.get_bytes(key)
        except (OSError, KeyError) as exc:  # KeyError: removed while we read
            yield where, f"cannot read message {key}: {type(exc).__name__}"


def from_mbox(where: str, stream: IO[bytes]) -> Iterator[Raw]:
    """The messages of an mbox; a non-blank stream with none is reported."""
    empty = True
    for raw in _split_mbox(stream):
        empty = False
        yield where, raw
    if empty and stream.seek(0) == 0 and any(line.strip() for line in stream):
        yield where, "not an mbox: no line starts with 'From '"


def _unreadable(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    return f"cannot read: {exc.strerror or type(exc).__name__}"


def starts_mbox(head: bytes) -> bool:
    return head[:1024].lstrip(b"\r\n").startswith(b"From ")


def _split_mbox(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Messages of an mbox: each starts at a line beginning ``From `` (the rule
    ``mailbox.mbox`` follows); ``>From `` lines lose one ``>`` (mboxrd)."""
    current: list[bytes] | None = None
    for line in lines:
        if line.startswith(b"From "):
            if current is not None:
                yield b"".join(current)
            current = []
        elif current is not None:
            quoted = line.startswith(b">") and line.lstrip(b">").startswith(b"From ")
            current.append(line[1:] if quoted else line)
    if current is not None:
        yield b"".join(current)
