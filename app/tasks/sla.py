"""The handlers' door to SLA facts: mark tasks breached and find whom to tell."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from app.db import utcnow
from app.identity.models import Group, User, membership
from app.instances.models import HistoryEvent
from app.notifications.outbox import notify
from app.tasks.models import HumanTask
from handlers.context import BreachedTask

# Users of group "<group>_lead" lead <group>; users of this group supervise every team.
LEAD_SUFFIX = "_lead"
SUPERVISOR_GROUP = "supervisor"
MAX_PRIORITY = 100


@dataclass
class SlaTaskStore:
    session: Session
    instance_id: str
    # When the SLA timer fired (its escalation job was created then). A task completed between
    # that moment and this job still breached: it is recorded, but nobody is chased for it.
    fired_at: datetime

    def mark_breached(self, element_id: str, *, priority_step: int) -> list[BreachedTask]:
        now = utcnow()
        breached = []
        rows = self.session.scalars(
            select(HumanTask)
            .where(
                HumanTask.instance_id == self.instance_id,
                HumanTask.element_id == element_id,
                or_(
                    HumanTask.status == "open",
                    and_(HumanTask.status == "completed", HumanTask.completed_at > self.fired_at),
                ),
            )
            .options(selectinload(HumanTask.candidates))
        )
        for task in rows:
            first = task.breached_at is None
            if task.status != "open":
                if first:
                    task.breached_at = self.fired_at
                    self.session.add(self._event(element_id, task, first=True))
                continue
            if first:
                task.breached_at = now
                task.priority = min(MAX_PRIORITY, task.priority + priority_step)
            self.session.add(self._event(element_id, task, first=first))
            breached.append(
                BreachedTask(
                    task_id=task.id,
                    name=task.name or task.element_id,
                    due_at=task.due_at.isoformat() if task.due_at else None,
                    breached_at=(task.breached_at or now).isoformat(),
                    priority=task.priority,
                    recipients=self._recipients(task),
                )
            )
        return breached

    def _event(self, element_id: str, task: HumanTask, *, first: bool) -> HistoryEvent:
        return HistoryEvent(
            instance_id=self.instance_id,
            kind="sla_breached",
            element_id=element_id,
            element_kind="userTask",
            task_id=task.id,
            at=utcnow(),
            detail={
                "due_at": task.due_at.isoformat() if task.due_at else None,
                "breached_at": task.breached_at.isoformat() if task.breached_at else None,
                "priority": task.priority,
                "first": first,
                "status": task.status,
            },
        )

    def _recipients(self, task: HumanTask) -> tuple[tuple[str, str], ...]:
        groups = [f"{g}{LEAD_SUFFIX}" for g in task.candidate_groups] + [SUPERVISOR_GROUP]
        users = set(
            self.session.scalars(
                select(User).join(membership).join(Group).where(Group.id.in_(groups))
            )
        )
        if task.assignee:
            assignee = self.session.get(User, task.assignee)
            if assignee is not None:
                users.add(assignee)
        return tuple(sorted((u.id, u.email) for u in users if u.email and u.active))


@dataclass
class OutboxStore:
    session: Session
    instance_id: str

    def notify(
        self,
        *,
        channel: str,
        recipient: str,
        subject: str,
        body: dict[str, Any],
        idempotency_key: str,
        task_id: str | None = None,
    ) -> None:
        notify(
            self.session,
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            idempotency_key=idempotency_key,
            instance_id=self.instance_id,
            task_id=task_id,
        )
