"""Incidents: what failed (a timer step, a service job), and an operator's retry."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import ConflictError, NotFoundError, PermissionDeniedError
from app.external_tasks.models import ExternalTask
from app.identity.actor import Actor
from app.instances import called, stepping
from app.instances.models import Incident, ServiceJob, Timer
from app.queue import enqueue_after_commit


def list_incidents(
    session: Session,
    actor: Actor,
    *,
    open_only: bool = True,
    instance_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Incident], int]:
    if not actor.is_admin:
        raise PermissionDeniedError("incidents are for administrators")
    query = select(Incident)
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    if instance_id:
        query = query.where(Incident.instance_id == instance_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Incident.created_at.desc(), Incident.id).limit(limit).offset(offset)
    )
    return list(rows), total


def retry(session: Session, actor: Actor, incident_id: str) -> Incident:
    """Try the failed work again (after the model or data was fixed) and close the incident."""
    if not actor.is_admin:
        raise PermissionDeniedError("incidents are for administrators")
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFoundError(f"incident {incident_id} not found")
    if incident.resolved_at is not None:
        raise ConflictError(f"incident {incident_id} is already resolved", code="incident_resolved")
    instance = stepping.lock_instance(session, incident.instance_id)
    if incident.kind == "failedTimer" and incident.task_id:
        timer = session.get(Timer, incident.task_id)
        if timer is None or timer.status != "failed":
            raise ConflictError("the timer is no longer parked", code="incident_stale")
        run = stepping.load(session, instance)
        run.unpark_timer(timer.id)
        timer.status = "pending"
        timer.enqueued_at = None
        stepping.save(session, instance, run)  # its due time is now: the dispatcher fires it
    elif incident.kind == "failedJob" and incident.task_id:
        job = session.get(ServiceJob, incident.task_id)
        if job is None or job.status != "failed":
            raise ConflictError("the service job is no longer failed", code="incident_stale")
        job.status = "pending"
        job.attempts = 0
        enqueue_after_commit(session, "run_service_task", job.id)
    elif incident.kind == "failedExternalTask" and incident.task_id:
        external = session.get(ExternalTask, incident.task_id)
        if external is None or external.status != "open":
            raise ConflictError("the external task is no longer open", code="incident_stale")
        external.retries = 1  # Camunda's "set retries": workers may fetch it again
    elif incident.kind == called.INCIDENT_KIND:
        called.retry_blocked_call(session, instance)
    else:
        raise ConflictError(f"incidents of kind {incident.kind} cannot be retried")
    incident.resolved_at = utcnow()
    stepping.history(
        session,
        instance,
        "incident_retried",
        element_id=incident.element_id,
        task_id=incident.task_id,
        user_id=actor.user_id,
        incident=incident.id,
    )
    session.flush()
    return incident
