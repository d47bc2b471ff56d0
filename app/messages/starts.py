"""Message start events: a message starts an instance of the latest version of a process."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.db import utcnow
from app.deployments.definitions import compiled_process, decision_resolver, list_processes
from app.deployments.models import ProcessDefinition
from app.errors import EngineError
from app.identity.actor import Actor
from app.instances import lifecycle, stepping
from app.instances.models import ProcessInstance
from app.workflow.events import start_messages
from app.workflow.runtime import Run

MAX_DEFINITIONS = 10_000


def definitions_started_by(session: Session, message_name: str) -> list[ProcessDefinition]:
    """Latest versions whose process starts with this message (compiled models are cached)."""
    rows, _total = list_processes(session, latest_only=True, limit=MAX_DEFINITIONS)
    found = []
    for row in rows:
        compiled = compiled_process(row)
        if any(
            message_name in start_messages(compiled, proc.id)
            for proc in compiled.document.processes
            if proc.id == row.key and proc.executable
        ):
            found.append(row)
    return found


def start(
    session: Session,
    actor: Actor,
    definition: ProcessDefinition,
    message_name: str,
    variables: Mapping[str, Any],
    business_key: str | None,
) -> ProcessInstance:
    """Start an instance whose message start event has caught `message_name` at once."""
    compiled = compiled_process(definition)
    model = compiled.process(definition.key)
    lifecycle.ensure_may_start(actor, definition.key, model)
    instance = ProcessInstance(
        id=stepping.new_instance_id(),
        definition_id=definition.id,
        process_key=definition.key,
        business_key=business_key,
        status="running",
        state={},
        version=0,
        started_by=actor.user_id,
        started_at=utcnow(),
    )
    stepping.refresh_calendar(session)
    run = Run.start(compiled, definition.key, dict(variables), decision_resolver(session))
    wait = next(
        (w for w in run.message_waits() if w.is_start and w.message_name == message_name), None
    )
    if wait is None:  # a none start event ran first, or the model changed under the cache
        raise EngineError(f"'{definition.key}' is not waiting for message '{message_name}'")
    run.correlate_message(wait.id, message_name, {})
    stepping.save(session, instance, run, new=True)
    stepping.history(
        session,
        instance,
        "instance_started",
        element_id=wait.element_id,
        user_id=actor.user_id,
        at=instance.started_at,
        definition_id=definition.id,
        business_key=business_key,
        message=message_name,
    )
    return instance
