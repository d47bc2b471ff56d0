"""The customer 360: everything about one customer in one call and a fixed number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.customers import customers
from app.customers.customers import profile
from app.db import utcnow
from app.identity.actor import Actor
from app.instances.models import ProcessInstance
from app.lending import facilities, loans
from app.people import disclosure, people
from app.relations import graph, summaries
from app.servicing import complaints, interactions, signals
from app.tasks.models import HumanTask

# A task due within this is "near due"; complaints and signals get their own margins.
TASK_NEAR = timedelta(hours=24)
COMPLAINT_NEAR = timedelta(days=3)
SIGNAL_NEAR = timedelta(days=1)
RECENT = 10
# Built once: constructing a statement costs more than running it on an index.
_TASKS = (
    select(HumanTask)
    .where(HumanTask.customer_id == bindparam("customer_id"), HumanTask.status == "open")
    .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
    .limit(50)
)
_PROCESSES = (
    select(ProcessInstance)
    .where(
        ProcessInstance.customer_id == bindparam("customer_id"),
        ProcessInstance.status == "running",
    )
    .order_by(ProcessInstance.started_at.desc())
    .limit(50)
)


def overview(
    session: Session, actor: Actor, customer_id: str, *, reveal_reason: str | None = None
) -> dict[str, Any]:
    """The 360 view within the reader's scope; personal numbers masked unless revealed."""
    customer = customers.get(session, actor, customer_id)
    disclosure.check_reason(actor, reveal_reason)
    now = utcnow()
    relations = graph.direct(session, customer.id)
    positions = people.positions_of(session, customer.id)
    owner_views, seen = summaries.beneficial_owners(
        session,
        actor,
        customer.id,
        reason=reveal_reason,
        known={person.id: person for _, person in positions},
        positions=[(p.person_id, p.role) for p, _ in positions],
    )
    facility_rows = facilities.of_customer(session, customer.id)
    loan_rows = loans.of_customer(session, customer.id)
    tasks = list(session.scalars(_TASKS, {"customer_id": customer.id}))
    processes = list(session.scalars(_PROCESSES, {"customer_id": customer.id}))
    complaint_rows = complaints.of_customer(session, customer.id, limit=RECENT)
    signal_rows = signals.of_customer(session, customer.id, limit=RECENT)
    return {
        "profile": profile(session, actor, customer),
        "relationships": relations,
        "group": summaries.group(session, customer.id, relations["group"]),
        "beneficial_owners": owner_views,
        "people": [
            {"role": p.role, "appointed_on": p.appointed_on, "person": seen[p.person_id]}
            for p, _ in positions
        ],
        "facilities": facilities.with_loans(facility_rows, loan_rows),
        "open_tasks": [_task(t) for t in tasks],
        "running_processes": [
            {
                "id": p.id,
                "process_key": p.process_key,
                "business_key": p.business_key,
                "started_at": p.started_at,
                "started_by": p.started_by,
                "active_elements": p.active_elements,
            }
            for p in processes
        ],
        "interactions": interactions.of_customer(session, customer.id, limit=RECENT),
        "complaints": complaint_rows,
        "risk_signals": signal_rows,
        "sla_at_risk": _at_risk(now, tasks, complaint_rows, signal_rows),
    }


def _task(task: HumanTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "element_id": task.element_id,
        "instance_id": task.instance_id,
        "process_key": task.process_key,
        "assignee": task.assignee,
        "priority": task.priority,
        "due_at": task.due_at,
        "breached_at": task.breached_at,
    }


def _state(now: datetime, due: datetime | None, near: timedelta) -> str | None:
    if due is None:
        return None
    if due <= now:
        return "overdue"
    return "due_soon" if due <= now + near else None


def _at_risk(
    now: datetime, tasks: list[HumanTask], complaint_rows: list[Any], signal_rows: list[Any]
) -> list[dict[str, Any]]:
    """Open work past due or close to it: tasks, complaints, unverified signals; soonest first."""
    items: list[dict[str, Any]] = []
    for task in tasks:
        state = "breached" if task.breached_at else _state(now, task.due_at, TASK_NEAR)
        if state:
            items.append({"kind": "task", "id": task.id, "name": task.name,
                          "due_at": task.due_at, "state": state})  # fmt: skip
    for c in complaint_rows:
        state = _state(now, c.due_at, COMPLAINT_NEAR) if c.status == "open" else None
        if state:
            items.append({"kind": "complaint", "id": c.id, "name": c.category,
                          "due_at": c.due_at, "state": state})  # fmt: skip
    for s in signal_rows:
        state = _state(now, s.verify_due, SIGNAL_NEAR) if s.status in ("new", "verifying") else None
        if state:
            items.append({"kind": "risk_signal", "id": s.id, "name": s.headline,
                          "due_at": s.verify_due, "state": state})  # fmt: skip
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(items, key=lambda i: i["due_at"] or far)
