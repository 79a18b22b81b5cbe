"""The outbox mailer keeps each reply's ``Message-ID``, ``In-Reply-To`` and ``References``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Nullable columns, so rows recorded before them stay valid and SQLite needs no
table rebuild to add them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("message_id", sa.String(998), nullable=True))
    op.add_column("outbox", sa.Column("in_reply_to", sa.String(998), nullable=True))
    op.add_column("outbox", sa.Column("reference_ids", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("reference_ids")
        batch.drop_column("in_reply_to")
        batch.drop_column("message_id")
