"""store performance: customer indexes for sorted pages, prefix and region filters; redundant
single-column indexes dropped

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 02:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On a large live table, create these CONCURRENTLY outside a transaction instead.
    op.drop_index("ix_customer_industry_code", table_name="customer")
    op.drop_index("ix_customer_region_code", table_name="customer")
    # Covered by ix_customer_rm_name and ix_customer_branch_name (leading column).
    op.drop_index("ix_customer_rm_id", table_name="customer")
    op.drop_index("ix_customer_branch_id", table_name="customer")
    op.create_index(
        "ix_customer_industry_prefix",
        "customer",
        ["industry_code"],
        postgresql_ops={"industry_code": "varchar_pattern_ops"},
    )
    op.drop_index("ix_customer_name", table_name="customer")
    op.create_index(
        "ix_customer_name_cover",
        "customer",
        ["name", "id"],
        postgresql_include=["status", "risk_rating", "rm_id", "team_id", "branch_id", "custom"],
    )
    op.create_index("ix_customer_region_name", "customer", ["region_code", "name"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_customer_prefecture_name",
            "customer",
            [sa.text("substr(region_code, 1, 4)"), "name"],
        )
        op.create_index(
            "ix_customer_province_name",
            "customer",
            [sa.text("substr(region_code, 1, 2)"), "name"],
        )
    op.create_index("ix_customer_created", "customer", ["created_at", "id"])
    op.create_index("ix_customer_updated", "customer", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_customer_updated", table_name="customer")
    op.drop_index("ix_customer_created", table_name="customer")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_customer_province_name", table_name="customer")
        op.drop_index("ix_customer_prefecture_name", table_name="customer")
    op.drop_index("ix_customer_region_name", table_name="customer")
    op.drop_index("ix_customer_name_cover", table_name="customer")
    op.create_index("ix_customer_name", "customer", ["name"])
    op.drop_index("ix_customer_industry_prefix", table_name="customer")
    op.create_index("ix_customer_branch_id", "customer", ["branch_id"])
    op.create_index("ix_customer_rm_id", "customer", ["rm_id"])
    op.create_index("ix_customer_region_code", "customer", ["region_code"])
    op.create_index("ix_customer_industry_code", "customer", ["industry_code"])
