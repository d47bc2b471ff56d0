"""Load → step → save under a row lock, rewriting every projection in the same transaction."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, insert, inspect, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.context import current
from app.db import utcnow
from app.deployments.definitions import compiled_by_id, decision_resolver
from app.errors import NotFoundError
from app.external_tasks import projection as external_task_projection
from app.instances import called, projections, write_batch
from app.instances.models import Incident, ProcessInstance, Timer
from app.messages import projection as message_projection
from app.workdays.store import refresh_if_stale
from app.workflow.runtime import Run


def _locking(where: ColumnElement[bool]) -> Select[ProcessInstance]:
    return (
        select(ProcessInstance)
        .where(where)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# The hot statements are built once with bound parameters: building one costs about as much
# CPU as running it.
_LOCK = _locking(ProcessInstance.id == bindparam("instance_id"))


@functools.cache
def _lock_of(model: type[Any]) -> Select[ProcessInstance]:
    owner = select(model.instance_id).where(model.id == bindparam("row_id")).scalar_subquery()
    return _locking(ProcessInstance.id == owner)


def lock_instance(session: Session, instance_id: str | Any) -> ProcessInstance:
    """Row-lock the instance: two requests on one instance are serialized, never lost.

    `instance_id` may be a scalar subquery (the instance of a task), saving a round trip.
    """
    if isinstance(instance_id, str):
        found = session.scalars(_LOCK, {"instance_id": instance_id}).one_or_none()
    else:
        found = session.scalars(_locking(ProcessInstance.id == instance_id)).one_or_none()
    if found is None:
        raise NotFoundError("process instance not found")
    return found


def lock_instance_of(session: Session, model: Any, row_id: str) -> ProcessInstance | None:
    """Lock the instance owning a row (timer, task, job) by that row's id; None if gone.

    Every writer locks the instance first and reads its rows after, so the row is fresh.
    """
    return session.scalars(_lock_of(model), {"row_id": row_id}).one_or_none()


def refresh_calendar(session: Session) -> None:
    """Working-day due dates use this process's copy of the bank's calendar: keep it fresh."""
    refresh_if_stale(session, current().settings.timezone)


def load(session: Session, instance: ProcessInstance) -> Run:
    refresh_calendar(session)
    compiled = compiled_by_id(session, instance.definition_id)
    run = Run.restore(
        compiled,
        instance.process_key,
        instance.state,
        decision_resolver(session),
        called=called.called_resolver(session, instance.definition_id),
    )
    projections.remember(session, instance.id, run)
    return run


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
    """Append one history row now (the instance must already be written)."""
    projections.write_events(
        session,
        [
            event(
                instance.id,
                kind,
                element_id=element_id,
                element_kind=element_kind,
                task_id=task_id,
                user_id=user_id,
                at=at,
                **detail,
            )
        ],
    )


# The values of one history_event row, for `save(events=...)`.
event = projections.event


def save(
    session: Session,
    instance: ProcessInstance,
    run: Run,
    *,
    new: bool = False,
    timers: Sequence[Timer] | None = None,
    events: Sequence[dict[str, Any]] = (),
) -> None:
    """Write state and rewrite human tasks, timers, service jobs and history from the run.

    `new` says the instance has no rows yet, so there are no earlier projections to compare.
    `timers`: every timer row of the instance, read after its lock (saves reading them again).
    `events`: history rows (made with `event`) to write before the step's own.
    """
    now = utcnow()
    written = list(events)
    known = projections.NEW if new else projections.loaded(session, instance.id, run)
    for record in run.completed:
        if record.kind != "userTask":
            written.append(
                event(
                    instance.id,
                    "activity_completed",
                    element_id=record.element_id,
                    element_kind=record.kind,
                    task_id=record.task_id,
                    at=now,
                )
            )
    values: dict[str, Any] = {
        "state": run.state(),
        "variables": run.variables,
        "active_elements": run.active_element_ids(),
        "version": instance.version + 1,
        "status": instance.status,
        "ended_at": instance.ended_at,
        "end_element": instance.end_element,
    }
    if run.is_completed and instance.status == "running":
        ends = [r.element_id for r in run.completed if r.kind == "endEvent"]
        values.update(status="completed", ended_at=now, end_element=ends[-1] if ends else None)
        written.append(
            event(instance.id, "instance_completed", element_id=values["end_element"], at=now)
        )
    _write_instance(session, instance, values, new)
    # Rows the caller changed but did not flush are read back from the identity map with their
    # new values, so each projection checks the in-memory status, not only the SQL filter; the
    # projections' reads must not flush those changes one statement at a time.
    with session.no_autoflush:
        projections.human_tasks(session, instance, run, now, known, written)
        projections.timers(session, instance, run, now, known, timers, written)
        projections.service_jobs(session, instance, run, known)
        external_task_projection.project(
            session, instance, run, now, known.external if known is not None else None
        )
        message_projection.project(
            session, instance, run, known.messages if known is not None else None
        )
        called.record_blocked_calls(session, instance, run)
    run.completed.clear()
    session.flush()  # what the caller changed, and rows closed by an interrupting event
    projections.write_events(session, written)


_INSTANCE = cast(Table, ProcessInstance.__table__)
# The columns to set are the parameters' keys.
_INSTANCE_COLUMNS = inspect(ProcessInstance).column_attrs
_INSERT_INSTANCE = insert(_INSTANCE)
_UPDATE_INSTANCE = update(_INSTANCE).where(_INSTANCE.c.id == bindparam("instance_key"))


def _write_instance(
    session: Session, instance: ProcessInstance, values: dict[str, Any], new: bool
) -> None:
    if new:
        # Rows written next refer to the instance: it goes first, already carrying its state.
        for name, value in values.items():
            setattr(instance, name, value)
        if instance in session:  # the caller added it already: the unit of work inserts it
            session.flush()
            return
        # Unset columns are left to their defaults (and read back if ever asked for).
        given = inspect(instance).dict
        row = {c.key: given[c.key] for c in _INSTANCE_COLUMNS if c.key in given}
        session.connection().execute(_INSERT_INSTANCE, row)
        make_transient_to_detached(instance)  # persistent as written, no INSERT at flush
        session.add(instance)
        return
    # One UPDATE statement instead of a unit-of-work flush; the object mirrors the new values
    # (a change the caller made to another column is still flushed as usual).
    write_batch.execute(session, _UPDATE_INSTANCE, [{"instance_key": instance.id, **values}])
    for name, value in values.items():
        set_committed_value(instance, name, value)


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
