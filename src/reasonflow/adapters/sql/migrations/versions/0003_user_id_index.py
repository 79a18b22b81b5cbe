"""An index on ``emails (user_id, id)`` for owner-scoped lookups by id.

Revision ID: 0003
Revises: 0002
Create Date: 2026-03-02

A batch submission checks its ids with ``WHERE user_id = :user AND id IN
(...100 ids)``, and a process claim updates them the same way. Without
statistics (SQLite has none unless ``ANALYZE`` runs; Postgres has none until
autovacuum analyses a new table), both planners answered it by reading every
email of the user through an index on ``user_id`` alone, instead of 100
primary-key lookups: 25-100 ms a submission at 100,000 emails. This index
matches both terms, so each planner picks it whatever its statistics say
(docs/benchmarks.md, row 4).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_emails_user_id", "emails", ["user_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_emails_user_id", table_name="emails")
