"""The transactional outbox: ``reply_dispatches`` and ``dispatch_leases``; the dev
mailer's table ``outbox`` becomes ``dev_mailbox``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Sending a reply now commits a ``reply_dispatches`` row with the email's move to
``sending``; a dispatcher holding the ``dispatch_leases`` row delivers it. The
dev mailer's table, which only records what a mail server would have received,
is renamed so the two are not confused: a new table, its rows copied over
(the same statements on SQLite and Postgres, names of index and key included).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MAILBOX_COLUMNS = [
    "id",
    "email_id",
    "user_id",
    "recipient",
    "subject",
    "body",
    "created_at",
    "message_id",
    "in_reply_to",
    "reference_ids",
]


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _mailbox(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "email_id",
            sa.Uuid(),
            sa.ForeignKey("emails.id", ondelete="CASCADE", name=f"fk_{name}_email_id"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=True),
        sa.Column("in_reply_to", sa.String(998), nullable=True),
        sa.Column("reference_ids", sa.Text(), nullable=True),
    )
    op.create_index(f"ix_{name}_email_id", name, ["email_id"])


def _move(source: str, target: str) -> None:
    _mailbox(target)
    columns = _MAILBOX_COLUMNS
    rows: Any = sa.select(*(sa.column(c) for c in columns)).select_from(sa.table(source))
    op.execute(
        sa.table(target, *(sa.column(c) for c in columns)).insert().from_select(columns, rows)
    )
    op.drop_index(f"ix_{source}_email_id", table_name=source)
    op.drop_table(source)


def upgrade() -> None:
    _move("outbox", "dev_mailbox")
    op.create_table(
        "reply_dispatches",
        sa.Column(
            "email_id",
            sa.Uuid(),
            sa.ForeignKey("emails.id", ondelete="CASCADE", name="fk_reply_dispatches_email_id"),
            primary_key=True,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=False),
        sa.Column("in_reply_to", sa.String(998), nullable=True),
        sa.Column("reference_ids", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _when(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("delivered_at", _when(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_reply_dispatches_due", "reply_dispatches", ["next_attempt_at"])
    op.create_table(
        "dispatch_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dispatch_leases")
    op.drop_index("ix_reply_dispatches_due", table_name="reply_dispatches")
    op.drop_table("reply_dispatches")
    _move("dev_mailbox", "outbox")
