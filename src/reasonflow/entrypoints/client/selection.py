"""Which emails a batch command works on, and how they are cut into batches."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from reasonflow.entrypoints.client.api import ApiClient
from reasonflow.entrypoints.client.errors import ClientError

#: The most emails the server takes in one job of each kind.
BATCH_LIMITS = {"classify": 100, "process": 50}
#: The largest page the emails listing serves.
PAGE_SIZE = 100
#: Email lookups at once when naming failures.
LOOKUPS = 8


@dataclass(frozen=True)
class Selection:
    """Email ids in order, with the subjects already known (to name failures)."""

    ids: list[str]
    subjects: dict[str, str] = field(default_factory=dict)


def split(ids: Sequence[str], size: int) -> list[list[str]]:
    """Consecutive batches of at most ``size`` ids, in the given order."""
    if size < 1:
        raise ValueError("a batch holds at least one email")
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]


def unique_ids(raw: Sequence[str]) -> list[str]:
    """Canonical ids, each once, in the order given (the server refuses repeats)."""
    seen: dict[str, None] = {}
    for value in raw:
        seen.setdefault(str(UUID(value)), None)
    return list(seen)


async def by_status(api: ApiClient, status: str) -> Selection:
    """Every email in ``status``, newest first, read page by page.

    The listing is keyset-paginated, so emails arriving meanwhile never make a
    page repeat or skip one; an id seen twice is still kept once.
    """
    ids: dict[str, None] = {}
    subjects: dict[str, str] = {}
    cursor: str | None = None
    while True:
        page = await api.emails(status, cursor, PAGE_SIZE)
        for email in page["items"]:
            ids.setdefault(email["id"], None)
            subjects[email["id"]] = email["subject"]
        cursor = page.get("next_cursor")
        if not cursor:
            return Selection(list(ids), subjects)


async def name_emails(api: ApiClient, ids: Sequence[str], known: dict[str, str]) -> dict[str, str]:
    """Subjects for ``ids``: from ``known``, else read from the server (an email
    that cannot be read any more keeps no name)."""
    names = {email_id: known[email_id] for email_id in ids if email_id in known}
    missing = [email_id for email_id in dict.fromkeys(ids) if email_id not in names]
    lookups = asyncio.Semaphore(LOOKUPS)

    async def lookup(email_id: str) -> None:
        async with lookups:
            # A name is a nicety: when the email cannot be read, its id is shown.
            with contextlib.suppress(ClientError):
                names[email_id] = (await api.email(email_id))["subject"]

    async with asyncio.TaskGroup() as group:
        for email_id in missing:
            group.create_task(lookup(email_id))
    return names
