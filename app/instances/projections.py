"""The human-task, timer and service-job projections of a run, rewritten inside its step.

The cost of a step is mostly its statements, so the projections avoid reading rows they can
tell apart without reading: `Loaded` remembers which tasks were waiting when the state was
loaded. Every projection row belongs to such a task (save writes rows and state together, under
the instance lock), so a task that was not waiting then has no row yet, and when no waiting task
went away or changed there is nothing to close. New rows go out as Core inserts: nothing reads
them back as objects in the step that creates them.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.db import closed_in_session, utcnow
from app.instances import write_batch
from app.instances.models import HistoryEvent, ProcessInstance, ServiceJob, Timer
from app.messages import projection as message_projection
from app.queue import enqueue_after_commit
from app.tasks.assignment import make_human_task
from app.tasks.models import HumanTask, TaskCandidate
from app.workflow.runtime import Run, ServiceTaskView
from handlers import registry as handler_registry

_LOADED = "corpflow_loaded_runs"  # session.info key: instance id -> Loaded
# Inserts of new rows, built once (building a statement costs about as much as running it).
_INSERT_HISTORY = insert(cast(Table, HistoryEvent.__table__))
_INSERT_HUMAN_TASK = insert(cast(Table, HumanTask.__table__))
_INSERT_CANDIDATE = insert(cast(Table, TaskCandidate.__table__))
_INSERT_TIMER = insert(cast(Table, Timer.__table__))
_INSERT_SERVICE_JOB = insert(cast(Table, ServiceJob.__table__))


@dataclass(frozen=True)
class Loaded:
    """The tasks waiting in an instance's state when it was loaded (or none: a new instance)."""

    run: Run | None = None
    user_tasks: frozenset[str] = frozenset()
    timers: Mapping[str, datetime] = field(default_factory=dict)
    jobs: frozenset[str] = frozenset()  # started service tasks a handler serves
    external: frozenset[str] = frozenset()  # started service tasks waiting for a worker
    messages: frozenset[str] = frozenset()


NEW = Loaded()


def remember(session: Session, instance_id: str, run: Run) -> None:
    """Note what the freshly loaded state is waiting for; `loaded` hands it to the save."""
    started = run.service_tasks()
    served = {view.id for view in started if job_handler(view) is not None}
    session.info.setdefault(_LOADED, {})[instance_id] = Loaded(
        run=run,
        user_tasks=frozenset(view.id for view in run.user_tasks()),
        timers={view.id: view.due_at for view in run.timers()} if run.has_timers else {},
        jobs=frozenset(served),
        # What external_tasks.projection.waiting_for_workers lists: a topic nobody here serves.
        external=frozenset(v.id for v in started if v.external_topic and v.id not in served),
        messages=message_projection.waiting(run),
    )


def loaded(session: Session, instance_id: str, run: Run) -> Loaded | None:
    """What `remember` noted for this very run, once; None: unknown, read the rows instead."""
    known = session.info.get(_LOADED, {}).pop(instance_id, None)
    return known if known is not None and known.run is run else None


def event(
    instance_id: str,
    kind: str,
    *,
    element_id: str | None = None,
    element_kind: str | None = None,
    task_id: str | None = None,
    user_id: str | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> dict[str, Any]:
    """The values of one history_event row."""
    return {
        "instance_id": instance_id,
        "kind": kind,
        "element_id": element_id,
        "element_kind": element_kind,
        "task_id": task_id,
        "user_id": user_id,
        "at": at or utcnow(),
        "detail": detail,
    }


def write_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    """History rows in one executemany INSERT (no ids read back; batched: see write_batch)."""
    if events:
        write_batch.execute(session, _INSERT_HISTORY, events)


@functools.cache
def _update_by_id(table: Table) -> Update:
    return update(table).where(table.c.id == bindparam("row_id"))  # SET: the other parameters


def update_row(session: Session, row: Any, **values: Any) -> None:
    """UPDATE one row by id and mirror the values on its object, without a unit-of-work flush."""
    statement = _update_by_id(cast(Table, type(row).__table__))
    write_batch.execute(session, statement, [{"row_id": row.id, **values}])
    for name, value in values.items():
        set_committed_value(row, name, value)


def human_tasks(
    session: Session,
    instance: ProcessInstance,
    run: Run,
    now: datetime,
    known: Loaded | None,
    events: list[dict[str, Any]],
) -> None:
    ready = {view.id: view for view in run.user_tasks()}
    gone = known.user_tasks - ready.keys() if known is not None else ()
    if known is not None and closed_in_session(session, HumanTask, gone, "open"):
        open_rows: dict[str, HumanTask] = {}
        has_row: Collection[str] = known.user_tasks
    else:
        open_rows = {
            t.id: t
            for t in session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == instance.id, HumanTask.status == "open"
                )
            )
        }
        has_row = open_rows
    for task_id, open_row in open_rows.items():
        if open_row.status != "open":
            continue  # the caller just completed it
        if task_id not in ready:
            # Gone without a completion through the task API: an interrupting event took it.
            open_row.status = "cancelled"
            open_row.completed_at = now
            events.append(
                event(
                    instance.id,
                    "task_cancelled",
                    element_id=open_row.element_id,
                    task_id=open_row.id,
                    at=now,
                )
            )
    rows: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    for task_id, view in ready.items():
        if task_id in has_row:
            continue
        row = make_human_task(session, instance, run.element(view.id), view, now)
        if view.process_key:  # a task of a called process is listed as that process's task
            row["process_key"] = view.process_key
            row["definition_id"] = view.definition_id or instance.definition_id
        groups = row.pop("candidates")
        rows.append(row)
        candidates += groups
        events.append(
            event(
                instance.id,
                "task_created",
                element_id=row["element_id"],
                element_kind="userTask",
                task_id=row["id"],
                at=now,
                candidate_groups=sorted(c["identity"] for c in groups if c["kind"] == "group"),
                assignee=row["assignee"],
            )
        )
    write_batch.execute(session, _INSERT_HUMAN_TASK, rows)
    write_batch.execute(session, _INSERT_CANDIDATE, candidates)


