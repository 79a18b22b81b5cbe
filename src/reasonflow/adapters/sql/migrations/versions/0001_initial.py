"""Initial schema: users, emails (with the process-job claim) and the outbox.

Revision ID: 0001
Revises:
Create Date: 2024-11-28

Column types are spelled out here rather than imported from ``tables`` so that
this revision keeps creating the same schema whatever ``tables`` becomes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "emails",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("received_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("thread_id", sa.String(255)),
        sa.Column("intent", sa.String(32)),
        sa.Column("confidence", sa.Float()),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("draft", sa.Text()),
        sa.Column("job_id", sa.String(32)),
        sa.Column("previous_status", sa.String(32)),
        sa.Column("last_error", sa.Text()),
    )
    op.create_index(
        "ix_emails_user_received",
        "emails",
        ["user_id", sa.text("received_at DESC"), sa.text("id DESC")],
    )
    op.create_index("ix_emails_user_status", "emails", ["user_id", "status"])
    op.create_index("ix_emails_job_id", "emails", ["job_id"])
    op.create_index("ix_emails_thread_id", "emails", ["thread_id"])
    op.create_index("ix_emails_user_sender", "emails", ["user_id", "sender"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "email_id",
            sa.Uuid(),
            sa.ForeignKey("emails.id", ondelete="CASCADE", name="fk_outbox_email_id"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
    )
    op.create_index("ix_outbox_email_id", "outbox", ["email_id"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("emails")
    op.drop_table("users")
