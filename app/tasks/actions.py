"""Claim, unclaim and complete human tasks, with 审贷分离 (four-eyes) enforced."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.db import utcnow
from app.errors import ConflictError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor
from app.instances import projections, stepping
from app.tasks import forms
from app.tasks.models import HumanTask
from app.tasks.queries import is_candidate

_TASK = cast(Table, HumanTask.__table__)
# Compare-and-set updates, built once (bound at execution).
_CLAIM = (
    update(_TASK)
    .where(_TASK.c.id == bindparam("task_key"), _TASK.c.status == "open")
    .where(_TASK.c.assignee.is_(None))
    .values(assignee=bindparam("user"), claimed_at=bindparam("at"))
)
_UNCLAIM = (
    update(_TASK)
    .where(_TASK.c.id == bindparam("task_key"), _TASK.c.status == "open")
    .where(_TASK.c.assignee == bindparam("holder"))
    .values(assignee=None, claimed_at=None)
)


# The task with its candidates, read fresh from the database (after a lock, the locked state).
_TASK_BY_ID = (
    select(HumanTask)
    .options(joinedload(HumanTask.candidates))
    .where(HumanTask.id == bindparam("task_id"))
    .execution_options(populate_existing=True)
)


def get_task(session: Session, task_id: str) -> HumanTask:
    task = session.scalars(_TASK_BY_ID, {"task_id": task_id}).unique().one_or_none()
    if task is None:
        raise NotFoundError(f"task {task_id} not found")
    return task


def check_four_eyes(task: HumanTask, actor: Actor) -> None:
    if actor.user_id not in task.excluded_users:
        return
    raise PermissionDeniedError(
        f"审贷分离 (four-eyes): {actor.user_id} started this application or already performed an "
        f"earlier step of it, and may not perform '{task.name or task.element_id}'",
        code="four_eyes_violation",
    )


def _open(task: HumanTask) -> None:
    if task.status != "open":
        raise ConflictError(f"task {task.id} is {task.status}", code="task_not_open")


def claim(session: Session, actor: Actor, task_id: str) -> HumanTask:
    task = get_task(session, task_id)
    _open(task)
    if not is_candidate(task, actor):
        raise PermissionDeniedError("you are not a candidate for this task", code="not_a_candidate")
    check_four_eyes(task, actor)
    if task.assignee == actor.user_id:
        return task
    # Compare-and-set: of many concurrent claims exactly one updates the row.
    now = utcnow()
    result = session.connection().execute(
        _CLAIM, {"task_key": task_id, "user": actor.user_id, "at": now}
    )
    if not result.rowcount:
        session.refresh(task)
        raise ConflictError(
            f"task {task_id} is already claimed by {task.assignee}", code="task_already_claimed"
        )
    # The row changed behind the ORM's back: mirror the update without issuing another one.
    set_committed_value(task, "assignee", actor.user_id)
    set_committed_value(task, "claimed_at", now)
    _history(session, task, "task_claimed", actor)
    return task


def unclaim(session: Session, actor: Actor, task_id: str) -> HumanTask:
    task = get_task(session, task_id)
    _open(task)
    if task.assignee is None:
        return task
    if task.assignee != actor.user_id and not actor.is_admin:
        raise PermissionDeniedError(
            "only the assignee or an administrator may unclaim this task", code="not_assignee"
        )
    # Compare-and-set, like claim: a completion or another unclaim may have got there first.
    result = session.connection().execute(_UNCLAIM, {"task_key": task_id, "holder": task.assignee})
    if not result.rowcount:
        session.refresh(task)
        raise ConflictError(f"task {task_id} changed meanwhile; reload it", code="task_changed")
    set_committed_value(task, "assignee", None)
    set_committed_value(task, "claimed_at", None)
    _history(session, task, "task_unclaimed", actor)
    return task


def complete(
    session: Session,
    actor: Actor,
    task_id: str,
    values: Mapping[str, Any],
    *,
    keep_existing: bool = False,
) -> HumanTask:
    """Validate the values against the task's form and complete it.

    `keep_existing`: Camunda's submit-form rule, a required field is satisfied by a variable
    that already has a value (a delegate's resolve may have set it).
    """
    # Lock the instance first, then re-read the task: a second completion waits and then sees
    # the task closed instead of stepping the same state twice.
    instance = stepping.lock_instance_of(session, HumanTask, task_id)
    if instance is None:
        raise NotFoundError(f"task {task_id} not found")
    task = get_task(session, task_id)
    _open(task)
    if task.delegation_state == "PENDING":
        raise ConflictError(
            "A delegated task cannot be completed, but should be resolved instead.",
            code="task_delegated",
        )
    if task.assignee != actor.user_id:
        raise PermissionDeniedError(
            "only the assignee may complete this task; claim it first"
            if task.assignee is None
            else f"task {task_id} is assigned to {task.assignee}",
            code="not_assignee",
        )
    check_four_eyes(task, actor)
    run = stepping.load(session, instance)
    element = run.element(task.id)
    if element.form_key and not element.form:
        # An embedded or external form (formKey, no camunda:formData) declares its fields
        # outside the model: its variables are taken as submitted, as Camunda does.
        typed = dict(values)
    else:
        typed = forms.validate(
            element.form, values, instance.variables, keep_existing=keep_existing
        )
    now = utcnow()
    run.complete_user_task(task.id, typed)
    projections.update_row(
        session, task, status="completed", completed_at=now, completed_by=actor.user_id
    )
    completed = stepping.event(
        instance.id,
        "task_completed",
        element_id=task.element_id,
        element_kind="userTask",
        task_id=task.id,
        user_id=actor.user_id,
        at=now,
        fields=sorted(typed),
    )
    stepping.save(session, instance, run, events=[completed])
    return task


def _history(session: Session, task: HumanTask, kind: str, actor: Actor) -> None:
    event = projections.event(
        task.instance_id,
        kind,
        element_id=task.element_id,
        element_kind="userTask",
        task_id=task.id,
        user_id=actor.user_id,
    )
    projections.write_events(session, [event])