def timers(
    session: Session,
    instance: ProcessInstance,
    run: Run,
    now: datetime,
    known: Loaded | None,
    given: Sequence[Timer] | None,
    events: list[dict[str, Any]],
) -> None:
    if not run.has_timers:
        return
    waiting = {view.id: view for view in run.timers()}
    fired = {record.task_id for record in run.completed}
    rows: dict[str, Timer]
    has_row: Collection[str]
    if given is not None:
        rows = has_row = {t.id: t for t in given}
    elif known is not None and all(
        timer_id in waiting and waiting[timer_id].due_at == due
        for timer_id, due in known.timers.items()
    ):
        # Every timer waiting at load still waits as it did: there are only new ones to add.
        rows, has_row = {}, known.timers.keys()
    else:
        query = select(Timer).where(Timer.instance_id == instance.id)
        rows = has_row = {t.id: t for t in session.scalars(query)}
    for timer_id, row in rows.items():
        if row.status != "pending" or timer_id in waiting:
            continue
        # The engine says which: a timer task that completed fired; one that vanished was
        # cancelled (its task finished first, or an interrupting event took the branch).
        status = "fired" if timer_id in fired else "cancelled"
        update_row(session, row, status=status, fired_at=now)
        if status == "fired":
            events.append(_timer_fired(instance, row, now))
    new = []
    for timer_id, view in waiting.items():
        existing = rows.get(timer_id)
        if existing is None and timer_id in has_row:
            continue  # unchanged, or fired, cancelled or failed (parked): its row keeps that state
        if existing is None:
            new.append(
                {
                    "id": timer_id,
                    "instance_id": instance.id,
                    "element_id": view.element_id,
                    "due_at": view.due_at,
                    "estimated": view.estimated,
                }
            )
        elif existing.status == "pending" and existing.due_at != view.due_at:
            if view.id in fired:  # a cycle fired and moved on to its next due time
                events.append(_timer_fired(instance, existing, now))
            # A cycle moved on: its next due time needs a new job.
            update_row(session, existing, due_at=view.due_at, enqueued_at=None)
    write_batch.execute(session, _INSERT_TIMER, new)


def _timer_fired(instance: ProcessInstance, timer: Timer, now: datetime) -> dict[str, Any]:
    """Every firing, whichever step did it, goes to history with its lateness (for KPIs)."""
    return event(
        instance.id,
        "timer_fired",
        element_id=timer.element_id,
        element_kind="timer",
        task_id=timer.id,
        at=now,
        due_at=timer.due_at.isoformat(),
        lateness_ms=int((now - timer.due_at).total_seconds() * 1000),
    )


def job_handler(view: ServiceTaskView) -> str | None:
    """The handler that runs a started service task in-process; None: a worker's task."""
    if view.handler is None and view.external_topic and handler_registry.get(view.external_topic):
        return view.external_topic  # a topic corpflow serves itself
    return view.handler


def service_jobs(
    session: Session, instance: ProcessInstance, run: Run, known: Loaded | None
) -> None:
    views = run.service_tasks()
    started = {view.id for view in views}
    if known is not NEW and run.model.has_service_tasks:
        gone = known.jobs - started if known is not None else ()
        if known is None or not closed_in_session(session, ServiceJob, gone, "pending"):
            for job in session.scalars(
                select(ServiceJob).where(
                    ServiceJob.instance_id == instance.id, ServiceJob.status == "pending"
                )
            ):
                if job.status == "pending" and job.id not in started:
                    # an event took the branch before the job ran
                    update_row(session, job, status="cancelled", done_at=utcnow())
    new = []
    for view in views:
        name = job_handler(view)
        if name is None:
            continue  # external tasks wait for a worker
        if known is not None and view.id in known.jobs:
            continue  # started before this step: its job exists
        if known is None and session.get(ServiceJob, view.id) is not None:
            continue
        new.append(
            {
                "id": view.id,
                "instance_id": instance.id,
                "element_id": view.element_id,
                "handler": name,
            }
        )
        enqueue_after_commit(session, "run_service_task", view.id)
    write_batch.execute(session, _INSERT_SERVICE_JOB, new)
