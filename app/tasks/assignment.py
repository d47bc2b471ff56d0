"""From a ready user task to its task-list row: candidates, assignee, due dates, 审贷分离."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import EngineError
from app.instances.models import ProcessInstance
from app.tasks.models import HumanTask
from app.workflow.expression_functions import (
    DateHelper,
    OperationError,
    parse_datetime,
    parse_iso_duration,
)
from app.workflow.expressions import ExpressionError, compile_expression
from app.workflow.model import ElementInfo
from app.workflow.runtime import UserTaskView

# Four-eyes rules are written in the model as camunda:properties, e.g.
#   four_eyes.exclude_initiator = true
#   four_eyes.exclude_performers_of = review_credit,assess_risk
EXCLUDE_INITIATOR = "four_eyes.exclude_initiator"
EXCLUDE_PERFORMERS = "four_eyes.exclude_performers_of"
_SPLIT = re.compile(r"\s*,\s*")


def _evaluate(element: ElementInfo, attr: str, data: Mapping[str, Any]) -> Any:
    source = element.expressions.get(attr)
    if source is None:
        return None
    try:
        return compile_expression(source).evaluate(data)
    except ExpressionError as exc:
        raise EngineError(
            f"element '{element.id}': camunda:{attr} could not be evaluated: {exc}",
            element_id=element.id,
        ) from None


def _identities(value: Any) -> list[str]:
    if value is None:
        return []
    items = _SPLIT.split(value.strip()) if isinstance(value, str) else [str(v) for v in value]
    return sorted({i for i in items if i})


def resolve_date(value: Any, now: datetime, what: str) -> datetime | None:
    """Camunda's due-date rule: a Date, a string starting with P (now + duration) or ISO."""
    if value is None or value == "":
        return None
    if isinstance(value, DateHelper):
        value = value.value
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=now.tzinfo)
    if isinstance(value, str):
        try:
            if value.strip().startswith("P"):
                result: datetime = now + parse_iso_duration(value)
                return result
            return parse_datetime(value)
        except OperationError as exc:
            raise EngineError(f"{what}: {exc}") from None
    raise EngineError(f"{what} does not resolve to a date or a date string")


def excluded_users(session: Session, instance: ProcessInstance, element: ElementInfo) -> list[str]:
    excluded: set[str] = set()
    if element.properties.get(EXCLUDE_INITIATOR, "").lower() == "true" and instance.started_by:
        excluded.add(instance.started_by)
    earlier = _identities(element.properties.get(EXCLUDE_PERFORMERS))
    if earlier:
        session.flush()  # a performer recorded in this very transaction counts too
        performers = session.scalars(
            select(HumanTask.completed_by).where(
                HumanTask.instance_id == instance.id,
                HumanTask.element_id.in_(earlier),
                HumanTask.status == "completed",
            )
        )
        excluded.update(p for p in performers if p)
    return sorted(excluded)


def make_human_task(
    session: Session,
    instance: ProcessInstance,
    element: ElementInfo,
    view: UserTaskView,
    now: datetime,
) -> dict[str, Any]:
    """The human_task row of a ready user task, its task_candidate rows under "candidates"."""
    data = view.data
    priority_value = _evaluate(element, "priority", data)
    try:
        priority = int(priority_value) if priority_value not in (None, "") else 50
    except (TypeError, ValueError):
        raise EngineError(
            f"element '{element.id}': camunda:priority is not a number", element_id=element.id
        ) from None
    assignee = _evaluate(element, "assignee", data)
    due = _evaluate(element, "dueDate", data)
    candidates = (
        [("group", g) for g in _identities(_evaluate(element, "candidateGroups", data))]
        + [("user", u) for u in _identities(_evaluate(element, "candidateUsers", data))]
        + [("excluded", u) for u in excluded_users(session, instance, element)]
    )
    return {
        "id": view.id,
        "instance_id": instance.id,
        "definition_id": instance.definition_id,
        "process_key": instance.process_key,
        "element_id": element.id,
        "name": element.name,
        "documentation": element.documentation,
        "form_key": element.form_key,
        "customer_id": instance.customer_id,
        "business_key": instance.business_key,
        "assignee": str(assignee) if assignee else None,
        "priority": priority,
        "due_at": resolve_date(due, now, f"element '{element.id}': camunda:dueDate"),
        "due_estimated": bool(getattr(due, "estimated", False)),
        "follow_up_at": resolve_date(
            _evaluate(element, "followUpDate", data),
            now,
            f"element '{element.id}': camunda:followUpDate",
        ),
        "status": "open",
        "created_at": now,
        "claimed_at": now if assignee else None,
        "candidates": [
            {"task_id": view.id, "kind": kind, "identity": identity}
            for kind, identity in candidates
        ],
    }
