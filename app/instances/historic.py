"""Historic process instances and activity instances, built from instances and history events.

Visibility follows the instance list: administrators see every instance, other staff the
instances they started or acted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from app.db import one_page
from app.deployments.definitions import compiled_by_id
from app.deployments.models import ProcessDefinition
from app.errors import InvalidInputError
from app.identity.actor import Actor
from app.instances.lifecycle import involved_clause
from app.instances.models import HistoryEvent, Incident, ProcessInstance, ServiceJob, Timer
from app.tasks.models import HumanTask

# Camunda's historic states for corpflow's instance statuses.
STATES = {"running": "ACTIVE", "completed": "COMPLETED", "cancelled": "EXTERNALLY_TERMINATED"}
INSTANCE_SORTS = {
    "instanceId": ProcessInstance.id,
    "definitionId": ProcessInstance.definition_id,
    "definitionKey": ProcessInstance.process_key,
    "definitionName": ProcessDefinition.name,
    "definitionVersion": ProcessDefinition.version,
    "businessKey": ProcessInstance.business_key,
    "startTime": ProcessInstance.started_at,
    "endTime": ProcessInstance.ended_at,
    "duration": ProcessInstance.ended_at - ProcessInstance.started_at,
}
# Activity instances are assembled in memory from at most this many instances' events.
SCAN_INSTANCES = 1000


@dataclass(frozen=True)
class InstanceFilter:
    instance_ids: tuple[str, ...] = ()
    definition_id: str | None = None
    process_keys: tuple[str, ...] = ()
    business_key: str | None = None
    business_key_like: str | None = None
    finished: bool | None = None  # True: ended; False: still running
    states: tuple[str, ...] = ()  # Camunda states (ACTIVE, COMPLETED, EXTERNALLY_TERMINATED)
    started_before: datetime | None = None
    started_after: datetime | None = None
    finished_before: datetime | None = None
    finished_after: datetime | None = None
    started_by: str | None = None
    with_incidents: bool = False
    sort: str = "startTime"
    order: str = "asc"
    limit: int = 1000
    offset: int = 0


@dataclass(frozen=True)
class HistoricInstance:
    instance: ProcessInstance
    definition_name: str | None
    definition_version: int
    state: str
    start_activity_id: str | None
    delete_reason: str | None


def _instances(actor: Actor, f: InstanceFilter) -> Select[Any]:
    columns: tuple[Any, ...] = (ProcessInstance, ProcessDefinition.name, ProcessDefinition.version)
    query: Select[Any] = select(*columns).join(
        ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id
    )
    involved = involved_clause(actor)
    if involved is not None:
        query = query.where(involved)
    if f.instance_ids:
        query = query.where(ProcessInstance.id.in_(f.instance_ids))
    if f.definition_id:
        query = query.where(ProcessInstance.definition_id == f.definition_id)
    if f.process_keys:
        query = query.where(ProcessInstance.process_key.in_(f.process_keys))
    if f.business_key:
        query = query.where(ProcessInstance.business_key == f.business_key)
    if f.business_key_like:
        query = query.where(ProcessInstance.business_key.like(f.business_key_like))
    if f.finished is not None:
        running = ProcessInstance.status == "running"
        query = query.where(~running if f.finished else running)
    if f.states:
        statuses = [status for status, state in STATES.items() if state in f.states]
        query = query.where(ProcessInstance.status.in_(statuses or [""]))
    if f.started_before:
        query = query.where(ProcessInstance.started_at < f.started_before)
    if f.started_after:
        query = query.where(ProcessInstance.started_at > f.started_after)
    if f.finished_before:
        query = query.where(ProcessInstance.ended_at < f.finished_before)
    if f.finished_after:
        query = query.where(ProcessInstance.ended_at > f.finished_after)
    if f.started_by:
        query = query.where(ProcessInstance.started_by == f.started_by)
    if f.with_incidents:
        query = query.where(
            exists().where(
                Incident.instance_id == ProcessInstance.id, Incident.resolved_at.is_(None)
            )
        )
    return query


def historic_instances(
    session: Session, actor: Actor, f: InstanceFilter
) -> tuple[list[HistoricInstance], int]:
    if f.sort not in INSTANCE_SORTS:
        raise InvalidInputError(
            "invalid sort", errors={"sortBy": f"one of {sorted(INSTANCE_SORTS)}"}
        )
    query = _instances(actor, f)
    paged, total = one_page(
        session,
        query,
        INSTANCE_SORTS[f.sort],
        descending=f.order != "asc",
        tie=ProcessInstance.id,
        limit=f.limit,
        offset=f.offset,
        nulls_last=True,
    )
    rows = session.execute(paged).all()
    ids = [row[0].id for row in rows]
    starts: dict[str, str | None] = {}
    reasons: dict[str, str | None] = {}
    if ids:
        events = session.scalars(
            select(HistoryEvent)
            .where(
                HistoryEvent.instance_id.in_(ids),
                (HistoryEvent.element_kind == "startEvent")
                | (HistoryEvent.kind == "instance_cancelled"),
            )
            .order_by(HistoryEvent.at, HistoryEvent.id)
        )
        for event in events:
            if event.kind == "instance_cancelled":
                reasons[event.instance_id] = event.detail.get("reason")
            else:
                starts.setdefault(event.instance_id, event.element_id)
    found = [
        HistoricInstance(
            instance=row[0],
            definition_name=row[1],
            definition_version=row[2],
            state=STATES.get(row[0].status, row[0].status.upper()),
            start_activity_id=starts.get(row[0].id),
            delete_reason=reasons.get(row[0].id) if row[0].status == "cancelled" else None,
        )
        for row in rows
    ]
    return found, total


@dataclass
class ActivityInstance:
    id: str
    activity_id: str
    activity_name: str | None
    activity_type: str
    instance_id: str
    definition_id: str
    process_key: str
    start: datetime
    end: datetime | None = None
    task_id: str | None = None
    assignee: str | None = None
    canceled: bool = False
    occurrence: int = 0


@dataclass(frozen=True)
class ActivityFilter:
    instance: InstanceFilter = field(default_factory=InstanceFilter)
    activity_instance_id: str | None = None
    activity_id: str | None = None
    activity_name: str | None = None
    activity_type: str | None = None
    task_assignee: str | None = None
    finished: bool | None = None
    canceled: bool | None = None
    started_before: datetime | None = None
    started_after: datetime | None = None
    finished_before: datetime | None = None
    finished_after: datetime | None = None


def _matches(item: ActivityInstance, f: ActivityFilter) -> bool:
    checks = (
        f.activity_instance_id in (None, item.id),
        f.activity_id in (None, item.activity_id),
        f.activity_name in (None, item.activity_name),
        f.activity_type in (None, item.activity_type),
        f.task_assignee in (None, item.assignee),
        f.finished is None or f.finished == (item.end is not None),
        f.canceled is None or f.canceled == item.canceled,
        f.started_before is None or item.start < f.started_before,
        f.started_after is None or item.start > f.started_after,
        f.finished_before is None or (item.end is not None and item.end < f.finished_before),
        f.finished_after is None or (item.end is not None and item.end > f.finished_after),
    )
    return all(checks)


def activity_instances(session: Session, actor: Actor, f: ActivityFilter) -> list[ActivityInstance]:
    """Every activity of the matching instances, oldest first, filtered (not paged).

    User tasks run from `task_created` to `task_completed`/`task_cancelled`; other activities
    are recorded when they complete, and a service job's or timer's row gives when they began
    (a job or timer still waiting is an activity still running). A boundary timer that has not
    fired is no activity yet, as in Camunda.
    """
    scope = InstanceFilter(**{**f.instance.__dict__, "limit": SCAN_INSTANCES, "offset": 0})
    instances = {row[0].id: row[0] for row in session.execute(_instances(actor, scope))}
    if not instances:
        return []
    ids = list(instances)
    began: dict[str, datetime] = {}
    waiting: list[tuple[str, str, str, datetime]] = []  # (instance, element, engine task, since)
    for model in (ServiceJob, Timer):
        rows = session.execute(
            select(
                model.id, model.instance_id, model.element_id, model.status, model.created_at
            ).where(model.instance_id.in_(ids))
        )
        for engine_id, instance_id, element_id, status, created_at in rows:
            began[engine_id] = created_at
            if status in ("pending", "failed"):
                waiting.append((instance_id, element_id, engine_id, created_at))
    tasks = {
        t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids)))
    }
    events = session.scalars(
        select(HistoryEvent)
        .where(
            HistoryEvent.instance_id.in_(ids),
            HistoryEvent.kind.in_(
                ["task_created", "task_completed", "task_cancelled", "activity_completed"]
            ),
        )
        .order_by(HistoryEvent.at, HistoryEvent.id)
    )
    items: dict[str, ActivityInstance] = {}

    def add(instance_id: str, element_id: str, engine_id: str, start: datetime) -> ActivityInstance:
        instance = instances[instance_id]
        element = (
            compiled_by_id(session, instance.definition_id)
            .process(instance.process_key)
            .elements.get(element_id)
        )
        item = ActivityInstance(
            id=f"{element_id}:{engine_id}",
            activity_id=element_id,
            activity_name=element.name if element else None,
            activity_type=element.kind if element else "unknown",
            instance_id=instance_id,
            definition_id=instance.definition_id,
            process_key=instance.process_key,
            start=start,
            occurrence=len(items),
        )
        return items.setdefault(item.id, item)

    for event in events:
        if not event.element_id or not event.task_id:
            continue
        if event.kind == "task_created":
            item = add(event.instance_id, event.element_id, event.task_id, event.at)
            item.task_id = event.task_id
            task = tasks.get(event.task_id)
            item.assignee = task.assignee if task else None
        elif event.kind in ("task_completed", "task_cancelled"):
            item = add(event.instance_id, event.element_id, event.task_id, event.at)
            item.end = event.at
            item.canceled = event.kind == "task_cancelled"
        else:
            start = began.get(event.task_id, event.at)
            item = add(event.instance_id, event.element_id, event.task_id, start)
            item.end = event.at
    for instance_id, element_id, engine_id, since in waiting:
        item = add(instance_id, element_id, engine_id, since)
        if item.activity_type == "boundaryEvent" and item.end is None:
            del items[item.id]
    return [item for item in items.values() if _matches(item, f)]
