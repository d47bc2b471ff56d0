"""The `notification` outbox table: one row per message, the truth about what was sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

CHANNELS = ("email", "webhook")
STATUSES = ("pending", "sent", "failed")


class Notification(Base):
    __tablename__ = "notification"
    # The sweeper's query: pending rows whose next attempt is due.
    __table_args__ = (Index("ix_notification_status_next_attempt", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(2000))  # e-mail address or webhook URL
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # No foreign keys: the outbox also carries messages about no instance, and a row must be
    # insertable (and kept, for the audit) whatever happens to the instance tables.
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
