"""The message_subscription projection: which instance waits for which message, where."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class MessageSubscription(Base):
    """A task waiting for a message (intermediate catch, receive task, boundary event).

    Rewritten with the instance state: a row exists exactly while the task waits.
    """

    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_message_subscription_name_key", "message_name", "business_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # engine task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    message_name: Mapped[str] = mapped_column(String(200))
    # The instance's business key, copied so correlation by key is one indexed lookup.
    business_key: Mapped[str | None] = mapped_column(String(200))
    process_key: Mapped[str] = mapped_column(String(100))
    element_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
