"""Firing timers: the dispatcher pass that finds due timers, and the job that fires one."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    Select,
    Update,
    bindparam,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.context import current
from app.db import transaction, utcnow
from app.errors import DomainError, PermissionDeniedError
from app.identity.actor import Actor
from app.instances import stepping, write_batch
from app.instances.models import ProcessInstance, StartTimer, Timer
from app.queue import job_id_of

log = logging.getLogger(__name__)

BATCH = 1000
# Timers per firing job: rq's bookkeeping costs about as much per job as firing a timer, and a
# batch's writes go out as one statement per kind of row, so due timers travel in batches; small
# enough that two workers share a burst and a batch holds its instances' locks only briefly.
FIRE_BATCH = 50
_JOBS = ((Timer, "fire_timers", FIRE_BATCH), (StartTimer, "fire_start_timer", 1))


def dispatch_due(limit: int = BATCH) -> int:
    """One dispatcher pass: claim due timers, stamp them as sent, send their jobs after commit.

    Each query walks a (status, due_at) index from the oldest due row and stops at `limit`, so
    a pass costs the same whether ten or a million timers are pending. SKIP LOCKED lets any
    number of dispatchers (one per worker process) run at once without sending a timer twice
    in the same round; sending twice later is harmless because firing re-checks under lock.
    Returns how many timers were sent.
    """
    services = current()
    now = utcnow()
    # A due timer whose job was sent this long ago and is still pending lost its job (a killed
    # worker, a flushed Redis): this pass sends it again.
    resend_before = now - timedelta(seconds=services.settings.timer_resend_seconds)
    grace = services.settings.timer_resend_seconds
    sent: list[tuple[tuple[str, tuple[str, ...]], str]] = []
    with transaction(services.sessions) as session:
        connection = session.connection()  # Core: the pass reads ids, never objects
        for model, job, size in _JOBS:
            claim = _claims(model, limit)
            fresh = list(connection.execute(claim.fresh, {"now": now}).scalars())
            stale = connection.execute(
                claim.stale, {"now": now, "resend_before": resend_before}
            ).all()
            alive: dict[str, bool] = {}
            lost = []
            for timer_id, job_id in stale:
                job_id = job_id or job_id_of((job, (timer_id,)))
                if job_id not in alive:
                    alive[job_id] = services.queue.in_flight(job_id, alive_within=grace)
                if not alive[job_id]:
                    lost.append(timer_id)
            kept = [timer_id for timer_id, _job in stale if timer_id not in set(lost)]
            if kept:  # still on their way: look again only after another grace period
                connection.execute(claim.restamp, {"ids": kept, "now": now})
            outgoing = fresh + lost
            for first in range(0, len(outgoing), size):
                batch = tuple(outgoing[first : first + size])
                job_id = f"{job}--{batch[0]}"
                connection.execute(claim.stamp, {"ids": list(batch), "now": now, "job": job_id})
                sent.append(((job, batch), job_id))
    for message, job_id in sent:
        services.queue.dispatch(message, job_id)
    return sum(len(ids) for (_name, ids), _job_id in sent)


class _Claim(NamedTuple):
    fresh: Select[str]
    stale: Select[str, str | None]
    restamp: Update
    stamp: Update


@functools.cache
def _claims(model: type[Timer] | type[StartTimer], limit: int) -> _Claim:
    """The dispatcher's statements for one table, built once (building one costs about as much
    CPU as running it). The status and the limit are written into the SQL, not bound: the
    statements run often enough to be prepared, and only a plan that sees `status = 'pending'`
    in its text can use the partial indexes (a generic plan for `status = $1` cannot)."""
    due = (model.status == literal_column("'pending'"), model.due_at <= bindparam("now"))
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    return _Claim(
        # Never sent: the partial index on unsent timers keeps this O(limit) however long a
        # backlog of sent-but-not-yet-fired timers grows.
        fresh=select(model.id)
        .where(*due, model.enqueued_at.is_(None))
        .order_by(model.due_at)
        .limit(literal_column(str(int(limit))))
        .with_for_update(skip_locked=True),
        # Sent long ago and still pending: resend only if the job is really gone (a killed
        # worker, a flushed Redis); one still queued behind a backlog is left alone. Walks the
        # sent timers by when they were sent (ix_timer_sent_pending), so the timers sent within
        # the grace period, however many, are never read.
        stale=select(model.id, model.job_id)
        .where(*due, model.enqueued_at < bindparam("resend_before"))
        .order_by(model.enqueued_at)
        .limit(literal_column(str(int(limit))))
        .with_for_update(skip_locked=True),
        restamp=update(model).where(model.id.in_(ids)).values(enqueued_at=bindparam("now")),
        stamp=update(model)
        .where(model.id.in_(ids))
        .values(enqueued_at=bindparam("now"), job_id=bindparam("job")),
    )


def fire(timer_id: str) -> bool:
    """Fire one timer exactly once in effect; returns whether this call fired it.

    A step that fails is rolled back to a savepoint and the timer parked with an incident.
    """
    services = current()
    with transaction(services.sessions) as session:
        instance, timer, rows = _locked(session, timer_id)
        if instance is None or timer is None:
            return False
        try:
            with session.begin_nested():
                _step(session, instance, rows)
        except Exception as exc:  # anything the step raised: park the timer, say why
            _suspend(session, instance, timer, exc)
            return False
        return timer.status == "fired"


def fire_many(timer_ids: Sequence[str]) -> int:
    """Fire a batch of timers in one transaction; returns how many this call fired.

    One commit for the batch instead of a commit and a savepoint per timer, one statement to
    lock the batch's instances and one to read their timers instead of two per timer, and the
    steps' writes sent together (write_batch: one statement per kind of row, not per step). If
    any step or write fails the whole batch is rolled back and each timer goes through `fire`
    on its own, so a failing timer is parked alone and the others fire as usual.
    """
    services = current()
    try:
        with transaction(services.sessions) as session, write_batch.batched(session) as writes:
            batch = _locked_batch(session, timer_ids)
            stepped: set[str] = set()
            fired = []
            for timer_id in timer_ids:
                if timer_id not in batch:
                    continue  # gone with its instance
                instance, rows = batch[timer_id]
                if instance.id in stepped:  # a second timer of an instance this batch stepped:
                    writes.send(session)  # its rows as that step left them,
                    locked, timer, rows = _locked(session, timer_id)  # read again
                else:
                    locked, timer = instance, _due(rows, timer_id)
                if locked is not None and timer is not None:
                    _step(session, locked, rows)
                    stepped.add(locked.id)
                    fired.append(timer)
            return sum(1 for timer in fired if timer.status == "fired")
    except Exception as exc:
        log.info("a batch of %d timers failed (%s); firing them one by one", len(timer_ids), exc)
    return sum(1 for timer_id in timer_ids if fire(timer_id))


_TIMERS_OF = (
    select(Timer)
    .where(Timer.instance_id == bindparam("instance_id"))
    .execution_options(populate_existing=True)
)
# A batch's instances are locked in id order, the order every writer that locks several uses
# (no deadlock between two batches); their timers are read by the next statement, after every
# lock is granted, so each row is read as the last writer of its instance left it.
_LOCK_BATCH = (
    select(ProcessInstance)
    .where(
        ProcessInstance.id.in_(
            select(Timer.instance_id).where(Timer.id.in_(bindparam("timer_ids", expanding=True)))
        )
    )
    .order_by(ProcessInstance.id)
    .with_for_update()
    .execution_options(populate_existing=True)
)
_TIMERS_OF_MANY = (
    select(Timer)
    .where(Timer.instance_id.in_(bindparam("instance_ids", expanding=True)))
    .execution_options(populate_existing=True)
)


def _locked_batch(
    session: Session, timer_ids: Sequence[str]
) -> dict[str, tuple[ProcessInstance, list[Timer]]]:
    """For each timer of the batch still there: its instance, row-locked, and every timer row
    of that instance, read after the locks."""
    instances = {i.id: i for i in session.scalars(_LOCK_BATCH, {"timer_ids": list(timer_ids)})}
    if not instances:
        return {}
    rows_of: dict[str, list[Timer]] = {instance_id: [] for instance_id in instances}
    for row in session.scalars(_TIMERS_OF_MANY, {"instance_ids": list(instances)}):
        rows_of[row.instance_id].append(row)
    wanted = set(timer_ids)
    return {
        row.id: (instances[instance_id], rows)
        for instance_id, rows in rows_of.items()
        for row in rows
        if row.id in wanted
    }


def _locked(
    session: Session, timer_id: str
) -> tuple[ProcessInstance | None, Timer | None, list[Timer]]:
    """The timer's instance, row-locked; the timer if it is still pending and due; and every
    timer row of the instance, read after the lock (the step's projection needs them)."""
    instance = stepping.lock_instance_of(session, Timer, timer_id)
    if instance is None:
        return None, None, []
    rows = list(session.scalars(_TIMERS_OF, {"instance_id": instance.id}))
    return instance, _due(rows, timer_id), rows


def _due(rows: list[Timer], timer_id: str) -> Timer | None:
    """The timer if it is still pending and due; None if fired, cancelled or a stale early job."""
    timer = next((row for row in rows if row.id == timer_id), None)
    if timer is None or timer.status != "pending" or timer.due_at > utcnow():
        return None
    return timer


def _step(session: Session, instance: ProcessInstance, rows: list[Timer]) -> None:
    run = stepping.load(session, instance)
    run.fire_due_timers()
    stepping.save(session, instance, run, timers=rows)


def _suspend(session: Session, instance: ProcessInstance, timer: Timer, exc: Exception) -> None:
    """The step failed and was rolled back: park the timer and record an incident.

    Left as it was, the engine would try the overdue timer again on every later step of the
    instance and fail each time, blocking unrelated work; and the dispatcher would resend it
    forever. Parked, its due time is pushed out of reach until an operator deals with it.
    """
    if isinstance(exc, DomainError):
        message = exc.message
    else:
        log.exception("timer %s of instance %s failed", timer.id, instance.id)
        message = f"{type(exc).__name__} while firing the timer"
    session.expire_all()
    run = stepping.load(session, instance)
    run.park_timer(timer.id)
    stepping.save(session, instance, run)
    timer.status = "failed"
    stepping.incident(
        session, timer.instance_id, timer.element_id, timer.id, "failedTimer", message
    )


def pending_timers(
    session: Session,
    actor: Actor,
    *,
    instance_id: str | None = None,
    due_before: Any = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Timer], int]:
    if not actor.is_admin:
        raise PermissionDeniedError("listing timers is for administrators")
    query = select(Timer).where(Timer.status == "pending")
    if instance_id:
        query = query.where(Timer.instance_id == instance_id)
    if due_before is not None:
        query = query.where(Timer.due_at < due_before)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Timer.due_at, Timer.id).limit(limit).offset(offset))
    return list(rows), total


def next_timer(session: Session, instance_id: str) -> Timer | None:
    return session.scalars(
        select(Timer)
        .where(Timer.instance_id == instance_id, Timer.status == "pending")
        .order_by(Timer.due_at)
        .limit(1)
    ).first()
