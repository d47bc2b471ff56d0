"""Task-list queries: filters, sorting and paging over the indexed projection only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, object_session, selectinload

from app.customers import scope
from app.customers.models import Customer
from app.errors import InvalidInputError
from app.identity.actor import Actor
from app.tasks import forms
from app.tasks.models import HumanTask, TaskCandidate

SORTS = {"due": HumanTask.due_at, "priority": HumanTask.priority, "created": HumanTask.created_at}


@dataclass(frozen=True)
class TaskFilter:
    assigned_to_me: bool = False
    candidate_for_me: bool = False
    candidate_group: str | None = None
    process_key: str | None = None
    customer_id: str | None = None
    instance_id: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    min_priority: int | None = None
    status: str = "open"
    sort: str = "created"
    order: str = "desc"
    limit: int = 50
    offset: int = 0


def _not_excluded(actor: Actor) -> Any:
    return ~exists().where(
        TaskCandidate.task_id == HumanTask.id,
        TaskCandidate.kind == "excluded",
        TaskCandidate.identity == actor.user_id,
    )


def _candidate_clause(actor: Actor) -> Any:
    groups = exists().where(
        TaskCandidate.task_id == HumanTask.id,
        TaskCandidate.kind == "group",
        TaskCandidate.identity.in_(sorted(actor.groups) or [""]),
    )
    user = exists().where(
        TaskCandidate.task_id == HumanTask.id,
        TaskCandidate.kind == "user",
        TaskCandidate.identity == actor.user_id,
    )
    return or_(groups, user)


def _visible(query: Select[Any], actor: Actor) -> Select[Any]:
    """Staff see tasks they hold or may claim about customers in their scope; administrators
    see all."""
    if actor.is_admin:
        return query
    # A task 审贷分离 keeps from me is not offered to me at all.
    return query.where(
        or_(HumanTask.assignee == actor.user_id, _candidate_clause(actor)),
        _not_excluded(actor),
        scope.customer_filter(actor, HumanTask.customer_id),
    )


def _customer_in_scope(task: HumanTask, actor: Actor) -> bool:
    """Work about a customer follows the customer's scope (an RM does not work on, or see
    the tasks of, another RM's customer)."""
    if task.customer_id is None or scope.sees_everything(actor):
        return True
    session = object_session(task)
    customer = session.get(Customer, task.customer_id) if session is not None else None
    return customer is None or scope.can_see(actor, customer)


def list_tasks(session: Session, actor: Actor, f: TaskFilter) -> tuple[list[HumanTask], int]:
    if f.sort not in SORTS:
        raise InvalidInputError("invalid sort", errors={"sort": f"one of {sorted(SORTS)}"})
    if f.order not in ("asc", "desc"):
        raise InvalidInputError("invalid order", errors={"order": "asc or desc"})
    query = _visible(select(HumanTask), actor)
    if f.status != "all":
        query = query.where(HumanTask.status == f.status)
    if f.assigned_to_me:
        query = query.where(HumanTask.assignee == actor.user_id)
    if f.candidate_for_me:
        # Only what I may really claim: 审贷分离 exclusions are left out.
        query = query.where(
            HumanTask.assignee.is_(None), _candidate_clause(actor), _not_excluded(actor)
        )
    if f.candidate_group:
        query = query.where(
            exists().where(
                TaskCandidate.task_id == HumanTask.id,
                TaskCandidate.kind == "group",
                TaskCandidate.identity == f.candidate_group,
            )
        )
    if f.process_key:
        query = query.where(HumanTask.process_key == f.process_key)
    if f.customer_id:
        query = query.where(HumanTask.customer_id == f.customer_id)
    if f.instance_id:
        query = query.where(HumanTask.instance_id == f.instance_id)
    if f.due_before:
        query = query.where(HumanTask.due_at < f.due_before)
    if f.due_after:
        query = query.where(HumanTask.due_at > f.due_after)
    if f.min_priority is not None:
        query = query.where(HumanTask.priority >= f.min_priority)
    column = SORTS[f.sort]
    ordered = column.asc().nulls_last() if f.order == "asc" else column.desc().nulls_last()
    # The total rides along with the page (a window count) instead of a second query.
    page = session.execute(
        query.add_columns(func.count().over().label("total"))
        .options(selectinload(HumanTask.candidates))
        .order_by(ordered, HumanTask.id)
        .limit(f.limit)
        .offset(f.offset)
    ).all()
    if page:
        return [row[0] for row in page], int(page[0][1])
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return [], total


def is_candidate(task: HumanTask, actor: Actor) -> bool:
    if not _customer_in_scope(task, actor):
        return False
    if task.assignee == actor.user_id:
        return True
    return any(
        (c.kind == "group" and c.identity in actor.groups)
        or (c.kind == "user" and c.identity == actor.user_id)
        for c in task.candidates
    )


def can_see(task: HumanTask, actor: Actor) -> bool:
    """Admins, whoever completed it, and candidates it is offered to (审贷分离 exclusions are
    not offered the task, so they do not see it either — as in the list)."""
    if actor.is_admin:
        return True
    if task.completed_by == actor.user_id:
        return _customer_in_scope(task, actor)
    return is_candidate(task, actor) and actor.user_id not in task.excluded_users


def form_and_variables(
    session: Session, task: HumanTask
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The task's form (typed, with defaults and constraints) and the instance's variables."""
    from app.deployments.definitions import compiled_by_id
    from app.instances.models import ProcessInstance

    instance = session.get(ProcessInstance, task.instance_id)
    if instance is None:
        return [], {}
    variables = dict(instance.variables)
    # The task's own definition: a called process's task has the called definition.
    compiled = compiled_by_id(session, task.definition_id)
    element = compiled.process(task.process_key).elements.get(task.element_id)
    return (forms.describe(element.form, variables) if element else []), variables
