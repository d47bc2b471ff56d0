"""Hand a task to someone else: set its assignee, delegate it and resolve it (Camunda's way).

Every path that gives the task to a user checks that the user may hold it: an active user who
is a candidate of the task and not kept from it by 审贷分离 (four-eyes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.db import utcnow
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor
from app.identity.models import User
from app.instances import variables
from app.instances.models import HistoryEvent
from app.tasks import actions
from app.tasks.models import HumanTask

PENDING = "PENDING"
RESOLVED = "RESOLVED"


def _holder(session: Session, task: HumanTask, user_id: str) -> Actor:
    """The user the task goes to, checked like a claim by that user would be."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise InvalidInputError(
            "unknown user", errors={"userId": f"no active user with id '{user_id}'"}
        )
    target = Actor(user.id, frozenset(user.group_ids))
    offered = user.id in task.candidate_users or target.in_group(*task.candidate_groups)
    if not offered:
        raise PermissionDeniedError(
            f"{user_id} is not a candidate for '{task.name or task.element_id}' "
            f"(candidate groups: {', '.join(task.candidate_groups) or 'none'})",
            code="not_a_candidate",
        )
    actions.check_four_eyes(task, target)
    return target


def _may_hand_over(task: HumanTask, actor: Actor) -> None:
    if task.assignee != actor.user_id and not actor.is_admin:
        raise PermissionDeniedError(
            "only the assignee or an administrator may hand this task to someone else",
            code="not_assignee",
        )


def _swap(session: Session, task: HumanTask, **values: Any) -> None:
    """Compare-and-set on the assignee seen, like claim: a concurrent change wins, not both."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(HumanTask)
        .where(
            HumanTask.id == task.id,
            HumanTask.status == "open",
            HumanTask.assignee.is_(None)
            if task.assignee is None
            else HumanTask.assignee == task.assignee,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        session.refresh(task)
        raise ConflictError(f"task {task.id} changed meanwhile; reload it", code="task_changed")
    for name, value in values.items():
        set_committed_value(task, name, value)


def _history(session: Session, task: HumanTask, kind: str, actor: Actor, **detail: Any) -> None:
    session.add(
        HistoryEvent(
            instance_id=task.instance_id,
            kind=kind,
            element_id=task.element_id,
            element_kind="userTask",
            task_id=task.id,
            user_id=actor.user_id,
            detail=detail,
        )
    )


def _open_task(session: Session, task_id: str) -> HumanTask:
    task = actions.get_task(session, task_id)
    if task.status != "open":
        raise ConflictError(f"task {task_id} is {task.status}", code="task_not_open")
    return task


def set_assignee(session: Session, actor: Actor, task_id: str, user_id: str | None) -> HumanTask:
    """None clears the assignee (unclaim); the caller's own id on a free task is a claim."""
    task = _open_task(session, task_id)
    if user_id is None:
        return actions.unclaim(session, actor, task_id)
    if user_id == task.assignee:
        return task
    if user_id == actor.user_id and task.assignee is None:
        return actions.claim(session, actor, task_id)
    _may_hand_over(task, actor)
    _holder(session, task, user_id)
    previous = task.assignee
    _swap(session, task, assignee=user_id, claimed_at=utcnow())
    _history(session, task, "task_assigned", actor, assignee=user_id, previous=previous)
    return task


def delegate(session: Session, actor: Actor, task_id: str, user_id: str | None) -> HumanTask:
    """The assignee lends the task: owner := assignee, assignee := user, state PENDING."""
    if not user_id:
        raise InvalidInputError("no delegate", errors={"userId": "name the user to delegate to"})
    task = _open_task(session, task_id)
    _may_hand_over(task, actor)
    _holder(session, task, user_id)
    owner = task.owner or task.assignee
    _swap(
        session,
        task,
        assignee=user_id,
        owner=owner,
        delegation_state=PENDING,
        claimed_at=utcnow(),
    )
    _history(session, task, "task_delegated", actor, assignee=user_id, owner=owner)
    return task


def resolve(
    session: Session, actor: Actor, task_id: str, values: Mapping[str, Any] | None = None
) -> HumanTask:
    """The delegate gives the task back to its owner (RESOLVED), optionally with variables."""
    task = _open_task(session, task_id)
    if task.delegation_state != PENDING:
        raise ConflictError(
            f"task {task_id} is not delegated: only a delegated task can be resolved",
            code="task_not_delegated",
        )
    if task.assignee != actor.user_id and not actor.is_admin:
        raise PermissionDeniedError(
            "only the user the task was delegated to may resolve it", code="not_assignee"
        )
    actions.check_four_eyes(task, actor)
    if values:
        variables.set_variables(session, actor, task.instance_id, values, task_id=task.id)
        task = actions.get_task(session, task_id)
    if task.status != "open":
        raise NotFoundError(f"task {task_id} not found")
    owner = task.owner
    _swap(
        session,
        task,
        assignee=owner,
        delegation_state=RESOLVED,
        claimed_at=utcnow() if owner else None,
    )
    _history(session, task, "task_resolved", actor, owner=owner)
    return task
