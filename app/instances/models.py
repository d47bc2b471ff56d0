"""Process instance state (the truth) and its history, timer and incident projections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_process_instance_key_status", "process_key", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[str] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20), default="running")
    # Engine state without the spec; JSONB on PostgreSQL.
    state: Mapped[dict[str, Any]]
    # Current variables, projected for cheap reads (the state stays the truth).
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active_elements: Mapped[list[Any]] = mapped_column(default=list)
    end_element: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1)
    started_by: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class HistoryEvent(Base):
    """Append-only record of who did what and when."""

    __tablename__ = "history_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str | None] = mapped_column(String(100))
    element_kind: Mapped[str | None] = mapped_column(String(40))
    task_id: Mapped[str | None] = mapped_column(String(36))
    user_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Timer(Base):
    """Due times of waiting timers, rewritten with the state; the timer dispatcher reads it."""

    __tablename__ = "timer"
    __table_args__ = (
        Index("ix_timer_status_due", "status", "due_at"),
        # The dispatcher's hot query: pending timers never sent yet, oldest due first.
        Index(
            "ix_timer_unsent_due",
            "due_at",
            postgresql_where=text("status = 'pending' AND enqueued_at IS NULL"),
            sqlite_where=text("status = 'pending' AND enqueued_at IS NULL"),
        ),
        # The resend check: pending timers sent before a moment, oldest sent first. Without it
        # each pass walked every due timer already sent (a backlog of 100,000 in a burst).
        Index(
            "ix_timer_sent_pending",
            "enqueued_at",
            postgresql_where=text("status = 'pending' AND enqueued_at IS NOT NULL"),
            sqlite_where=text("status = 'pending' AND enqueued_at IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # engine task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|fired|cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fired_at: Mapped[datetime | None]
    # When the dispatcher last sent its job, and that job's id: a pending timer sent long ago
    # whose job is gone from the queue lost it.
    enqueued_at: Mapped[datetime | None]
    job_id: Mapped[str | None] = mapped_column(String(80))
    # Due time computed from an estimated working-day calendar year.
    estimated: Mapped[bool] = mapped_column(default=False)


class Incident(Base):
    __tablename__ = "incident"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    element_id: Mapped[str | None] = mapped_column(String(100))
    task_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class ServiceJob(Base):
    """A started service task bound to an in-process handler: the outbox its job reads."""

    __tablename__ = "service_job"
    __table_args__ = (Index("ix_service_job_status", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # engine task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(100))
    handler: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]


class StartTimer(Base):
    """The next scheduled start of a definition whose process begins with a timer start event."""

    __tablename__ = "start_timer"
    __table_args__ = (Index("ix_start_timer_status_due", "status", "due_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[str] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    element_id: Mapped[str] = mapped_column(String(100))
    # The evaluated timer text: an ISO date-time, duration or repeating interval, or cron.
    kind: Mapped[str] = mapped_column(String(16))
    spec: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime]
    # Starts still to come after this one: -1 = forever (R/…, cron), 0 = this is the last.
    remaining: Mapped[int] = mapped_column(default=0)
    fired_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|cancelled
    enqueued_at: Mapped[datetime | None]
    job_id: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
