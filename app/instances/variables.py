"""Change the variables of a running instance: directly (administrators) or through a task."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor
from app.instances import stepping
from app.instances.models import ProcessInstance
from app.tasks.models import HumanTask

# Projected onto the instance row at start; changing it afterwards would split the two.
FIXED = frozenset({"customer_id"})
MAX_NAME = 200


def _check_names(values: Mapping[str, Any], deletions: Sequence[str]) -> None:
    errors: dict[str, str] = {}
    for name in [*values, *deletions]:
        if not name or len(name) > MAX_NAME:
            errors[name or "(empty)"] = f"a variable name has 1 to {MAX_NAME} characters"
        elif name in FIXED:
            errors[name] = "is fixed when the instance starts and cannot be changed"
    overlap = sorted(set(values) & set(deletions))
    for name in overlap:
        errors[name] = "is both modified and deleted in one request"
    if errors:
        raise InvalidInputError("variables cannot be changed", errors=errors)


def _check_task(session: Session, actor: Actor, instance_id: str, task_id: str) -> None:
    task = session.get(HumanTask, task_id)
    if task is None or task.instance_id != instance_id or task.status != "open":
        raise NotFoundError(f"task {task_id} not found or not open")
    if actor.user_id in task.excluded_users:
        raise PermissionDeniedError(
            f"审贷分离 (four-eyes): {actor.user_id} may not act on "
            f"'{task.name or task.element_id}'",
            code="four_eyes_violation",
        )
    if task.assignee != actor.user_id and not actor.is_admin:
        raise PermissionDeniedError(
            "only the assignee of the task may change its variables; claim it first",
            code="not_assignee",
        )


def set_variables(
    session: Session,
    actor: Actor,
    instance_id: str,
    values: Mapping[str, Any],
    deletions: Sequence[str] = (),
    *,
    task_id: str | None = None,
) -> ProcessInstance:
    """Write `values` and remove `deletions` (unknown names are ignored, as in Camunda).

    Through a task (`task_id`) its assignee may write; otherwise only administrators may, so
    a starter cannot rewrite an application under review (审贷分离). Form validation is not
    run: that is what completing or submitting the task does.
    """
    _check_names(values, deletions)
    try:
        instance = stepping.lock_instance(session, instance_id)
    except NotFoundError:
        raise NotFoundError(f"process instance {instance_id} not found") from None
    if task_id is not None:
        _check_task(session, actor, instance_id, task_id)
    elif not actor.is_admin:
        raise PermissionDeniedError(
            "only administrators may change process variables directly; the assignee of a "
            "task may change them through the task",
            code="not_allowed_to_change_variables",
        )
    if instance.status != "running":
        raise ConflictError(
            f"process instance {instance_id} is {instance.status}: its variables are history",
            code="instance_not_running",
        )
    if not values and not deletions:
        return instance
    run = stepping.load(session, instance)
    run.set_variables(values, deletions)
    stepping.history(
        session,
        instance,
        "variables_changed",
        task_id=task_id,
        user_id=actor.user_id,
        modified=sorted(values),
        deleted=sorted(deletions),
    )
    stepping.save(session, instance, run)
    return instance
