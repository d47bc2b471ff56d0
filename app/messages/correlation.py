"""Correlate a message: deliver it to waiting instances, or start one by a message start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ConflictError, InvalidInputError
from app.external_tasks.access import require_worker
from app.identity.actor import Actor
from app.instances import stepping
from app.instances.models import ProcessInstance
from app.messages import starts
from app.messages.models import MessageSubscription
from app.workflow.runtime import Run


@dataclass(frozen=True)
class Message:
    """Camunda's CorrelationMessageDto, as plain values."""

    name: str
    business_key: str | None = None
    instance_id: str | None = None
    # Equality on process variables, and on the waiting task's own variables.
    correlation_keys: Mapping[str, Any] = field(default_factory=dict)
    local_correlation_keys: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    all: bool = False


@dataclass(frozen=True)
class Correlated:
    """Where the message went: "Execution" (a waiting instance) or "ProcessDefinition"."""

    kind: str
    instance: ProcessInstance
    element_id: str | None


def _matches(values: Mapping[str, Any], keys: Mapping[str, Any]) -> bool:
    return all(name in values and values[name] == value for name, value in keys.items())


def _waiting(
    session: Session, message: Message
) -> list[tuple[ProcessInstance, Run, MessageSubscription]]:
    """Lock and load every instance with a matching subscription (in id order: no deadlock)."""
    query = select(MessageSubscription).where(MessageSubscription.message_name == message.name)
    if message.business_key is not None:
        query = query.where(MessageSubscription.business_key == message.business_key)
    if message.instance_id is not None:
        query = query.where(MessageSubscription.instance_id == message.instance_id)
    rows = list(session.scalars(query.order_by(MessageSubscription.instance_id)))
    found: list[tuple[ProcessInstance, Run, MessageSubscription]] = []
    loaded: dict[str, tuple[ProcessInstance, Run]] = {}
    for row in rows:
        if row.instance_id not in loaded:
            instance = stepping.lock_instance(session, row.instance_id)
            if instance.status != "running" or not _matches(
                instance.variables, message.correlation_keys
            ):
                continue
            loaded[row.instance_id] = (instance, stepping.load(session, instance))
        instance, run = loaded[row.instance_id]
        wait = next((w for w in run.message_waits() if w.id == row.id), None)
        if wait is None or not _matches(wait.local, message.local_correlation_keys):
            continue
        found.append((instance, run, row))
    return found


def correlate(session: Session, actor: Actor, message: Message) -> list[Correlated]:
    """Deliver the message like Camunda: to the waiting executions that match; if none, start
    the processes whose message start event has its name. Without `all`, exactly one target
    may match; no target is an error (nothing changes either way)."""
    require_worker(actor, "correlate messages")
    if not message.name:
        raise InvalidInputError("messageName is required", errors={"messageName": "is required"})
    targets = _waiting(session, message)
    definitions = []
    if not targets and message.instance_id is None:
        definitions = starts.definitions_started_by(session, message.name)
    count = len(targets) + len(definitions)
    if count == 0:
        raise ConflictError(
            f"Cannot correlate message '{message.name}': No process definition or execution "
            "matches the parameters",
            code="message_not_correlated",
        )
    if count > 1 and not message.all:
        raise ConflictError(
            f"Cannot correlate a message with name '{message.name}' to a single execution. "
            f"{count} executions match the correlation keys",
            code="message_ambiguous",
        )
    results: list[Correlated] = []
    saved: set[str] = set()
    for instance, run, row in targets:
        try:
            run.correlate_message(row.id, message.name, message.variables)
        except ConflictError:
            if instance.id not in saved:
                raise
            continue  # an earlier delivery to this instance took the path (event gateway)
        stepping.history(
            session,
            instance,
            "message_correlated",
            element_id=row.element_id,
            task_id=row.id,
            user_id=actor.user_id,
            message=message.name,
        )
        results.append(Correlated("Execution", instance, row.element_id))
        saved.add(instance.id)
    for instance_id in saved:
        instance, run, _row = next(t for t in targets if t[0].id == instance_id)
        stepping.save(session, instance, run)
    for definition in definitions:
        started = starts.start(
            session, actor, definition, message.name, message.variables, message.business_key
        )
        results.append(Correlated("ProcessDefinition", started, None))
    return results
