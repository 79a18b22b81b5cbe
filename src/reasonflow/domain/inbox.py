"""Use cases on single emails: add, read, and the user's review actions."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from reasonflow.domain.dispatch import ReplyDispatcher
from reasonflow.domain.errors import DraftRequired, EmailNotFound, InvalidEmailTransition
from reasonflow.domain.model import Email, EmailStatus, Page
from reasonflow.domain.ports import Clock, EmailFilter, EmailRepository
from reasonflow.domain.replies import Reply

REVIEWABLE = frozenset({EmailStatus.DRAFTED, EmailStatus.NEEDS_REVIEW, EmailStatus.SEND_FAILED})
#: ``send`` starts from these: an approved reply, or one whose delivery gave up.
SENDABLE = frozenset({EmailStatus.APPROVED, EmailStatus.SEND_FAILED})
#: How long ``send`` waits for the dispatcher's first attempt before answering ``sending``.
SEND_WAIT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class NewEmail:
    subject: str
    body: str
    sender: str
    recipient: str = ""
    received_at: datetime | None = None
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class ImportedEmail:
    """A message read from a mailbox file, ready to store.

    ``message_id`` is the message's own or, when it has none, a stable one made
    from its content, so importing the same file twice finds it again.
    """

    message_id: str
    subject: str
    body: str
    sender: str
    recipient: str
    received_at: datetime
    thread_id: str

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """A message that was skipped: its 1-based position in the input, its
    Message-ID when one could be read, and why, in one line."""

    position: int
    message_id: str | None
    error: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    imported: int
    duplicates: int
    problems: list[ImportProblem]


IMPORT_BATCH = 500
_T = TypeVar("_T")


def _take(items: Iterator[_T], n: int) -> list[_T]:
    return list(itertools.islice(items, n))


class InboxService:
    def __init__(
        self,
        emails: EmailRepository,
        clock: Clock,
        dispatcher: ReplyDispatcher | None = None,
        send_wait: float = SEND_WAIT_SECONDS,
    ) -> None:
        self._emails = emails
        self._clock = clock
        self._dispatcher = dispatcher
        self._send_wait = send_wait

    def now(self) -> datetime:
        return self._clock.now()

    async def add(self, user_id: UUID, new: NewEmail, email_id: UUID | None = None) -> Email:
        now = self._clock.now()
        email = Email(
            id=email_id or uuid.uuid4(),
            user_id=user_id,
            subject=new.subject,
            body=new.body,
            sender=new.sender,
            recipient=new.recipient,
            received_at=new.received_at or now,
            updated_at=now,
            thread_id=new.thread_id,
        )
        await self._emails.add(email)
        return email

    async def add_if_absent(self, user_id: UUID, new: NewEmail, email_id: UUID) -> bool:
        """Add under a known id unless it exists already (idempotent seeding)."""
        if await self._emails.get(user_id, email_id) is not None:
            return False
        await self.add(user_id, new, email_id)
        return True

    async def get(self, user_id: UUID, email_id: UUID) -> Email:
        email = await self._emails.get(user_id, email_id)
        if email is None:
            raise EmailNotFound()
        return email

    async def page(
        self, user_id: UUID, filters: EmailFilter, limit: int, cursor: str | None
    ) -> Page[Email]:
        return await self._emails.page(user_id, filters, limit, cursor)

    async def approve(self, user_id: UUID, email_id: UUID, draft: str | None) -> Email:
        """From ``drafted``, ``needs_review`` or ``send_failed``; the reply may be
        edited on the way."""
        email = await self.get(user_id, email_id)
        if email.status not in REVIEWABLE:
            raise InvalidEmailTransition("approve", email.status)
        text = draft if draft is not None else email.draft
        if not text or not text.strip():
            raise DraftRequired()
        email.draft = text
        return await self._move(email, EmailStatus.APPROVED, "approve")

    async def reject(self, user_id: UUID, email_id: UUID) -> Email:
        """From ``drafted``, ``needs_review`` or ``send_failed``: no reply will be sent."""
        email = await self.get(user_id, email_id)
        if email.status not in REVIEWABLE:
            raise InvalidEmailTransition("reject", email.status)
        return await self._move(email, EmailStatus.REJECTED, "reject")

    async def send(self, user_id: UUID, email_id: UUID) -> Email:
        """From ``approved`` (or ``send_failed``, to try again): the email moves to
        ``sending`` and its reply is queued in the same commit, so two concurrent
        sends queue one reply. Waits up to ``send_wait`` seconds for the
        dispatcher's attempt and answers the email as it then is (``sent``, or
        still ``sending`` while the dispatcher retries or another process has it)."""
        email = await self.get(user_id, email_id)
        text = email.draft
        if email.status not in SENDABLE or not text:
            raise InvalidEmailTransition("send", email.status)
        email.last_error = None
        await self._move(email, EmailStatus.SENDING, "send", Reply.to(email, text))
        if self._dispatcher is None:
            return email
        self._dispatcher.wake()
        await self._dispatcher.wait_settled(email.id, self._send_wait)
        return await self.get(user_id, email_id)

    async def _move(
        self, email: Email, status: EmailStatus, action: str, reply: Reply | None = None
    ) -> Email:
        expected = email.status
        email.status = status
        email.updated_at = self._clock.now()
        if not await self._emails.update_review(email, expected, reply):
            current = await self.get(email.user_id, email.id)
            raise InvalidEmailTransition(action, current.status)
        return email

    async def import_messages(
        self,
        user_id: UUID,
        items: Iterable[ImportedEmail | ImportProblem],
        batch_size: int = IMPORT_BATCH,
    ) -> ImportReport:
        """Store imported mail as pending emails, skipping messages the user has
        already (same Message-ID); problems pass through to the report.

        ``items`` is read ``batch_size`` at a time in a worker thread, since
        reading may mean parsing files, and each batch is stored in one
        transaction: an interrupted import keeps the batches before it, and
        running it again adds only the rest.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        pending = iter(items)
        imported = duplicates = 0
        problems: list[ImportProblem] = []
        while batch := await asyncio.to_thread(_take, pending, batch_size):
            now = self._clock.now()
            emails: list[Email] = []
            for item in batch:
                if isinstance(item, ImportProblem):
                    problems.append(item)
                else:
                    emails.append(_as_email(user_id, item, now))
            added = await self._emails.add_many_new(emails) if emails else 0
            imported += added
            duplicates += len(emails) - added
        return ImportReport(imported, duplicates, problems)


def _as_email(user_id: UUID, item: ImportedEmail, now: datetime) -> Email:
    return Email(
        id=uuid.uuid4(),
        user_id=user_id,
        subject=item.subject,
        body=item.body,
        sender=item.sender,
        recipient=item.recipient,
        received_at=item.received_at,
        updated_at=now,
        thread_id=item.thread_id,
        message_id=item.message_id,
    )
