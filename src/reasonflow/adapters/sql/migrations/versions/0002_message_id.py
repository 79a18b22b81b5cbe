"""Imported mail: ``emails.message_id``, unique per user.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-20

A unique index, not a constraint, so SQLite needs no table rebuild. Both
SQLite and Postgres let any number of rows share a NULL ``message_id``, so
mail added by other means never collides.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("emails", sa.Column("message_id", sa.String(998), nullable=True))
    op.create_index("ux_emails_user_message_id", "emails", ["user_id", "message_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_emails_user_message_id", table_name="emails")
    with op.batch_alter_table("emails") as batch:
        batch.drop_column("message_id")
