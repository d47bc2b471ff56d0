"""Historic tasks: every task row, open or finished, filtered the way Camunda's history does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from app.db import equal_to, one_page
from app.errors import InvalidInputError
from app.identity.actor import Actor
from app.instances.lifecycle import involved_clause
from app.instances.models import HistoryEvent, ProcessInstance
from app.tasks.models import HumanTask, TaskCandidate

SORTS: dict[str, Any] = {
    "taskId": HumanTask.id,
    "activityInstanceId": HumanTask.id,
    "processDefinitionId": HumanTask.definition_id,
    "processInstanceId": HumanTask.instance_id,
    "executionId": HumanTask.instance_id,
    "duration": HumanTask.completed_at - HumanTask.created_at,
    "endTime": HumanTask.completed_at,
    "startTime": HumanTask.created_at,
    "taskName": HumanTask.name,
    "taskDescription": HumanTask.documentation,
    "assignee": HumanTask.assignee,
    "owner": HumanTask.owner,
    "dueDate": HumanTask.due_at,
    "followUpDate": HumanTask.follow_up_at,
    "deleteReason": HumanTask.status,
    "taskDefinitionKey": HumanTask.element_id,
    "priority": HumanTask.priority,
}


@dataclass(frozen=True)
class TaskHistoryFilter:
    task_id: str | None = None
    instance_id: str | None = None
    business_key: str | None = None
    definition_id: str | None = None
    process_key: str | None = None
    definition_key: str | None = None  # the task's element id
    name: str | None = None
    name_like: str | None = None
    assignee: str | None = None
    assignee_like: str | None = None
    owner: str | None = None
    finished: bool | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    had_candidate_group: str | None = None
    had_candidate_user: str | None = None
    involved_user: str | None = None
    sort: str = "startTime"
    order: str = "asc"
    limit: int = 1000
    offset: int = 0


def historic_tasks(
    session: Session, actor: Actor, f: TaskHistoryFilter
) -> tuple[list[HumanTask], int]:
    if f.sort not in SORTS:
        raise InvalidInputError("invalid sort", errors={"sortBy": f"one of {sorted(SORTS)}"})
    query = select(HumanTask)
    involved = involved_clause(actor)
    if involved is not None:
        visible = select(ProcessInstance.id).where(involved)
        query = query.where(
            HumanTask.instance_id.in_(visible)
            | (HumanTask.assignee == actor.user_id)
            | (HumanTask.completed_by == actor.user_id)
        )
    query = equal_to(
        query,
        (
            (HumanTask.id, f.task_id),
            (HumanTask.instance_id, f.instance_id),
            (HumanTask.business_key, f.business_key),
            (HumanTask.definition_id, f.definition_id),
            (HumanTask.process_key, f.process_key),
            (HumanTask.element_id, f.definition_key),
            (HumanTask.name, f.name),
            (HumanTask.assignee, f.assignee),
            (HumanTask.owner, f.owner),
        ),
    )
    if f.name_like:
        query = query.where(HumanTask.name.like(f.name_like))
    if f.assignee_like:
        query = query.where(HumanTask.assignee.like(f.assignee_like))
    if f.finished is not None:
        is_open = HumanTask.status == "open"
        query = query.where(~is_open if f.finished else is_open)
    if f.due_before:
        query = query.where(HumanTask.due_at < f.due_before)
    if f.due_after:
        query = query.where(HumanTask.due_at > f.due_after)
    for kind, identity in (("group", f.had_candidate_group), ("user", f.had_candidate_user)):
        if identity:
            query = query.where(
                exists().where(
                    TaskCandidate.task_id == HumanTask.id,
                    TaskCandidate.kind == kind,
                    TaskCandidate.identity == identity,
                )
            )
    if f.involved_user:
        acted = select(HistoryEvent.task_id).where(HistoryEvent.user_id == f.involved_user)
        query = query.where(
            (HumanTask.assignee == f.involved_user)
            | (HumanTask.owner == f.involved_user)
            | HumanTask.id.in_(acted)
        )
    paged, total = one_page(
        session,
        query,
        SORTS[f.sort],
        descending=f.order != "asc",
        tie=HumanTask.id,
        limit=f.limit,
        offset=f.offset,
        nulls_last=True,
    )
    return list(session.scalars(paged.options(selectinload(HumanTask.candidates)))), total
