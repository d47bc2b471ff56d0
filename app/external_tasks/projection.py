"""Rewrite an instance's external_task rows from its state, inside the step's transaction."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.external_tasks.models import CANCELLED, OPEN, ExternalTask
from app.instances.models import ProcessInstance
from app.workflow.runtime import Run, ServiceTaskView
from handlers import registry as handler_registry

_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")


def waiting_for_workers(run: Run) -> dict[str, ServiceTaskView]:
    """Started external tasks, minus topics corpflow serves itself with a handler."""
    return {
        view.id: view
        for view in run.service_tasks()
        if view.handler is None
        and view.external_topic
        and handler_registry.get(view.external_topic) is None
    }


def _priority(text: str | None) -> int:
    # camunda:taskPriority as a literal; an expression there is not evaluated yet (0).
    return int(text) if text is not None and _INTEGER.match(text) else 0


def project(
    session: Session, instance: ProcessInstance, run: Run, now: datetime, new: bool
) -> None:
    """New started external tasks get a row; open rows whose task is gone are cancelled.

    Rows the caller already closed in this step (completed, errored) keep their status.
    """
    if not run.model.has_service_tasks:
        return
    started = waiting_for_workers(run)
    known = (
        {}
        if new
        else {
            row.id: row
            for row in session.scalars(
                select(ExternalTask).where(ExternalTask.instance_id == instance.id)
            )
        }
    )
    for task_id, row in known.items():
        if row.status == OPEN and task_id not in started:
            row.status = CANCELLED
            row.ended_at = now
            row.worker_id = None
            row.lock_expires_at = None
    for task_id, view in started.items():
        if task_id in known:
            continue
        element = run.element(task_id)
        session.add(
            ExternalTask(
                id=task_id,
                instance_id=instance.id,
                definition_id=instance.definition_id,
                process_key=instance.process_key,
                business_key=instance.business_key,
                element_id=view.element_id,
                topic=view.external_topic,
                priority=_priority(element.attrs.get("taskPriority")),
                properties=dict(element.properties),
                status=OPEN,
                created_at=now,
            )
        )
