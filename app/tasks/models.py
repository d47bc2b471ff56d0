"""The human-task projection and its candidate identities (indexed for task-list queries)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class HumanTask(Base):
    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_status_assignee", "status", "assignee"),
        Index("ix_human_task_status_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # engine task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    definition_id: Mapped[str] = mapped_column(String(120))
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    element_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    documentation: Mapped[str | None] = mapped_column(Text)
    form_key: Mapped[str | None] = mapped_column(String(255))
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    business_key: Mapped[str | None] = mapped_column(String(200))
    assignee: Mapped[str | None] = mapped_column(String(64))
    # Delegation (Camunda's owner and delegationState): the owner delegated the task to the
    # assignee and gets it back, RESOLVED, when the assignee resolves it.
    owner: Mapped[str | None] = mapped_column(String(64))
    delegation_state: Mapped[str | None] = mapped_column(String(16))  # PENDING | RESOLVED
    priority: Mapped[int] = mapped_column(default=50)
    due_at: Mapped[datetime | None]
    # The due date was counted on an estimated working-day calendar year (no official data).
    due_estimated: Mapped[bool] = mapped_column(default=False)
    follow_up_at: Mapped[datetime | None]
    # SLA facts for the KPI reports: when an escalation timer found the task still open.
    breached_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | completed | cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(64))
    candidates: Mapped[list[TaskCandidate]] = relationship(cascade="all, delete-orphan")

    @property
    def candidate_groups(self) -> list[str]:
        return sorted(c.identity for c in self.candidates if c.kind == "group")

    @property
    def candidate_users(self) -> list[str]:
        return sorted(c.identity for c in self.candidates if c.kind == "user")

    @property
    def excluded_users(self) -> list[str]:
        """审贷分离: users who may not claim or complete this task."""
        return sorted(c.identity for c in self.candidates if c.kind == "excluded")


class TaskCandidate(Base):
    __tablename__ = "task_candidate"
    __table_args__ = (Index("ix_task_candidate_identity", "kind", "identity"),)

    task_id: Mapped[str] = mapped_column(
        ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True
    )
    # group | user (candidates) | excluded (four-eyes: may not take the task)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    identity: Mapped[str] = mapped_column(String(64), primary_key=True)
