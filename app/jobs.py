"""Background job entry points: ids in, their own transaction, idempotent by status checks."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.context import current
from app.customers.process_store import CustomerStore
from app.db import transaction, utcnow
from app.errors import DomainError
from app.imports import batches as import_batches
from app.instances import start_timers, stepping, timers
from app.instances.models import ProcessInstance, ServiceJob
from app.lending.facilities import FacilityStore
from app.notifications.delivery import send_notification, sweep_notifications
from app.tasks.sla import OutboxStore, SlaTaskStore
from app.workflow.runtime import Run
from handlers import registry
from handlers.context import BusinessError, HandlerContext, TransientError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# send_notification is re-exported: jobs are looked up as app.jobs.<name>.
__all__ = [
    "JOBS",
    "apply_import",
    "fire_start_timer",
    "fire_timer",
    "fire_timers",
    "run_service_task",
    "send_notification",
    "sweep",
    "tick",
]
JOBS = frozenset(
    {
        "run_service_task",
        "fire_timer",
        "fire_timers",
        "fire_start_timer",
        "send_notification",
        "apply_import",
    }
)
_last_sweep = 0.0
# A pending job older than this has lost its queue entry (a crash between commit and enqueue,
# a restarted dispatcher, a flushed Redis): the sweeper sends it again.
SWEEP_AFTER = timedelta(seconds=30)


def fire_timer(timer_id: str) -> None:
    """Fire a due timer (idempotent: a fired or cancelled timer is left alone)."""
    timers.fire(timer_id)


def fire_timers(*timer_ids: str) -> None:
    """Fire a batch of due timers (idempotent, like fire_timer)."""
    timers.fire_many(timer_ids)


def fire_start_timer(start_timer_id: str) -> None:
    """Start an instance of a definition whose timer start event is due (idempotent)."""
    start_timers.fire(start_timer_id)


def apply_import(batch_id: str) -> None:
    """Apply a large import file, committing progress as it goes (taken once per batch)."""
    import_batches.run_queued(current().sessions, batch_id)


def tick() -> None:
    """One dispatcher pass: send due timers' jobs; every SWEEP_AFTER, re-send lost work."""
    global _last_sweep
    timers.dispatch_due()
    if time.monotonic() - _last_sweep >= SWEEP_AFTER.total_seconds():
        _last_sweep = time.monotonic()
        sweep()


def sweep() -> int:
    """Re-send service jobs still pending after SWEEP_AFTER; returns how many were re-sent.

    The database is the truth about pending work; a re-sent job that already ran does nothing.
    """
    services = current()
    cutoff = utcnow() - SWEEP_AFTER
    with transaction(services.sessions) as session:
        ids = list(
            session.scalars(
                select(ServiceJob.id)
                .where(ServiceJob.status == "pending", ServiceJob.created_at < cutoff)
                .order_by(ServiceJob.created_at)
                .limit(500)
            )
        )
    for task_id in ids:
        services.queue.dispatch(("run_service_task", (task_id,)))
    if ids:
        log.warning("swept %d pending service jobs", len(ids))
    return len(ids) + sweep_notifications()


def run_service_task(task_id: str) -> None:
    """Run the handler bound to a started service task and continue the instance."""
    services = current()
    with transaction(services.sessions) as session:
        instance = stepping.lock_instance_of(session, ServiceJob, task_id)
        if instance is None:
            return
        job = session.get(ServiceJob, task_id)
        if job is None or job.status != "pending":
            return  # a duplicate delivery: the first one already did the work
        handler = registry.get(job.handler)
        if handler is None:
            _fail(session, job, f"no handler is registered under '{job.handler}'")
            return
        run = stepping.load(session, instance)
        if job.id not in {view.id for view in run.service_tasks()}:
            job.status = "cancelled"  # the task is no longer waiting: never call the handler
            job.done_at = utcnow()
            return
        context = HandlerContext(
            instance_id=instance.id,
            task_id=job.id,
            element_id=job.element_id,
            business_key=instance.business_key,
            idempotency_key=f"{instance.id}:{job.id}",
            stores={
                "facilities": FacilityStore(session, instance.id),
                "customers": CustomerStore(session, instance.id),
                "tasks": SlaTaskStore(session, instance.id, fired_at=job.created_at),
                "notifications": OutboxStore(session, instance.id),
            },
            properties=dict(run.element(job.id).properties),
        )
        job.attempts += 1
        try:
            with session.begin_nested():
                result = handler(run.variables_for(job.id), context) or {}
                run.complete_service_task(job.id, dict(result))
        except TransientError as exc:
            job.last_error = str(exc)
            if job.attempts >= MAX_ATTEMPTS:
                _fail(session, job, f"gave up after {job.attempts} attempts: {exc}")
            else:
                services.queue.retry_later("run_service_task", job.id, delay=2**job.attempts)
            return
        except BusinessError as exc:
            # Thrown into the diagram as BPMN error `code`, as an external task's bpmnError.
            if _throw_business_error(session, instance, run, job, exc):
                return
            _fail(
                session,
                job,
                f"BPMN error '{exc.code}' is not caught by any error boundary event: {exc.message}",
            )
            return
        except DomainError as exc:
            _fail(session, job, exc.message)
            return
        except Exception as exc:  # a handler bug must become an incident, not a lost task
            log.exception("handler %s failed", job.handler)
            _fail(session, job, f"{type(exc).__name__} in handler '{job.handler}'")
            return
        job.status = "done"
        job.done_at = utcnow()
        stepping.history(
            session,
            instance,
            "service_task_completed",
            element_id=job.element_id,
            element_kind="serviceTask",
            task_id=job.id,
            handler=job.handler,
        )
        stepping.save(session, instance, run)


def _throw_business_error(
    session: Session, instance: ProcessInstance, run: Run, job: ServiceJob, exc: BusinessError
) -> bool:
    """Route a handler's business error to the error boundary event catching its code."""
    caught = run.throw_bpmn_error(job.id, exc.code, {})
    if caught is None:
        return False
    job.status = "done"
    job.done_at = utcnow()
    job.last_error = f"BPMN error '{exc.code}': {exc.message}"
    stepping.history(
        session,
        instance,
        "bpmn_error_thrown",
        element_id=job.element_id,
        element_kind="serviceTask",
        task_id=job.id,
        handler=job.handler,
        error_code=exc.code,
        error_message=exc.message,
        caught_by=caught,
    )
    stepping.save(session, instance, run)
    return True


def _fail(session: Session, job: ServiceJob, message: str) -> None:
    job.status = "failed"
    job.last_error = message
    stepping.incident(session, job.instance_id, job.element_id, job.id, "failedJob", message)
