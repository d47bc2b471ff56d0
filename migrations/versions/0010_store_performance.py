"""store performance: sort indexes on customer creation/update, prefix indexes for industry
and region

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-29 02:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On a large live table, create these CONCURRENTLY outside a transaction instead.
    op.drop_index("ix_customer_industry_code", table_name="customer")
    op.drop_index("ix_customer_region_code", table_name="customer")
    op.create_index(
        "ix_customer_industry_prefix",
        "customer",
        ["industry_code"],
        postgresql_ops={"industry_code": "varchar_pattern_ops"},
    )
    op.create_index(
        "ix_customer_region_prefix",
        "customer",
        ["region_code"],
        postgresql_ops={"region_code": "varchar_pattern_ops"},
    )
    op.create_index("ix_customer_created", "customer", ["created_at", "id"])
    op.create_index("ix_customer_updated", "customer", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_customer_updated", table_name="customer")
    op.drop_index("ix_customer_created", table_name="customer")
    op.drop_index("ix_customer_region_prefix", table_name="customer")
    op.drop_index("ix_customer_industry_prefix", table_name="customer")
    op.create_index("ix_customer_region_code", "customer", ["region_code"])
    op.create_index("ix_customer_industry_code", "customer", ["industry_code"])
