"""customer search by loan classification: partial index on active loans by classification

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On a large live table, create it CONCURRENTLY outside a transaction instead.
    op.create_index(
        "ix_loan_active_classification",
        "loan",
        ["classification", "customer_id"],
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("ix_loan_active_classification", table_name="loan")
