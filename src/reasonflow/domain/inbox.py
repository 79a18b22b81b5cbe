"""Use cases on single emails: add, read, and the user's review actions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from reasonflow.domain.errors import DraftRequired, EmailNotFound, InvalidEmailTransition
from reasonflow.domain.model import Email, EmailStatus, Page
from reasonflow.domain.ports import Clock, EmailFilter, EmailRepository, Mailer

REVIEWABLE = frozenset({EmailStatus.DRAFTED, EmailStatus.NEEDS_REVIEW})


@dataclass(frozen=True, slots=True)
class NewEmail:
    subject: str
    body: str
    sender: str
    recipient: str = ""
    received_at: datetime | None = None
    thread_id: str | None = None


class InboxService:
    def __init__(self, emails: EmailRepository, mailer: Mailer, clock: Clock) -> None:
        self._emails = emails
        self._mailer = mailer
        self._clock = clock

    async def add(self, user_id: UUID, new: NewEmail) -> Email:
        now = self._clock.now()
        email = Email(
            id=uuid.uuid4(),
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
        """From ``drafted`` or ``needs_review``; the reply may be edited on the way."""
        email = await self.get(user_id, email_id)
        if email.status not in REVIEWABLE:
            raise InvalidEmailTransition("approve", email.status)
        text = draft if draft is not None else email.draft
        if not text or not text.strip():
            raise DraftRequired()
        email.draft = text
        return await self._move(email, EmailStatus.APPROVED)

    async def reject(self, user_id: UUID, email_id: UUID) -> Email:
        """From ``drafted`` or ``needs_review``: no reply will be sent."""
        email = await self.get(user_id, email_id)
        if email.status not in REVIEWABLE:
            raise InvalidEmailTransition("reject", email.status)
        return await self._move(email, EmailStatus.REJECTED)

    async def send(self, user_id: UUID, email_id: UUID) -> Email:
        """From ``approved`` only, through the configured Mailer."""
        email = await self.get(user_id, email_id)
        if email.status is not EmailStatus.APPROVED or not email.draft:
            raise InvalidEmailTransition("send", email.status)
        await self._mailer.send(email, email.draft)
        return await self._move(email, EmailStatus.SENT)

    async def _move(self, email: Email, status: EmailStatus) -> Email:
        email.status = status
        email.updated_at = self._clock.now()
        await self._emails.update_review(email)
        return email
