"""Table definitions (SQLAlchemy Core). Migrations in ``migrations/`` create them.

Enums are stored as their string values, UUIDs with ``sqlalchemy.Uuid`` (native
on Postgres, 32 hex characters on SQLite) and times as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite has no time zone type and hands back naive values, so values are
    converted to UTC on the way in (refusing naive ones, whose zone is
    unknown) and marked UTC on the way out. Stored as UTC, SQLite's fixed-width
    text sorts in time order, which keyset paging relies on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

STATUS_LEN = 32
JOB_ID_LEN = 32
ADDRESS_LEN = 320
# RFC 5322's line limit: no header, Message-ID included, can be longer.
MESSAGE_ID_LEN = 998

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(ADDRESS_LEN), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("email", name="uq_users_email"),
)

emails = Table(
    "emails",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("sender", String(ADDRESS_LEN), nullable=False),
    Column("recipient", String(ADDRESS_LEN), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("thread_id", String(255)),
    Column("intent", String(STATUS_LEN)),
    Column("confidence", Float),
    Column("status", String(STATUS_LEN), nullable=False),
    Column("draft", Text),
    # The claim of a running process job (DESIGN §4); both NULL when unclaimed.
    Column("job_id", String(JOB_ID_LEN)),
    Column("previous_status", String(STATUS_LEN)),
    Column("last_error", Text),
    # Imported mail is idempotent by Message-ID per user (NULLs never collide).
    Column("message_id", String(MESSAGE_ID_LEN)),
)
Index(
    "ix_emails_user_received",
    emails.c.user_id,
    emails.c.received_at.desc(),
    emails.c.id.desc(),
)
Index("ix_emails_user_status", emails.c.user_id, emails.c.status)
# Owner-scoped lookups by id (a submission's ids): see migration 0003.
Index("ix_emails_user_id", emails.c.user_id, emails.c.id)
Index("ix_emails_job_id", emails.c.job_id)
Index("ix_emails_thread_id", emails.c.thread_id)
Index("ix_emails_user_sender", emails.c.user_id, emails.c.sender)
Index("ux_emails_user_message_id", emails.c.user_id, emails.c.message_id, unique=True)

# What the dev mailer (``MailboxMailer``, no SMTP configured) "delivered": a
# stand-in for a mail server, kept for inspection. Called ``outbox`` until
# migration 0005; not the dispatch queue (``reply_dispatches``).
dev_mailbox = Table(
    "dev_mailbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column(
        "email_id",
        Uuid,
        ForeignKey("emails.id", ondelete="CASCADE", name="fk_dev_mailbox_email_id"),
        nullable=False,
    ),
    Column("user_id", Uuid, nullable=False),
    Column("recipient", String(ADDRESS_LEN), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The reply's threading headers; NULL on rows written before migration 0004.
    Column("message_id", String(MESSAGE_ID_LEN)),
    Column("in_reply_to", String(MESSAGE_ID_LEN)),
    Column("reference_ids", Text),
)
Index("ix_dev_mailbox_email_id", dev_mailbox.c.email_id)

# The transactional outbox: one reply per email, written in the same transaction
# as the email's move to ``sending`` and delivered by the dispatcher.
reply_dispatches = Table(
    "reply_dispatches",
    metadata,
    Column(
        "email_id",
        Uuid,
        ForeignKey("emails.id", ondelete="CASCADE", name="fk_reply_dispatches_email_id"),
        primary_key=True,
    ),
    Column("user_id", Uuid, nullable=False),
    Column("sender", String(ADDRESS_LEN), nullable=False),
    Column("recipient", String(ADDRESS_LEN), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("message_id", String(MESSAGE_ID_LEN), nullable=False),
    Column("in_reply_to", String(MESSAGE_ID_LEN)),
    Column("reference_ids", Text),
    Column("attempts", Integer, nullable=False),
    # NULL once delivered or given up: only rows with a time are ever due.
    Column("next_attempt_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Column("last_error", Text),
)
Index("ix_reply_dispatches_due", reply_dispatches.c.next_attempt_at)

# The dispatch lease: which dispatcher may deliver, until when (one row per name).
dispatch_leases = Table(
    "dispatch_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
