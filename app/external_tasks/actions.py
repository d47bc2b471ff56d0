"""What a worker reports on a locked external task: complete, failure, BPMN error, lock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.external_tasks.access import require_worker
from app.external_tasks.models import COMPLETED, ERRORED, OPEN, ExternalTask
from app.identity.actor import Actor
from app.instances import stepping
from app.instances.models import Incident, ProcessInstance

INCIDENT_KIND = "failedExternalTask"


def _locked(session: Session, task_id: str) -> tuple[ProcessInstance, ExternalTask]:
    """Lock the owning instance first (every writer does), then read the task fresh."""
    instance = stepping.lock_instance_of(session, ExternalTask, task_id)
    task = session.get(ExternalTask, task_id, populate_existing=True)
    if instance is None or task is None or task.status != OPEN:
        raise NotFoundError(f"External task with id {task_id} does not exist")
    return instance, task


def _owned(task: ExternalTask, worker_id: str, doing: str) -> None:
    """Only the worker holding the lock may answer; an expired lock still counts as its own
    until another worker fetches the task."""
    if not worker_id:
        raise InvalidInputError("workerId is required", errors={"workerId": "is required"})
    if task.worker_id != worker_id:
        holder = (
            f"It is locked by worker '{task.worker_id}'." if task.worker_id else "It is not locked."
        )
        raise ConflictError(
            f"External Task {task.id} cannot be {doing} by worker '{worker_id}'. {holder}",
            code="external_task_not_owned",
        )


def complete(
    session: Session,
    actor: Actor,
    task_id: str,
    worker_id: str,
    variables: Mapping[str, Any],
    local_variables: Mapping[str, Any] | None = None,
) -> ExternalTask:
    """The worker's result: variables go to the process, which moves on under its lock."""
    require_worker(actor, "complete external tasks")
    instance, task = _locked(session, task_id)
    _owned(task, worker_id, "completed")
    run = stepping.load(session, instance)
    run.complete_service_task(task.id, dict(variables))
    _close(task, COMPLETED)
    task.local_variables = dict(local_variables or {})
    stepping.history(
        session,
        instance,
        "external_task_completed",
        element_id=task.element_id,
        element_kind="serviceTask",
        task_id=task.id,
        user_id=actor.user_id,
        worker_id=worker_id,
        topic=task.topic,
    )
    stepping.save(session, instance, run)
    return task


def fail(
    session: Session,
    actor: Actor,
    task_id: str,
    worker_id: str,
    *,
    message: str | None,
    details: str | None = None,
    retries: int,
    retry_timeout_ms: int = 0,
) -> ExternalTask:
    """Record a failure. The task is fetchable again after the retry timeout while retries
    remain; at 0 retries an incident is raised and no worker gets it until retries are set."""
    require_worker(actor, "report external task failures")
    errors = {}
    if retries < 0:
        errors["retries"] = "must not be negative"
    if retry_timeout_ms < 0:
        errors["retryTimeout"] = "must not be negative"
    if errors:
        raise InvalidInputError("invalid failure report", errors=errors)
    instance, task = _locked(session, task_id)
    _owned(task, worker_id, "failed")
    task.retries = retries
    task.error_message = message
    task.error_details = details
    # Camunda keeps the worker's lock for the retry timeout: the task waits out the pause.
    task.lock_expires_at = utcnow() + timedelta(milliseconds=retry_timeout_ms)
    stepping.history(
        session,
        instance,
        "external_task_failed",
        element_id=task.element_id,
        task_id=task.id,
        user_id=actor.user_id,
        worker_id=worker_id,
        retries=retries,
        error_message=message,
    )
    if retries == 0:
        _raise_incident(session, task, message or "the external task failed")
    session.flush()
    return task


def bpmn_error(
    session: Session,
    actor: Actor,
    task_id: str,
    worker_id: str,
    *,
    code: str,
    message: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> str | None:
    """Throw BPMN error `code` into the diagram; the catching element id, or None when no
    error boundary event catches it (then an incident names the code and the task waits)."""
    require_worker(actor, "report BPMN errors")
    if not code:
        raise InvalidInputError("errorCode is required", errors={"errorCode": "is required"})
    instance, task = _locked(session, task_id)
    _owned(task, worker_id, "failed with a BPMN error")
    run = stepping.load(session, instance)
    caught = run.throw_bpmn_error(task.id, code, dict(variables or {}))
    stepping.history(
        session,
        instance,
        "bpmn_error_thrown",
        element_id=task.element_id,
        task_id=task.id,
        user_id=actor.user_id,
        worker_id=worker_id,
        error_code=code,
        error_message=message,
        caught_by=caught,
    )
    if caught is None:
        task.retries = 0
        task.error_message = message or f"BPMN error '{code}'"
        _raise_incident(
            session,
            task,
            f"BPMN error '{code}' is not caught by any error boundary event"
            + (f": {message}" if message else ""),
        )
        session.flush()
        return None
    _close(task, ERRORED)
    task.error_message = message
    stepping.save(session, instance, run)
    return caught


def extend_lock(
    session: Session, actor: Actor, task_id: str, worker_id: str, new_duration_ms: int
) -> ExternalTask:
    require_worker(actor, "extend external task locks")
    if new_duration_ms <= 0:
        raise InvalidInputError(
            "invalid lock duration", errors={"newDuration": "must be a positive number of ms"}
        )
    _instance, task = _locked(session, task_id)
    _owned(task, worker_id, "extended")
    now = utcnow()
    if task.lock_expires_at is None or task.lock_expires_at <= now:
        raise ConflictError(
            f"The lock of the External Task {task_id} cannot be extended by worker "
            f"'{worker_id}': the lock has expired",
            code="external_task_not_owned",
        )
    task.lock_expires_at = now + timedelta(milliseconds=new_duration_ms)
    session.flush()
    return task


def unlock(session: Session, actor: Actor, task_id: str) -> ExternalTask:
    """Release the lock whoever holds it: the task is fetchable at once (retries allowing)."""
    require_worker(actor, "unlock external tasks")
    _instance, task = _locked(session, task_id)
    task.worker_id = None
    task.lock_expires_at = None
    session.flush()
    return task


def set_retries(session: Session, actor: Actor, task_id: str, retries: int) -> ExternalTask:
    """An operator's answer to a failed task: retries > 0 resolves its incident, so the task
    is fetchable again (after any retry timeout still running)."""
    require_worker(actor, "set external task retries")
    if retries < 0:
        raise InvalidInputError("invalid retries", errors={"retries": "must not be negative"})
    instance, task = _locked(session, task_id)
    task.retries = retries
    if retries > 0:
        now = utcnow()
        for incident in _open_incidents(session, task.id):
            incident.resolved_at = now
            stepping.history(
                session,
                instance,
                "incident_resolved",
                element_id=task.element_id,
                task_id=task.id,
                user_id=actor.user_id,
                incident=incident.id,
            )
    elif not _open_incidents(session, task.id):
        _raise_incident(session, task, task.error_message or "retries set to 0")
    session.flush()
    return task


def _open_incidents(session: Session, task_id: str) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident).where(
                Incident.task_id == task_id,
                Incident.kind == INCIDENT_KIND,
                Incident.resolved_at.is_(None),
            )
        )
    )


def _raise_incident(session: Session, task: ExternalTask, message: str) -> None:
    stepping.incident(session, task.instance_id, task.element_id, task.id, INCIDENT_KIND, message)


def _close(task: ExternalTask, status: str) -> None:
    task.status = status
    task.ended_at = utcnow()
    task.lock_expires_at = None
