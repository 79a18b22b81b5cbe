"""Hand-written fakes of the domain ports, for unit tests (no mocks).

Each fake subclasses its Protocol so mypy checks it against the port, and
meets the port's contract suite (``tests/contract``). Stored entities are
copied on the way in and out, as a database would, so a use case only sees
what it actually persisted. Jobs use the real in-memory store: a fake of it
would only be a second copy to keep in step. ``fake_adapters()`` gathers them
for ``wire``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from reasonflow.adapters.auth.tokens import JwtTokens
from reasonflow.adapters.jobs.idempotency import InMemoryIdempotencyStore
from reasonflow.adapters.jobs.memory import InMemoryJobStore
from reasonflow.adapters.jobs.rate_limit import TokenBucketRateLimiter
from reasonflow.adapters.mail.importer import parse_upload
from reasonflow.adapters.sql.rows import decode_cursor, encode_cursor
from reasonflow.domain.errors import (
    DeliveryFailed,
    EmailTaken,
    ProviderError,
    ServiceUnavailable,
)
from reasonflow.domain.model import (
    BatchJob,
    Classification,
    Draft,
    Email,
    EmailStatus,
    Intent,
    Page,
    PipelineResult,
    User,
)
from reasonflow.domain.ports import (
    Clock,
    DispatchQueue,
    EmailFilter,
    EmailRepository,
    EmailStep,
    IntentClassifier,
    JobRunner,
    Mailer,
    PasswordHasher,
    QueuedReply,
    ReplyDrafter,
    UserRepository,
)
from reasonflow.domain.replies import Reply
from reasonflow.domain.submission import PROCESS_BLOCKING
from reasonflow.entrypoints.bootstrap import Adapters, Services, wire
from reasonflow.entrypoints.settings import Settings

EPOCH = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


def make_email(user_id: UUID, **fields: object) -> Email:
    """An email with plausible defaults; any field may be overridden."""
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "subject": "Question about my order",
        "body": "Hello, where is my parcel?",
        "sender": "customer@example.com",
        "recipient": "support@example.com",
        "received_at": EPOCH,
        "updated_at": EPOCH,
    }
    values.update(fields)
    return Email(**values)  # type: ignore[arg-type]


class FakeClock(Clock):
    """Time stands still unless set or advanced (or ``tick`` is given)."""

    def __init__(self, start: datetime = EPOCH, tick: timedelta = timedelta(0)) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware time")
        self._now = start.astimezone(UTC)
        self._tick = tick

    def now(self) -> datetime:
        current = self._now
        self._now += self._tick
        return current

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware time")
        self._now = when.astimezone(UTC)

    def advance(self, seconds: float = 1.0) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now


def _page_key(email: Email) -> tuple[datetime, str]:
    return (email.received_at, email.id.hex)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware")
    return moment.astimezone(UTC)


def _stored(email: Email) -> Email:
    """The email as a database keeps it: a copy, with every time in UTC."""
    return dataclasses.replace(
        email, received_at=_utc(email.received_at), updated_at=_utc(email.updated_at)
    )


class FakeEmailRepository(EmailRepository):
    """Emails in a dict. Claims are all-or-nothing, like the conditional UPDATE."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or FakeClock()
        self.rows: dict[UUID, Email] = {}
        #: The dispatch queue's rows (``FakeDispatchQueue`` reads them), by email id.
        self.replies: dict[UUID, QueuedDispatch] = {}

    def queue(self, reply: Reply, now: datetime) -> None:
        self.replies[reply.email_id] = QueuedDispatch(reply, next_attempt_at=_utc(now))

    def _touch(self, email: Email) -> None:
        email.updated_at = self._clock.now()

    async def add(self, email: Email) -> None:
        if email.id in self.rows:
            raise ValueError(f"duplicate email id {email.id}")
        self.rows[email.id] = _stored(email)

    async def get(self, user_id: UUID, email_id: UUID) -> Email | None:
        row = self.rows.get(email_id)
        if row is None or row.user_id != user_id:
            return None
        return dataclasses.replace(row)

    async def page(
        self, user_id: UUID, filters: EmailFilter, limit: int, cursor: str | None
    ) -> Page[Email]:
        if limit < 1:
            raise ValueError("limit must be positive")
        rows = sorted(
            (
                e
                for e in self.rows.values()
                if e.user_id == user_id
                and (filters.status is None or e.status is filters.status)
                and (filters.intent is None or e.intent is filters.intent)
                and (filters.thread_id is None or e.thread_id == filters.thread_id)
            ),
            key=_page_key,
            reverse=not filters.oldest_first,
        )
        if cursor is not None:
            when, last_id = decode_cursor(cursor)
            last = (when, last_id.hex)
            if filters.oldest_first:
                rows = [e for e in rows if _page_key(e) > last]
            else:
                rows = [e for e in rows if _page_key(e) < last]
        items = [dataclasses.replace(e) for e in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            next_cursor = encode_cursor(items[-1].received_at, items[-1].id)
        return Page(items, next_cursor)

    async def statuses(self, user_id: UUID, ids: Sequence[UUID]) -> dict[UUID, EmailStatus]:
        return {
            i: self.rows[i].status
            for i in ids
            if i in self.rows and self.rows[i].user_id == user_id
        }

    async def claim(self, user_id: UUID, ids: Sequence[UUID], job_id: str) -> bool:
        owned = await self.statuses(user_id, ids)
        if len(owned) < len(set(ids)) or any(s in PROCESS_BLOCKING for s in owned.values()):
            return False
        for i in dict.fromkeys(ids):
            row = self.rows[i]
            row.previous_status, row.status, row.job_id = row.status, EmailStatus.PROCESSING, job_id
            self._touch(row)
        return True

    async def save_classification(self, email_id: UUID, intent: Intent, confidence: float) -> None:
        row = self.rows.get(email_id)
        if row is not None:
            row.intent, row.confidence = intent, confidence
            self._touch(row)

    async def finish_claimed(
        self,
        email_id: UUID,
        job_id: str,
        result: PipelineResult | None,
        error: str | None = None,
    ) -> bool:
        row = self.rows.get(email_id)
        if row is None or row.job_id != job_id:
            return False
        if result is None:
            row.status, row.last_error = EmailStatus.NEEDS_REVIEW, error
        else:
            row.intent, row.confidence = result.intent, result.confidence
            row.status, row.draft, row.last_error = result.status, result.draft, None
        row.job_id = row.previous_status = None
        self._touch(row)
        if result is not None and result.reply is not None:
            self.queue(result.reply, row.updated_at)
        return True

    async def release(self, job_id: str, ids: Collection[UUID] | None = None) -> int:
        released = 0
        for row in self.rows.values():
            if row.job_id == job_id and (ids is None or row.id in ids):
                row.status = row.previous_status or EmailStatus.PENDING
                row.job_id = row.previous_status = None
                self._touch(row)
                released += 1
        return released

    async def recover_orphans(
        self, running_job_ids: Collection[str], claimed_before: datetime | None = None
    ) -> int:
        orphans = [
            r
            for r in self.rows.values()
            if r.job_id is not None
            and r.job_id not in running_job_ids
            and (claimed_before is None or r.updated_at < claimed_before)
        ]
        for row in orphans:
            row.status = row.previous_status or EmailStatus.PENDING
            row.job_id = row.previous_status = None
            self._touch(row)
        return len(orphans)

    async def context(self, email: Email, limit: int = 5) -> list[Email]:
        def related(other: Email) -> bool:
            same_thread = email.thread_id is not None and other.thread_id == email.thread_id
            earlier_from_sender = (
                other.sender == email.sender and other.received_at < email.received_at
            )
            return same_thread or earlier_from_sender

        rows = [
            e
            for e in self.rows.values()
            if e.user_id == email.user_id and e.id != email.id and related(e)
        ]
        rows.sort(key=_page_key, reverse=True)
        return [dataclasses.replace(e) for e in rows[:limit]]

    async def update_review(
        self, email: Email, expected: EmailStatus, reply: Reply | None = None
    ) -> bool:
        row = self.rows.get(email.id)
        if row is None or row.user_id != email.user_id or row.status is not expected:
            return False
        row.status, row.draft, row.updated_at = email.status, email.draft, _utc(email.updated_at)
        row.last_error = email.last_error
        if reply is not None:
            self.queue(reply, row.updated_at)
        return True

    async def add_many_new(self, emails: Sequence[Email]) -> int:
        stored: set[tuple[UUID, str | None]] = {
            (e.user_id, e.message_id) for e in self.rows.values() if e.message_id
        }
        added = 0
        for email in emails:
            key = (email.user_id, email.message_id)
            if email.message_id is not None and key in stored:
                continue
            await self.add(email)
            stored.add(key)
            added += 1
        return added


class FakeUserRepository(UserRepository):
    def __init__(self) -> None:
        self.users: dict[UUID, User] = {}

    async def add(self, user: User) -> None:
        if any(u.email == user.email for u in self.users.values()):
            raise EmailTaken()
        self.users[user.id] = dataclasses.replace(user, created_at=_utc(user.created_at))

    async def by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    async def by_id(self, user_id: UUID) -> User | None:
        return self.users.get(user_id)


class FakePasswordHasher(PasswordHasher):
    """Reversible on purpose, so tests can read what was stored."""

    PREFIX = "hashed:"

    def __init__(self) -> None:
        self.verify_calls = 0

    def hash(self, password: str) -> str:
        return self.PREFIX + password

    def verify(self, password_hash: str, password: str) -> bool:
        self.verify_calls += 1
        return password_hash == self.PREFIX + password


@dataclasses.dataclass
class QueuedDispatch:
    """One row of the fake dispatch queue."""

    reply: Reply
    attempts: int = 0
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None


class FakeDispatchQueue(DispatchQueue):
    """The dispatch queue over ``FakeEmailRepository``'s rows, so delivering a reply
    and moving its email happen together, as in one transaction."""

    def __init__(self, emails: FakeEmailRepository) -> None:
        self._emails = emails
        self.lease: tuple[str, datetime] | None = None

    async def due(self, now: datetime, limit: int) -> list[QueuedReply]:
        due = [
            q
            for q in self._emails.replies.values()
            if q.next_attempt_at is not None and q.next_attempt_at <= now
        ]
        due.sort(key=lambda q: (q.next_attempt_at or now, q.reply.email_id.hex))
        return [QueuedReply(q.reply, q.attempts) for q in due[:limit]]

    async def delivered(self, email_id: UUID, now: datetime) -> None:
        queued = self._emails.replies.get(email_id)
        if queued is None or queued.delivered_at is not None:
            return
        queued.attempts += 1
        queued.delivered_at, queued.next_attempt_at, queued.last_error = now, None, None
        self._move(email_id, EmailStatus.SENT, None, now)

    async def failed(
        self, email_id: UUID, now: datetime, error: str, retry_at: datetime | None
    ) -> None:
        queued = self._emails.replies.get(email_id)
        if queued is None or queued.delivered_at is not None:
            return
        queued.attempts += 1
        queued.next_attempt_at, queued.last_error = retry_at, error
        status = EmailStatus.SENDING if retry_at is not None else EmailStatus.SEND_FAILED
        self._move(email_id, status, error, now)

    def _move(self, email_id: UUID, status: EmailStatus, error: str | None, now: datetime) -> None:
        row = self._emails.rows.get(email_id)
        if row is not None and row.status is EmailStatus.SENDING:
            row.status, row.last_error, row.updated_at = status, error, _utc(now)

    async def acquire_lease(self, holder: str, now: datetime, seconds: float) -> bool:
        if self.lease is not None and self.lease[0] != holder and self.lease[1] > now:
            return False
        self.lease = (holder, now + timedelta(seconds=seconds))
        return True

    async def renew_lease(self, holder: str, now: datetime, seconds: float) -> bool:
        if self.lease is None or self.lease[0] != holder or self.lease[1] <= now:
            return False
        self.lease = (holder, now + timedelta(seconds=seconds))
        return True

    async def release_lease(self, holder: str) -> None:
        if self.lease is not None and self.lease[0] == holder:
            self.lease = None


class FakeMailer(Mailer):
    """Records ``(email id, body)`` of each reply; refuses while ``error`` is set,
    or the next ``failures`` replies."""

    def __init__(self) -> None:
        self.sent: list[tuple[UUID, str]] = []
        self.replies: list[Reply] = []
        self.error: Exception | None = None
        self.failures = 0
        #: How often ``close`` was called (the real one ends a kept session).
        self.closes = 0

    async def close(self) -> None:
        self.closes += 1

    async def send(self, reply: Reply) -> None:
        if self.error is not None:
            raise self.error
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryFailed("SMTP delivery failed: could not reach the mail server")
        self.sent.append((reply.email_id, reply.body))
        self.replies.append(reply)


class FakeClassifier(IntentClassifier):
    """Answers per email id or with ``default``; raises what ``errors`` holds for an id."""

    def __init__(self, default: Classification | None = None) -> None:
        self.default = default or Classification(Intent.INQUIRY, 0.9)
        self.answers: dict[UUID, Classification] = {}
        self.errors: dict[UUID, Exception] = {}
        self.calls: list[UUID] = []

    @property
    def call_count(self) -> int:
        return len(self.calls)

    def answer(self, email_id: UUID, classification: Classification) -> None:
        self.answers[email_id] = classification

    def fail(self, email_id: UUID, reason: str, *, fatal: bool = False) -> None:
        self.errors[email_id] = ProviderError(reason, fatal=fatal)

    async def classify(self, email: Email) -> Classification:
        self.calls.append(email.id)
        if email.id in self.errors:
            raise self.errors[email.id]
        return self.answers.get(email.id, self.default)


class FakeDrafter(ReplyDrafter):
    """Drafts ``default`` (or a per-email answer); records the context it was given."""

    def __init__(self, default: Draft | None = None) -> None:
        self.default = default or Draft("Thank you for your email, we will reply shortly.", 0.95)
        self.answers: dict[UUID, Draft] = {}
        self.errors: dict[UUID, Exception] = {}
        self.calls: list[tuple[UUID, Intent, list[UUID]]] = []

    def fail(self, email_id: UUID, reason: str, *, fatal: bool = False) -> None:
        self.errors[email_id] = ProviderError(reason, fatal=fatal)

    async def draft(self, email: Email, intent: Intent, context: Sequence[Email]) -> Draft:
        self.calls.append((email.id, intent, [c.id for c in context]))
        if email.id in self.errors:
            raise self.errors[email.id]
        return self.answers.get(email.id, self.default)


class FakeRunner(JobRunner):
    """Queues each submitted email; ``run_all`` runs them one by one, in order, through
    the step it was built with (``step`` runs one email directly)."""

    def __init__(self, step: EmailStep) -> None:
        self.step = step
        self.submitted: list[BatchJob] = []
        self.resumed: list[str] = []
        self.withdrawn: set[tuple[str, UUID]] = set()
        self._queue: list[tuple[str, UUID]] = []
        self._next = 0  # everything before this index has started
        self._stopping = False

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def submit(self, job: BatchJob) -> None:
        if self._stopping:
            raise ServiceUnavailable()
        self.submitted.append(job)
        self._queue.extend((job.id, email_id) for email_id in job.email_ids)

    async def cancel(self, job: BatchJob) -> list[UUID]:
        not_started = [
            item
            for item in self._queue[self._next :]
            if item[0] == job.id and item not in self.withdrawn
        ]
        self.withdrawn.update(not_started)
        return [email_id for _, email_id in not_started]

    async def resume(self, job: BatchJob) -> None:
        self.resumed.append(job.id)

    async def stop(self, grace: float) -> set[str]:
        self._stopping = True
        return {job_id for job_id, _ in self.pending}

    @property
    def pending(self) -> list[tuple[str, UUID]]:
        return [item for item in self._queue[self._next :] if item not in self.withdrawn]

    async def run_all(self) -> None:
        while self._next < len(self._queue):
            item = self._queue[self._next]
            self._next += 1
            if item not in self.withdrawn:
                await self.step(*item)


JWT_SECRET = "fake-secret-" + "x" * 40


def fake_adapters(clock: FakeClock | None = None) -> Adapters:
    """Fakes for every port that does I/O, the in-memory job store, and the pure
    adapters as they are; ``wire`` builds the real use cases over them."""
    clock = clock or FakeClock()
    emails = FakeEmailRepository(clock)
    return Adapters(
        clock=clock,
        emails=emails,
        dispatches=FakeDispatchQueue(emails),
        users=FakeUserRepository(),
        jobs=InMemoryJobStore(clock, timedelta(hours=24)),
        classifier=FakeClassifier(),
        drafter=FakeDrafter(),
        mailer=FakeMailer(),
        hasher=FakePasswordHasher(),
        tokens=JwtTokens(JWT_SECRET),
        idempotency=InMemoryIdempotencyStore(clock),
        rate_limiter=TokenBucketRateLimiter(10_000),
        runner=FakeRunner,
        read_upload=parse_upload,
    )


def fake_services(
    clock: FakeClock | None = None, settings: Settings | None = None, **adapters: Any
) -> tuple[Services, Adapters]:
    """``wire()`` over ``fake_adapters()``, with any adapter replaced by keyword."""
    built = dataclasses.replace(fake_adapters(clock), **adapters)
    return wire(built, settings or Settings()), built
