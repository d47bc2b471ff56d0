"""Ownership and control edges, guarantees, and customer groups with their members."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

# Exactly one of the two holder columns is set: a customer or a natural person.
_ONE_HOLDER = "(holder_customer_id IS NULL) <> (holder_person_id IS NULL)"


class Ownership(Base):
    """An edge holder → held company: a shareholding (with %) or actual control (实际控制)."""

    __tablename__ = "ownership"
    __table_args__ = (
        CheckConstraint(_ONE_HOLDER, name="ck_ownership_one_holder"),
        CheckConstraint("kind IN ('shareholding', 'control')", name="ck_ownership_kind"),
        # One edge of a kind per holder and held company; also the upward walk's index.
        UniqueConstraint("held_id", "kind", "holder_customer_id", name="uq_ownership_customer"),
        UniqueConstraint("held_id", "kind", "holder_person_id", name="uq_ownership_person"),
        # The downward and group walks go from the holder.
        Index("ix_ownership_holder_customer", "holder_customer_id"),
        Index("ix_ownership_holder_person", "holder_person_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    held_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    holder_customer_id: Mapped[str | None] = mapped_column(ForeignKey("customer.id"))
    holder_person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    # Shareholdings only: 0 < percentage <= 100.
    percentage: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    basis: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Guarantee(Base):
    """A guarantor (customer or person) answers for a borrower's debts up to an amount."""

    __tablename__ = "guarantee"
    __table_args__ = (
        CheckConstraint(
            "(guarantor_customer_id IS NULL) <> (guarantor_person_id IS NULL)",
            name="ck_guarantee_one_guarantor",
        ),
        Index("ix_guarantee_borrower", "borrower_id"),
        Index("ix_guarantee_guarantor_customer", "guarantor_customer_id"),
        Index("ix_guarantee_guarantor_person", "guarantor_person_id"),
        Index("ix_guarantee_facility", "facility_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    guarantor_customer_id: Mapped[str | None] = mapped_column(ForeignKey("customer.id"))
    guarantor_person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    facility_id: Mapped[str | None] = mapped_column(ForeignKey("facility.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerGroup(Base):
    """A group customer (集团客户) headed by its parent company."""

    __tablename__ = "customer_group"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupMember(Base):
    """A customer belongs to at most one group (the customer record's group)."""

    __tablename__ = "customer_group_member"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("customer_group.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
