"""Customer-store tables: customers, source ids, RM assignments, change log, custom fields."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    event,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JsonType, utcnow


class Customer(Base):
    __tablename__ = "customer"
    __table_args__ = (
        # Partial Chinese names: trigram GIN (the pg_trgm extension; see the migration note).
        Index(
            "ix_customer_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
        # Custom-field equality filters use JSONB containment (@>).
        Index(
            "ix_customer_custom",
            "custom",
            postgresql_using="gin",
            postgresql_ops={"custom": "jsonb_path_ops"},
        ).ddl_if(dialect="postgresql"),
        # Pages sorted by name: the page's ids come from this index alone (index-only scan),
        # the filters on the included columns checked without reading the table.
        Index(
            "ix_customer_name_cover",
            "name",
            "id",
            postgresql_include=["status", "risk_rating", "rm_id", "team_id", "branch_id", "custom"],
        ),
        # An RM's own book, sorted by name, without a sort step.
        Index("ix_customer_rm_name", "rm_id", "name"),
        Index("ix_customer_branch_name", "branch_id", "name"),
        # Sorting by creation or last change pages from the index, without a sort step.
        Index("ix_customer_created", "created_at", "id"),
        Index("ix_customer_updated", "updated_at", "id"),
        # Prefix filters (industry "I65", region "3101") are LIKE 'x%': a plain btree serves
        # them only under the C collation, the pattern operator class under any.
        Index(
            "ix_customer_industry_prefix",
            "industry_code",
            postgresql_ops={"industry_code": "varchar_pattern_ops"},
        ),
        # Region filters are a province (2 digits), prefecture (4) or county (6), sorted by
        # name. Company names start with their city, so name order and region go together: a
        # walk of the name index filtering on region can pass most of the table before its
        # first match. These indexes give each level's customers in name order directly.
        Index("ix_customer_region_name", "region_code", "name"),
        Index("ix_customer_prefecture_name", func.substr(text("region_code"), 1, 4), "name").ddl_if(
            dialect="postgresql"
        ),
        Index("ix_customer_province_name", func.substr(text("region_code"), 1, 2), "name").ddl_if(
            dialect="postgresql"
        ),
        # Bare rm_id and branch_id lookups use the composite indexes above (leading column).
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    registered_capital: Mapped[Decimal | None] = mapped_column(Numeric(20, 2))
    capital_currency: Mapped[str] = mapped_column(String(3), default="CNY")
    industry_code: Mapped[str | None] = mapped_column(String(8))
    region_code: Mapped[str] = mapped_column(String(6))
    establishment_date: Mapped[date | None] = mapped_column(Date)
    size_class: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="prospect", index=True)
    risk_rating: Mapped[str | None] = mapped_column(String(8), index=True)
    rm_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(64), index=True)
    branch_id: Mapped[str | None] = mapped_column(String(64))
    # Values of the run-time custom fields, keyed by field key (JSONB on PostgreSQL).
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# The trigram index needs pg_trgm; create_all (tests, `flask init-db`) adds it first. The
# Alembic migration must run the same statement before creating ix_customer_name_trgm.
event.listen(
    Customer.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(  # type: ignore[no-untyped-call]
        dialect="postgresql"
    ),
)


class CustomerSource(Base):
    """A core system's id for a customer: the key the sync API upserts by."""

    __tablename__ = "customer_source"

    source_system: Mapped[str] = mapped_column(String(40), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RmAssignment(Base):
    """Who managed a customer when: reassigning closes the open row and opens a new one."""

    __tablename__ = "customer_rm_assignment"
    __table_args__ = (Index("ix_customer_rm_assignment_customer", "customer_id", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    rm_id: Mapped[str | None] = mapped_column(String(64), index=True)
    team_id: Mapped[str | None] = mapped_column(String(64))
    branch_id: Mapped[str | None] = mapped_column(String(64))
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_to: Mapped[datetime | None]
    assigned_by: Mapped[str | None] = mapped_column(String(64))


class CustomerChange(Base):
    """One field of one customer changed (append-only): history view and change feed."""

    __tablename__ = "customer_change"
    __table_args__ = (
        Index("ix_customer_change_customer", "customer_id", "id"),
        Index("ix_customer_change_feed", "txid", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    # The writing transaction's id on PostgreSQL (0 on SQLite): the feed only hands out rows
    # of transactions older than every running one, so a cursor never skips a late commit.
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    customer_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int]
    # A built-in field name, "custom.<key>", or "*" for the whole record at creation.
    field: Mapped[str] = mapped_column(String(80))
    old_value: Mapped[Any | None] = mapped_column(JsonType)
    new_value: Mapped[Any | None] = mapped_column(JsonType)
    source: Mapped[str] = mapped_column(String(16))  # api | sync | import | process
    source_system: Mapped[str | None] = mapped_column(String(40))
    changed_by: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomField(Base):
    """A field administrators add at run time; values live in customer.custom."""

    __tablename__ = "custom_field"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(default=False)
    enum_values: Mapped[list[Any]] = mapped_column(default=list)
    # Value bounds (number, integer, date) or length bounds (string).
    minimum: Mapped[Any | None] = mapped_column(JsonType)
    maximum: Mapped[Any | None] = mapped_column(JsonType)
    pattern: Mapped[str | None] = mapped_column(String(500))
    # JR/T 0171-2020 class: C1 (low), C2 (identifying/financial), C3 (authentication).
    sensitivity: Mapped[str] = mapped_column(String(4), default="C1")
    # Groups that may see / edit the value; empty = whoever sees / may change the customer.
    visible_to: Mapped[list[Any]] = mapped_column(default=list)
    editable_by: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
