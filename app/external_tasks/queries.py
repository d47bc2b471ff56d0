"""Reading external tasks: the open ones, filtered, sorted and paged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.db import equal_to, one_page, utcnow
from app.errors import InvalidInputError, NotFoundError
from app.external_tasks.access import require_worker
from app.external_tasks.models import OPEN, ExternalTask
from app.identity.actor import Actor

SORTS = {
    "id": ExternalTask.id,
    "lockExpirationTime": ExternalTask.lock_expires_at,
    "processInstanceId": ExternalTask.instance_id,
    "processDefinitionId": ExternalTask.definition_id,
    "processDefinitionKey": ExternalTask.process_key,
    "taskPriority": ExternalTask.priority,
    "createTime": ExternalTask.created_at,
}


@dataclass(frozen=True)
class ExternalTaskFilter:
    task_id: str | None = None
    topic: str | None = None
    worker_id: str | None = None
    instance_id: str | None = None
    element_id: str | None = None
    process_key: str | None = None
    definition_id: str | None = None
    business_key: str | None = None
    locked: bool | None = None
    with_retries_left: bool | None = None
    sort: str = "createTime"
    descending: bool = False
    limit: int = 1000
    offset: int = 0


def _query(task_filter: ExternalTaskFilter) -> Select[ExternalTask]:
    query = select(ExternalTask).where(ExternalTask.status == OPEN)
    query = equal_to(
        query,
        (
            (ExternalTask.id, task_filter.task_id),
            (ExternalTask.topic, task_filter.topic),
            (ExternalTask.worker_id, task_filter.worker_id),
            (ExternalTask.instance_id, task_filter.instance_id),
            (ExternalTask.element_id, task_filter.element_id),
            (ExternalTask.process_key, task_filter.process_key),
            (ExternalTask.definition_id, task_filter.definition_id),
            (ExternalTask.business_key, task_filter.business_key),
        ),
    )
    now = utcnow()
    if task_filter.locked is True:
        query = query.where(ExternalTask.lock_expires_at > now)
    elif task_filter.locked is False:
        query = query.where(
            or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now)
        )
    if task_filter.with_retries_left is True:
        query = query.where(or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0))
    elif task_filter.with_retries_left is False:
        query = query.where(ExternalTask.retries == 0)
    return query


def list_tasks(
    session: Session, actor: Actor, task_filter: ExternalTaskFilter
) -> tuple[list[ExternalTask], int]:
    require_worker(actor, "read external tasks")
    if task_filter.sort not in SORTS:
        raise InvalidInputError(
            "unknown sort", errors={"sortBy": f"must be one of {', '.join(sorted(SORTS))}"}
        )
    query = _query(task_filter)
    paged, total = one_page(
        session,
        query,
        SORTS[task_filter.sort],
        descending=task_filter.descending,
        tie=ExternalTask.id,
        limit=task_filter.limit,
        offset=task_filter.offset,
    )
    return list(session.scalars(paged)), total


def get_task(session: Session, actor: Actor, task_id: str) -> ExternalTask:
    require_worker(actor, "read external tasks")
    task = session.get(ExternalTask, task_id)
    if task is None or task.status != OPEN:
        raise NotFoundError(f"External task with id {task_id} does not exist")
    return task
