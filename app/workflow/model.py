"""Plain-data description of deployed models: what corpflow reads from the XML itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FormField:
    """One `camunda:formField`: typed, with defaults and validation constraints."""

    id: str
    label: str
    type: str
    default: str | None = None
    # The default translated into the restricted language when the Modeler wrote an expression.
    default_expression: str | None = None
    constraints: tuple[tuple[str, str | None], ...] = ()
    enum_values: tuple[tuple[str, str], ...] = ()
    date_pattern: str | None = None

    @property
    def required(self) -> bool:
        return any(name == "required" for name, _ in self.constraints)


# A camunda:inputParameter / outputParameter value, translated at deploy time:
# ("expr", source) | ("list", (value, ...)) | ("map", ((key, value), ...)) | ("null",)
IoValue = tuple[Any, ...]


@dataclass(frozen=True)
class IoMapping:
    """`camunda:inputOutput` of an activity: local inputs on entry, outputs on completion."""

    inputs: tuple[tuple[str, IoValue], ...] = ()
    outputs: tuple[tuple[str, IoValue], ...] = ()


@dataclass(frozen=True)
class ElementInfo:
    """A flow node and every `camunda:*` attribute the Modeler wrote on it."""

    id: str
    kind: str
    name: str | None = None
    documentation: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    form_key: str | None = None
    form: tuple[FormField, ...] = ()
    # Translated (restricted-language) sources for assignment metadata, keyed by attribute name:
    # assignee, candidateGroups, candidateUsers, dueDate, followUpDate, priority.
    expressions: dict[str, str] = field(default_factory=dict)
    handler: str | None = None
    external_topic: str | None = None
    line: int | None = None
    io: IoMapping | None = None
    # A call activity's calledElement: the key of the process it runs.
    called_element: str | None = None


@dataclass(frozen=True)
class LintIssue:
    severity: str  # "error" | "warning"
    message: str
    element_id: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "message": self.message,
            "element_id": self.element_id,
            "line": self.line,
        }


@dataclass(frozen=True)
class ProcessModel:
    id: str
    name: str | None
    executable: bool
    elements: dict[str, ElementInfo]
    start_form: tuple[FormField, ...] = ()
    initiator_variable: str | None = None
    decision_refs: tuple[str, ...] = ()
    timer_elements: tuple[str, ...] = ()
    # element id -> (timeDate | timeDuration | timeCycle | cron, corpflow expression)
    timer_definitions: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The top-level timer start event, if the process starts on a schedule.
    start_timer: str | None = None

    @property
    def has_service_tasks(self) -> bool:
        return any(e.handler or e.external_topic for e in self.elements.values())

    # camunda:candidateStarterGroups / candidateStarterUsers: who may start it (empty = anyone).
    starter_groups: tuple[str, ...] = ()
    starter_users: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecisionModel:
    id: str
    name: str | None


@dataclass
class ModelDocument:
    """One uploaded file after reading, translating and linting."""

    filename: str
    kind: str  # "bpmn" | "dmn"
    processes: list[ProcessModel] = field(default_factory=list)
    decisions: list[DecisionModel] = field(default_factory=list)
    issues: list[LintIssue] = field(default_factory=list)

    @property
    def errors(self) -> list[LintIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[LintIssue]:
        return [i for i in self.issues if i.severity == "warning"]
