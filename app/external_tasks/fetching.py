"""Fetch-and-lock: hand open external tasks to one worker each, for a lock duration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import InvalidInputError
from app.external_tasks.access import require_worker
from app.external_tasks.models import OPEN, ExternalTask
from app.identity.actor import Actor
from app.instances.models import ProcessInstance

MAX_TASKS = 1000


@dataclass(frozen=True)
class TopicRequest:
    """One entry of `topics`: the topic, its lock duration and optional filters."""

    name: str
    lock_ms: int
    # Variable names to return; None returns all of them.
    variables: Sequence[str] | None = None
    business_key: str | None = None
    process_keys: Sequence[str] = ()
    definition_ids: Sequence[str] = ()
    # Equality filter on process variables.
    process_variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchRequest:
    worker_id: str
    max_tasks: int
    topics: Sequence[TopicRequest]
    use_priority: bool = False


@dataclass(frozen=True)
class LockedTask:
    task: ExternalTask
    variables: dict[str, Any]


def validate(request: FetchRequest) -> None:
    errors: dict[str, str] = {}
    if not request.worker_id:
        errors["workerId"] = "is required"
    if not 0 <= request.max_tasks <= MAX_TASKS:
        errors["maxTasks"] = f"must be between 0 and {MAX_TASKS}"
    for i, topic in enumerate(request.topics):
        if not topic.name:
            errors[f"topics[{i}].topicName"] = "is required"
        if topic.lock_ms <= 0:
            errors[f"topics[{i}].lockDuration"] = "must be a positive number of milliseconds"
    if errors:
        raise InvalidInputError("invalid fetch-and-lock request", errors=errors)


def _fetchable(now: datetime) -> ColumnElement[bool]:
    return and_(
        ExternalTask.status == OPEN,
        or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0),
        or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now),
    )


def _topic_filter(topic: TopicRequest) -> ColumnElement[bool]:
    conditions = [ExternalTask.topic == topic.name]
    if topic.business_key is not None:
        conditions.append(ExternalTask.business_key == topic.business_key)
    if topic.process_keys:
        conditions.append(ExternalTask.process_key.in_(list(topic.process_keys)))
    if topic.definition_ids:
        conditions.append(ExternalTask.definition_id.in_(list(topic.definition_ids)))
    return and_(*conditions)


def has_work(session: Session, topics: Sequence[TopicRequest]) -> bool:
    """A cheap, lock-free probe for long polling: is any task of these topics fetchable?"""
    if not topics:
        return False
    probe = select(exists().where(_fetchable(utcnow()), or_(*(_topic_filter(t) for t in topics))))
    return bool(session.scalar(probe))


def fetch_and_lock(session: Session, actor: Actor, request: FetchRequest) -> list[LockedTask]:
    """Lock up to `max_tasks` fetchable tasks for the worker; none is ever given to two.

    `FOR UPDATE SKIP LOCKED` lets concurrent workers pass over each other's candidates
    (SQLite serializes writers instead). An expired lock is fetchable again.
    """
    require_worker(actor, "fetch external tasks")
    validate(request)
    if request.max_tasks == 0 or not request.topics:
        return []
    now = utcnow()
    by_name = {t.name: t for t in request.topics}
    order: list[Any] = [ExternalTask.created_at, ExternalTask.id]
    if request.use_priority:
        order.insert(0, ExternalTask.priority.desc())
    filtered = any(t.process_variables for t in request.topics)
    # With a process-variable filter some candidates are dropped after locking: read more.
    limit = request.max_tasks * (5 if filtered else 1)
    rows = list(
        session.scalars(
            select(ExternalTask)
            .where(_fetchable(now), or_(*(_topic_filter(t) for t in request.topics)))
            .order_by(*order)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    instances = _instances(session, {row.instance_id for row in rows})
    locked: list[LockedTask] = []
    for row in rows:
        topic = by_name[row.topic]
        instance = instances.get(row.instance_id)
        values: dict[str, Any] = dict(instance.variables) if instance is not None else {}
        if any(values.get(k) != v for k, v in topic.process_variables.items()):
            continue
        row.worker_id = request.worker_id
        row.lock_expires_at = now + timedelta(milliseconds=topic.lock_ms)
        if topic.variables is not None:
            values = {k: values[k] for k in topic.variables if k in values}
        locked.append(LockedTask(row, values))
        if len(locked) == request.max_tasks:
            break
    session.flush()
    return locked


def _instances(session: Session, ids: set[str]) -> dict[str, ProcessInstance]:
    if not ids:
        return {}
    rows = session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(ids)))
    return {row.id: row for row in rows}
