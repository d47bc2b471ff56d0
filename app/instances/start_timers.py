"""Timer start events: schedule a definition's starts, start instances when due, and stop
scheduling an old version when a new one is deployed."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.context import current
from app.db import transaction, utcnow
from app.deployments.models import ProcessDefinition
from app.errors import ModelError
from app.identity.actor import SYSTEM
from app.instances.models import StartTimer
from app.workflow.expression_functions import OperationError, parse_datetime, parse_iso_duration
from app.workflow.expressions import ExpressionError, compile_expression
from app.workflow.model import ProcessModel

log = logging.getLogger(__name__)
_CYCLE = re.compile(r"^R(?P<count>\d*)/(?P<rest>.+)$")


def next_due(kind: str, spec: str, after: datetime, timezone: str) -> tuple[datetime, int]:
    """(first due time, starts remaining after it) for a timer start event's evaluated text."""
    try:
        if kind == "cron":
            local = after.astimezone(ZoneInfo(timezone))
            due: datetime = croniter(
                spec, local, second_at_beginning=len(spec.split()) >= 6
            ).get_next(datetime)
            return due, -1
        cycle = _CYCLE.match(spec)
        if cycle:
            # R<n>/<interval> or R<n>/<start>/<interval>; n absent = forever.
            count = int(cycle.group("count")) if cycle.group("count") else -1
            parts = cycle.group("rest").split("/")
            every = parse_iso_duration(parts[-1])
            skipped = 0
            if len(parts) == 2:
                due = parse_datetime(parts[0])
                while due < after:  # repetitions already in the past are not started late
                    due, skipped = due + every, skipped + 1
            else:
                due = after + every
            if count < 0:
                return due, -1
            if count - skipped <= 0:
                raise ValueError("every repetition lies in the past")
            return due, count - skipped - 1
        if spec.upper().startswith("P"):
            return after + parse_iso_duration(spec), 0
        return parse_datetime(spec), 0
    except (OperationError, ValueError, KeyError) as exc:
        raise ModelError(f"timer start '{spec}' cannot be scheduled: {exc}") from None


def _interval(spec: str) -> Any:
    cycle = _CYCLE.match(spec)
    assert cycle is not None
    return parse_iso_duration(cycle.group("rest").split("/")[-1])


def schedule(session: Session, definition: ProcessDefinition, model: ProcessModel) -> None:
    """At deploy: a new version takes over the schedule of the older ones."""
    session.execute(
        update(StartTimer)
        .where(
            StartTimer.process_key == definition.key,
            StartTimer.status == "pending",
            StartTimer.definition_id != definition.id,
        )
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    if model.start_timer is None:
        return
    kind, source = model.timer_definitions[model.start_timer]
    try:
        spec = str(compile_expression(source).evaluate({}))
    except ExpressionError as exc:
        raise ModelError(
            f"timer start event '{model.start_timer}' of '{definition.key}' cannot be "
            f"evaluated at deploy time (no process variables exist yet): {exc}"
        ) from None
    due, remaining = next_due(kind, spec, utcnow(), current().settings.timezone)
    session.add(
        StartTimer(
            id=str(uuid.uuid4()),
            definition_id=definition.id,
            process_key=definition.key,
            element_id=model.start_timer,
            kind=kind,
            spec=spec,
            due_at=due,
            remaining=remaining,
        )
    )


def fire(start_timer_id: str) -> bool:
    """Start one instance for a due start timer and move the schedule on; idempotent."""
    from app.instances.lifecycle import StartRequest, start

    services = current()
    with transaction(services.sessions) as session:
        row = session.scalars(
            select(StartTimer).where(StartTimer.id == start_timer_id).with_for_update()
        ).one_or_none()
        now = utcnow()
        if row is None or row.status != "pending" or row.due_at > now:
            return False
        try:
            with session.begin_nested():
                start(
                    session,
                    SYSTEM,
                    StartRequest(
                        process_key=row.process_key, variables={}, definition_id=row.definition_id
                    ),
                    fire_start=True,
                )
        except Exception:  # a start that cannot happen must not be retried every few seconds
            log.exception("scheduled start of %s (%s) failed", row.process_key, row.id)
            row.status = "failed"
            return False
        row.fired_count += 1
        row.enqueued_at = None
        if row.remaining == 0:
            row.status = "done"
        elif row.kind == "cron":
            row.due_at = croniter(
                row.spec,
                now.astimezone(ZoneInfo(services.settings.timezone)),
                second_at_beginning=len(row.spec.split()) >= 6,
            ).get_next(datetime)
        else:
            step: timedelta = _interval(row.spec)
            while row.due_at <= now:
                row.due_at = row.due_at + step
            if row.remaining > 0:
                row.remaining -= 1
        return True
