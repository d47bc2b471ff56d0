"""The external_task projection: started external service tasks, their locks and retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

OPEN = "open"
COMPLETED = "completed"
# A BPMN error thrown by the worker was caught by a boundary event.
ERRORED = "errored"
# The task vanished without a worker's answer (an interrupting event, a cancelled instance).
CANCELLED = "cancelled"


class ExternalTask(Base):
    """One started `camunda:type="external"` task, rewritten with the instance state.

    Fetchable: open, retries null or > 0, and no lock or an expired one (a failure keeps the
    lock until its retry timeout, as Camunda does).
    """

    __tablename__ = "external_task"
    __table_args__ = (
        # fetch-and-lock's query: open tasks of a topic, oldest first.
        Index(
            "ix_external_task_open_topic",
            "topic",
            "created_at",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index("ix_external_task_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # engine task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    definition_id: Mapped[str] = mapped_column(String(200))
    process_key: Mapped[str] = mapped_column(String(100))
    business_key: Mapped[str | None] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(default=0)
    # The element's camunda:properties (Camunda's extensionProperties).
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    worker_id: Mapped[str | None] = mapped_column(String(200))
    lock_expires_at: Mapped[datetime | None]
    # Null until a worker reports a failure (Camunda's clients rely on that).
    retries: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[str | None] = mapped_column(Text)
    # localVariables of the completing worker: kept for inspection, never process variables.
    local_variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
