"""Incidents as Camunda queries them: filters over open incidents, for administrators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import equal_to, one_page
from app.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor
from app.instances.models import Incident, ProcessInstance

SORTS: dict[str, Any] = {
    "incidentId": Incident.id,
    "incidentMessage": Incident.message,
    "incidentTimestamp": Incident.created_at,
    "incidentType": Incident.kind,
    "activityId": Incident.element_id,
    "failedActivityId": Incident.element_id,
    "processInstanceId": Incident.instance_id,
    "executionId": Incident.instance_id,
    "processDefinitionId": ProcessInstance.definition_id,
    "configuration": Incident.task_id,
}


@dataclass(frozen=True)
class IncidentFilter:
    incident_id: str | None = None
    kinds: tuple[str, ...] = ()  # corpflow kinds (failedTimer, failedJob, ...)
    message: str | None = None
    message_like: str | None = None
    instance_id: str | None = None
    definition_id: str | None = None
    process_keys: tuple[str, ...] = ()
    element_id: str | None = None
    task_id: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    sort: str = "incidentTimestamp"
    order: str = "asc"
    limit: int = 1000
    offset: int = 0


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDeniedError("incidents are for administrators")


def query_incidents(
    session: Session, actor: Actor, f: IncidentFilter
) -> tuple[list[tuple[Incident, str]], int]:
    """Open incidents with their instance's definition id, and the total."""
    _admin(actor)
    if f.sort not in SORTS:
        raise InvalidInputError("invalid sort", errors={"sortBy": f"one of {sorted(SORTS)}"})
    query = (
        select(Incident, ProcessInstance.definition_id)
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .where(Incident.resolved_at.is_(None))
    )
    query = equal_to(
        query,
        (
            (Incident.id, f.incident_id),
            (Incident.message, f.message),
            (Incident.instance_id, f.instance_id),
            (ProcessInstance.definition_id, f.definition_id),
            (Incident.element_id, f.element_id),
            (Incident.task_id, f.task_id),
        ),
    )
    if f.kinds:
        query = query.where(Incident.kind.in_(f.kinds))
    if f.message_like:
        query = query.where(Incident.message.like(f.message_like))
    if f.process_keys:
        query = query.where(ProcessInstance.process_key.in_(f.process_keys))
    if f.created_before:
        query = query.where(Incident.created_at < f.created_before)
    if f.created_after:
        query = query.where(Incident.created_at > f.created_after)
    paged, total = one_page(
        session,
        query,
        SORTS[f.sort],
        descending=f.order != "asc",
        tie=Incident.id,
        limit=f.limit,
        offset=f.offset,
    )
    rows = session.execute(paged)
    return [(row[0], row[1]) for row in rows], total


def get_incident(session: Session, actor: Actor, incident_id: str) -> tuple[Incident, str]:
    rows, _total = query_incidents(session, actor, IncidentFilter(incident_id=incident_id))
    if not rows:
        raise NotFoundError(f"No incident found with id '{incident_id}'")
    return rows[0]
