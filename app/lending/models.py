"""Facilities (授信), loans drawn under them (借据) and each loan's classification history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Facility(Base):
    __tablename__ = "facility"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    # One facility per approved application: the service task's idempotency key.
    source_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    product: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    term_months: Mapped[int]
    start_date: Mapped[date | None]
    maturity_date: Mapped[date | None]
    guarantee_type: Mapped[str] = mapped_column(String(20))
    approver_group: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | closed
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Loan(Base):
    """A drawdown (借据) under a facility; the unit of five-category classification."""

    __tablename__ = "loan"
    __table_args__ = (
        Index("ix_loan_customer_status", "customer_id", "status"),
        # Customer search by classification: the customers with an active loan in a category
        # (a rare one such as "loss" is found from here, not by probing every customer).
        Index(
            "ix_loan_active_classification",
            "classification",
            "customer_id",
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    facility_id: Mapped[str] = mapped_column(ForeignKey("facility.id"), index=True)
    # The facility's customer, copied so exposure sums need no join through facility.
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    contract_no: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    balance: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    start_date: Mapped[date]
    maturity_date: Mapped[date]
    days_overdue: Mapped[int] = mapped_column(default=0)
    classification: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | settled
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClassificationChange(Base):
    """Append-only: who moved a loan from one category to another, when and why."""

    __tablename__ = "loan_classification_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loan.id"), index=True)
    from_category: Mapped[str | None] = mapped_column(String(16))
    to_category: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
