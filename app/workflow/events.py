"""BPMN errors and messages inside one loaded workflow: who waits, who catches, delivery."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnEvent  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser.event_parsers import (  # type: ignore[import-untyped]
    EventDefinitionParser,
)
from SpiffWorkflow.bpmn.specs.defaults import (  # type: ignore[import-untyped]
    BoundaryEvent,
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (  # type: ignore[import-untyped]
    ErrorEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import (  # type: ignore[import-untyped]
    MessageEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import (  # type: ignore[import-untyped]
    MultipleEventDefinition,
)
from SpiffWorkflow.camunda.parser.event_parsers import (  # type: ignore[import-untyped]
    CamundaBoundaryEventParser,
    CamundaEndEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaIntermediateThrowEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]

if TYPE_CHECKING:  # the compiler imports the engine, which imports this module
    from app.workflow.compiler import CompiledBpmn


@dataclass(frozen=True)
class MessageWait:
    """A task waiting for a message: an intermediate catch, receive task or boundary event."""

    id: str
    element_id: str
    message_name: str
    # The waiting task's own data: what Camunda's localCorrelationKeys are matched against.
    local: dict[str, Any]
    is_start: bool


class _PlainMessageParser:
    """Camunda's message events are parsed as plain BPMN ones.

    The camunda flavour stores a message's payload under one result variable (reference §7);
    Camunda's REST API sends `processVariables` that become process variables, which the plain
    definition does (`set_data(**payload)`). Receive tasks already use the plain definition, so
    every message catcher now behaves the same.
    """

    def parse_message_event(self, message_event: Any) -> Any:
        return EventDefinitionParser.parse_message_event(self, message_event)


def _plain(parser: type) -> type:
    return type(f"Plain{parser.__name__}", (_PlainMessageParser, parser), {})


MESSAGE_EVENT_PARSERS: dict[str, Any] = {
    full_tag("startEvent"): (_plain(CamundaStartEventParser), StartEvent),
    full_tag("endEvent"): (_plain(CamundaEndEventParser), EndEvent),
    full_tag("intermediateCatchEvent"): (
        _plain(CamundaIntermediateCatchEventParser),
        IntermediateCatchEvent,
    ),
    full_tag("intermediateThrowEvent"): (
        _plain(CamundaIntermediateThrowEventParser),
        IntermediateThrowEvent,
    ),
    full_tag("boundaryEvent"): (_plain(CamundaBoundaryEventParser), BoundaryEvent),
}


def _definitions(task: Any) -> Iterator[Any]:
    return _spec_definitions(task.task_spec)


def catches_messages(workflow: Any) -> bool:
    """Whether any element of the instance's process (or its subprocesses) waits for messages."""
    # A called process that is not deployed yet has no spec (its call raised an incident).
    specs = [s for s in (workflow.spec, *workflow.subprocess_specs.values()) if s is not None]
    return any(
        isinstance(definition, MessageEventDefinition)
        for spec in specs
        for task_spec in spec.task_specs.values()
        for definition in _spec_definitions(task_spec)
    )


def _spec_definitions(task_spec: Any) -> Iterator[Any]:
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        yield from definition.event_definitions
    elif definition is not None:
        yield definition


def start_messages(compiled: CompiledBpmn, process_id: str) -> set[str]:
    """Names of the messages that start the process (its top-level message start events)."""
    spec, _subprocesses = compiled.spec_for(process_id)
    return {
        definition.name
        for task_spec in getattr(spec, "bpmn_start_events", ())
        for definition in _spec_definitions(task_spec)
        if isinstance(definition, MessageEventDefinition) and definition.name
    }


def message_waits(workflow: Any) -> list[MessageWait]:
    """Every task of the instance that a message would be delivered to now."""
    waits = []
    start_ids = {t.bpmn_id for t in getattr(workflow.spec, "bpmn_start_events", ())}
    for task in list(workflow.event_manager.tasks.values()):
        if task.state != TaskState.WAITING:
            continue
        for definition in _definitions(task):
            if isinstance(definition, MessageEventDefinition) and definition.name:
                element = task.task_spec.bpmn_id or ""
                is_start = task.workflow is workflow and element in start_ids
                waits.append(
                    MessageWait(str(task.id), element, definition.name, dict(task.data), is_start)
                )
    return waits


def deliver_message(workflow: Any, task: Any, name: str, variables: Mapping[str, Any]) -> None:
    """Hand a message with its process variables to one waiting task; the caller steps."""
    for definition in _definitions(task):
        if isinstance(definition, MessageEventDefinition) and definition.name == name:
            event = BpmnEvent(definition, payload=dict(variables))
            task.task_spec.catch(task, event)
            task.task_spec._update(task)
            return
    raise LookupError(f"task {task.id} is not waiting for message '{name}'")


def _error_catchers(task: Any, code: str) -> Iterator[Any]:
    """Waiting error boundary events of `task`, then of each enclosing subprocess activity."""
    probe = ErrorEventDefinition(code, code)
    event = BpmnEvent(probe)
    current = task
    while current is not None:
        split = current.parent
        for sibling in split.children if split is not None else ():
            if sibling is current or sibling.state != TaskState.WAITING:
                continue
            definition = getattr(sibling.task_spec, "event_definition", None)
            if isinstance(definition, ErrorEventDefinition) and definition.catches(sibling, event):
                yield sibling
        parent_id = current.workflow.parent_task_id
        top = current.workflow.top_workflow
        current = top.get_task_from_id(parent_id) if parent_id is not None else None


def throw_error(task: Any, code: str, variables: Mapping[str, Any]) -> str | None:
    """Throw BPMN error `code` from `task`; return the catching element id, None if uncaught.

    Only boundary events on the task and on the subprocesses around it are searched (as in
    Camunda, the nearest one wins); error event subprocesses are not supported yet. Nothing
    changes when no boundary event catches the code.
    """
    catcher = next(_error_catchers(task, code), None)
    if catcher is None:
        return None
    definition = catcher.task_spec.event_definition
    # camunda:errorCodeVariable / errorMessageVariable are not read yet: the thrown variables
    # are what reaches the boundary event's path.
    event = BpmnEvent(ErrorEventDefinition(definition.name, code), payload=dict(variables))
    catcher.task_spec.catch(catcher, event)
    catcher.task_spec._update(catcher)
    return str(catcher.task_spec.bpmn_id)
