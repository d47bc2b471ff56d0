"""Interactions (visits, calls, notes), complaints with their SLA, and risk signals."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Interaction(Base):
    __tablename__ = "interaction"
    __table_args__ = (Index("ix_interaction_customer_at", "customer_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[str] = mapped_column(String(16))  # visit | call | video | branch | note
    purpose: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]
    summary: Mapped[str] = mapped_column(Text)
    participants: Mapped[str | None] = mapped_column(String(500))
    next_action: Mapped[str | None] = mapped_column(String(500))
    next_action_due: Mapped[date | None]
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Complaint(Base):
    """A complaint and its handling deadline (《银行业保险业消费投诉处理管理办法》)."""

    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_customer_status", "customer_id", "status"),
        Index("ix_complaint_status_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    complexity: Mapped[str] = mapped_column(String(16))  # simple | complex
    summary: Mapped[str] = mapped_column(Text)
    complainant_name: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime]
    due_at: Mapped[datetime]
    # An exceptional case's extra 30 days, approved by a supervisor or branch manager.
    extended_by: Mapped[str | None] = mapped_column(String(64))
    extension_reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    resolution: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(String(200))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None]
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RiskSignal(Base):
    """An early-warning signal (预警信号) on a customer, its colour and its verification."""

    __tablename__ = "risk_signal"
    __table_args__ = (
        Index("ix_risk_signal_customer_status", "customer_id", "status"),
        Index("ix_risk_signal_status_due", "status", "verify_due"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    source: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))  # red | orange | yellow | blue
    headline: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    detected_at: Mapped[datetime]
    # Blue signals are "read and monitor": no verification, no due date.
    verify_due: Mapped[datetime | None]
    verify_due_estimated: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="new")
    disposition: Mapped[str | None] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
