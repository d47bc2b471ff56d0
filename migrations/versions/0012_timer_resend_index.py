"""timer resend check: partial index on pending timers already sent, by when they were sent

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 05:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On a large live table, create it CONCURRENTLY outside a transaction instead.
    op.create_index(
        "ix_timer_sent_pending",
        "timer",
        ["enqueued_at"],
        postgresql_where=sa.text("status = 'pending' AND enqueued_at IS NOT NULL"),
        sqlite_where=sa.text("status = 'pending' AND enqueued_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_timer_sent_pending", table_name="timer")
