"""Rewrite an instance's external_task rows from its state, inside the step's transaction."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from app.db import closed_in_session
from app.external_tasks.models import CANCELLED, OPEN, ExternalTask
from app.instances.models import ProcessInstance
from app.workflow.runtime import Run, ServiceTaskView
from handlers import registry as handler_registry

_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")


_INSERT = insert(cast(Table, ExternalTask.__table__))  # built once, bound at execution


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
    session: Session,
    instance: ProcessInstance,
    run: Run,
    now: datetime,
    loaded: Collection[str] | None,
) -> None:
    """New started external tasks get a row; open rows whose task is gone are cancelled.

    `loaded`: the external tasks waiting when the state was loaded (empty for a new instance),
    the only ones that can have rows; None if unknown. Rows the caller already closed in this
    step (completed, errored) keep their status.
    """
    if not run.model.has_service_tasks:
        return
    started = waiting_for_workers(run)
    known: Collection[str]
    if loaded is not None and closed_in_session(
        session, ExternalTask, set(loaded) - started.keys(), OPEN
    ):
        rows: dict[str, ExternalTask] = {}
        known = loaded
    else:
        rows = {
            row.id: row
            for row in session.scalars(
                select(ExternalTask).where(ExternalTask.instance_id == instance.id)
            )
        }
        known = rows
    for task_id, row in rows.items():
        if row.status == OPEN and task_id not in started:
            row.status = CANCELLED
            row.ended_at = now
            row.worker_id = None
            row.lock_expires_at = None
    new = []
    for task_id, view in started.items():
        if task_id in known:
            continue
        element = run.element(task_id)
        new.append(
            {
                "id": task_id,
                "instance_id": instance.id,
                "definition_id": instance.definition_id,
                "process_key": instance.process_key,
                "business_key": instance.business_key,
                "element_id": view.element_id,
                "topic": view.external_topic,
                "priority": _priority(element.attrs.get("taskPriority")),
                "properties": dict(element.properties),
                "status": OPEN,
                "created_at": now,
            }
        )
    if new:
        session.connection().execute(_INSERT, new)
