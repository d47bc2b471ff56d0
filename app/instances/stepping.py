"""Load → step → save under a row lock, rewriting every projection in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.context import current
from app.db import utcnow
from app.deployments.definitions import compiled_by_id, decision_resolver
from app.errors import NotFoundError
from app.external_tasks import projection as external_task_projection
from app.instances import called
from app.instances.models import HistoryEvent, Incident, ProcessInstance, ServiceJob, Timer
from app.messages import projection as message_projection
from app.queue import enqueue_after_commit
from app.tasks.assignment import make_human_task
from app.tasks.models import HumanTask
from app.workdays.store import refresh_if_stale
from app.workflow.runtime import Run
from handlers import registry as handler_registry


def lock_instance(session: Session, instance_id: str | Any) -> ProcessInstance:
    """Row-lock the instance: two requests on one instance are serialized, never lost.

    `instance_id` may be a scalar subquery (the instance of a task), saving a round trip.
    """
    instance = session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if instance is None:
        raise NotFoundError("process instance not found")
    return instance


def lock_instance_of(session: Session, model: Any, row_id: str) -> ProcessInstance | None:
    """Lock the instance owning a row (timer, service job) by that row's id; None if gone.

    Every writer locks the instance first and reads its rows after, so the row is fresh.
    """
    owner = select(model.instance_id).where(model.id == row_id).scalar_subquery()
    try:
        return lock_instance(session, owner)
    except NotFoundError:
        return None


def refresh_calendar(session: Session) -> None:
    """Working-day due dates use this process's copy of the bank's calendar: keep it fresh."""
    refresh_if_stale(session, current().settings.timezone)


def load(session: Session, instance: ProcessInstance) -> Run:
    refresh_calendar(session)
    compiled = compiled_by_id(session, instance.definition_id)
    return Run.restore(
        compiled,
        instance.process_key,
        instance.state,
        decision_resolver(session),
        called=called.called_resolver(session, instance.definition_id),
    )


def history(
    session: Session,
    instance: ProcessInstance,
    kind: str,
    *,
    element_id: str | None = None,
    element_kind: str | None = None,
    task_id: str | None = None,
    user_id: str | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    session.add(
        HistoryEvent(
            instance_id=instance.id,
            kind=kind,
            element_id=element_id,
            element_kind=element_kind,
            task_id=task_id,
            user_id=user_id,
            at=at or utcnow(),
            detail=detail,
        )
    )


def save(session: Session, instance: ProcessInstance, run: Run, *, new: bool = False) -> None:
    """Write state and rewrite human tasks, timers, service jobs and history from the run.

    `new` says the instance has no rows yet, so there are no earlier projections to compare.
    """
    now = utcnow()
    instance.state = run.state()
    instance.variables = run.variables
    instance.active_elements = run.active_element_ids()
    instance.version += 1
    if new:
        # Rows below refer to the instance; the unit of work does not order inserts by foreign
        # keys alone, so the instance goes first, already carrying its state (no second write).
        session.add(instance)
        session.flush()
    for record in run.completed:
        if record.kind != "userTask":
            history(
                session,
                instance,
                "activity_completed",
                element_id=record.element_id,
                element_kind=record.kind,
                task_id=record.task_id,
                at=now,
            )
    if run.is_completed and instance.status == "running":
        instance.status = "completed"
        instance.ended_at = now
        ends = [r.element_id for r in run.completed if r.kind == "endEvent"]
        instance.end_element = ends[-1] if ends else None
        history(session, instance, "instance_completed", element_id=instance.end_element, at=now)
    # The projection queries must not flush the changes above one statement at a time: all of
    # it goes out in one flush at the end (history rows as one multi-row INSERT). Rows the
    # caller changed but did not flush are read back from the identity map with their new
    # values, so each projection checks the in-memory status, not only the SQL filter.
    with session.no_autoflush:
        _project_human_tasks(session, instance, run, now, new)
        _project_timers(session, instance, run, now, new)
        _project_service_jobs(session, instance, run, new)
        external_task_projection.project(session, instance, run, now, new)
        message_projection.project(session, instance, run, new)
        called.record_blocked_calls(session, instance, run)
    run.completed.clear()
    session.flush()


def _project_human_tasks(
    session: Session, instance: ProcessInstance, run: Run, now: datetime, new: bool
) -> None:
    open_rows = (
        {}
        if new
        else {
            t.id: t
            for t in session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == instance.id, HumanTask.status == "open"
                )
            )
        }
    )
    ready = {view.id: view for view in run.user_tasks()}
    for task_id, row in open_rows.items():
        if row.status != "open":
            continue  # the caller just completed it
        if task_id not in ready:
            # Gone without a completion through the task API: an interrupting event took it.
            row.status = "cancelled"
            row.completed_at = now
            history(
                session,
                instance,
                "task_cancelled",
                element_id=row.element_id,
                task_id=row.id,
                at=now,
            )
    for task_id, view in ready.items():
        if task_id in open_rows:
            continue
        row = make_human_task(session, instance, run.element(view.id), view, now)
        if view.process_key:  # a task of a called process is listed as that process's task
            row.process_key = view.process_key
            row.definition_id = view.definition_id or instance.definition_id
        session.add(row)
        history(
            session,
            instance,
            "task_created",
            element_id=row.element_id,
            element_kind="userTask",
            task_id=row.id,
            at=now,
            candidate_groups=row.candidate_groups,
            assignee=row.assignee,
        )


def _project_timers(
    session: Session, instance: ProcessInstance, run: Run, now: datetime, new: bool
) -> None:
    if not run.has_timers:
        return
    known = (
        {}
        if new
        else {
            t.id: t for t in session.scalars(select(Timer).where(Timer.instance_id == instance.id))
        }
    )
    pending = {timer_id: t for timer_id, t in known.items() if t.status == "pending"}
    waiting = {view.id: view for view in run.timers()}
    fired = {record.task_id for record in run.completed}
    for timer_id, row in pending.items():
        if row.status != "pending":
            continue
        if timer_id not in waiting:
            # The engine says which: a timer task that completed fired; one that vanished was
            # cancelled (its task finished first, or an interrupting event took the branch).
            row.status = "fired" if timer_id in fired else "cancelled"
            row.fired_at = now
            if row.status == "fired":
                _timer_fired(session, instance, row, now)
    for timer_id, view in waiting.items():
        existing = pending.get(timer_id)
        if existing is None and timer_id in known:
            continue  # fired, cancelled or failed (parked): its row keeps that state
        if existing is None:
            session.add(
                Timer(
                    id=timer_id,
                    instance_id=instance.id,
                    element_id=view.element_id,
                    due_at=view.due_at,
                    estimated=view.estimated,
                )
            )
        elif existing.due_at != view.due_at:
            if view.id in fired:  # a cycle fired and moved on to its next due time
                _timer_fired(session, instance, existing, now)
            existing.due_at = view.due_at
            existing.enqueued_at = None  # a cycle moved on: its next due time needs a new job


def _timer_fired(session: Session, instance: ProcessInstance, timer: Timer, now: datetime) -> None:
    """Every firing, whichever step did it, goes to history with its lateness (for KPIs)."""
    history(
        session,
        instance,
        "timer_fired",
        element_id=timer.element_id,
        element_kind="timer",
        task_id=timer.id,
        at=now,
        due_at=timer.due_at.isoformat(),
        lateness_ms=int((now - timer.due_at).total_seconds() * 1000),
    )


def _project_service_jobs(session: Session, instance: ProcessInstance, run: Run, new: bool) -> None:
    started = {view.id for view in run.service_tasks()}
    if not new and run.model.has_service_tasks:
        for job in session.scalars(
            select(ServiceJob).where(
                ServiceJob.instance_id == instance.id, ServiceJob.status == "pending"
            )
        ):
            if job.status == "pending" and job.id not in started:
                job.status = "cancelled"  # an event took the branch before the job ran
                job.done_at = utcnow()
    for view in run.service_tasks():
        name = view.handler
        if name is None and view.external_topic and handler_registry.get(view.external_topic):
            name = view.external_topic  # a topic corpflow serves itself
        if name is None:
            continue  # external tasks wait for a worker
        if not new and session.get(ServiceJob, view.id) is not None:
            continue
        session.add(
            ServiceJob(
                id=view.id,
                instance_id=instance.id,
                element_id=view.element_id,
                handler=name,
            )
        )
        enqueue_after_commit(session, "run_service_task", view.id)


def incident(
    session: Session,
    instance_id: str,
    element_id: str | None,
    task_id: str,
    kind: str,
    message: str,
) -> None:
    """Record what failed for operators (GET /api/v1/incidents, retry)."""
    session.add(
        Incident(
            id=str(uuid.uuid4()),
            instance_id=instance_id,
            element_id=element_id,
            task_id=task_id,
            kind=kind,
            message=message,
        )
    )


def new_instance_id() -> str:
    return str(uuid.uuid4())
