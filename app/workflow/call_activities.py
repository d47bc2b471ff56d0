"""Call activities: the called process runs inside the caller's instance, mapped like Camunda 7.

Design. A call activity runs the called process as an engine subworkflow of the *same*
instance: one `process_instance` row per top-level process, one state, one row lock, one
history. The called process is another deployed definition; it is resolved whenever the
instance is loaded (started or stepped) by key — the latest version, or the one
`camunda:calledElementBinding="version"` + `camunda:calledElementVersion` names, or the one
from the caller's deployment with `calledElementBinding="deployment"` — and its spec is handed
to the engine with the caller's. Once an instance has called a definition it keeps that
definition (`Run.state()` stores the pin) so a later deployment never changes a running
subworkflow under it. Tasks inside the called process are reported with the called process's
key and definition id, so its user tasks show up in the task list as that process's tasks
while belonging to the caller's instance.

Data: only what `camunda:in` passes reaches the called process (`source`/`target`,
`sourceExpression`, `variables="all"`), and only what `camunda:out` passes comes back; the
caller keeps its own variables. `camunda:in businessKey` is accepted and needs nothing: the
called process shares the caller's instance and business key.

A called process that is not deployed is a deploy-time warning; reaching it leaves the call
activity waiting (`blocked_calls`) and raises an incident; retrying the incident after the
deployment starts it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.task_parsers import SubprocessParser  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.defaults import CallActivity  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser.task_spec import (  # type: ignore[import-untyped]
    CallActivityParser,
)

from app.workflow.io_mappings import Linter
from app.workflow.model import ProcessModel
from app.workflow.xml import BPMN_NS, CAMUNDA_NS

if TYPE_CHECKING:
    from app.workflow.compiler import CompiledBpmn

B = f"{{{BPMN_NS}}}"
C = f"{{{CAMUNDA_NS}}}"
MISSING = "called_process_missing"
BINDINGS = ("latest", "deployment", "version")
# (kind, source, target): kind "var" (source is a variable name), "expr" (a translated
# expression), "all" (every variable; source and target are empty).
VarMapping = tuple[str, str, str]


# -- deploy time --------------------------------------------------------------------------------


def read_call_activity(lint: Linter, node: etree._Element) -> str | None:
    """Lint and translate one call activity in place; return its called process key."""
    eid = node.get("id")
    called = (node.get("calledElement") or "").strip()
    if not called:
        lint.issue("error", "call activity without calledElement", node)
        return None
    if "${" in called or "#{" in called:
        lint.issue(
            "error",
            f"calledElement '{called}' is an expression; corpflow calls a fixed process key",
            node,
        )
        return None
    binding = node.get(f"{C}calledElementBinding") or "latest"
    if binding == "versionTag":
        lint.issue(
            "warning", "calledElementBinding 'versionTag' is not supported; latest is called", node
        )
    elif binding not in BINDINGS:
        lint.issue("error", f"unknown calledElementBinding '{binding}'", node)
    elif binding == "version" and not (node.get(f"{C}calledElementVersion") or "").isdigit():
        lint.issue("error", "calledElementBinding 'version' needs a calledElementVersion", node)
    ext = node.find(f"{B}extensionElements")
    for mapping in ext if ext is not None else ():
        if not isinstance(mapping.tag, str) or mapping.tag not in (f"{C}in", f"{C}out"):
            continue
        direction = etree.QName(mapping.tag).localname
        expression = mapping.get("sourceExpression")
        if expression is not None:
            what = f"camunda:{direction} sourceExpression"
            translated = lint.translate(expression, mapping, what, eid)
            if translated is not None:
                mapping.set("sourceExpression", translated)
        if mapping.get("variables") == "all" or mapping.get("businessKey") is not None:
            continue
        if not mapping.get("target") or (expression is None and not mapping.get("source")):
            lint.issue(
                "error",
                f"camunda:{direction} needs source (or sourceExpression) and target",
                mapping,
                eid,
            )
    return called


def _mappings(node: etree._Element, direction: str) -> tuple[VarMapping, ...]:
    found: list[VarMapping] = []
    for mapping in node.iterfind(f"{B}extensionElements/{C}{direction}"):
        if mapping.get("variables") == "all":
            found.append(("all", "", ""))
        elif mapping.get("sourceExpression") is not None:
            found.append(("expr", mapping.get("sourceExpression") or "", mapping.get("target", "")))
        elif mapping.get("source"):
            found.append(("var", mapping.get("source") or "", mapping.get("target", "")))
    return tuple(found)


# -- the engine's spec ------------------------------------------------------------------------


class CamundaCallActivity(CallActivity):  # type: ignore[misc]
    def __init__(
        self,
        wf_spec: Any,
        bpmn_id: str,
        subworkflow_spec: str,
        in_mappings: tuple[VarMapping, ...] = (),
        out_mappings: tuple[VarMapping, ...] = (),
        binding: str = "latest",
        version: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(wf_spec, bpmn_id, subworkflow_spec, **kwargs)
        self.in_mappings = in_mappings
        self.out_mappings = out_mappings
        self.binding = binding
        self.version = version

    def start_workflow(self, my_task: Any) -> None:
        if my_task.workflow.top_workflow.subprocess_specs.get(self.spec) is None:
            # Not deployed: the task waits in STARTED; corpflow raises the incident.
            my_task.internal_data[MISSING] = self.spec
            return
        my_task.internal_data.pop(MISSING, None)
        super().start_workflow(my_task)

    def copy_data(self, my_task: Any, subworkflow: Any) -> None:
        start = subworkflow.get_next_task(
            subworkflow.task_tree, skip_subprocesses=True, spec_name="Start"
        )
        start.set_data(**_mapped(my_task, self.in_mappings))

    def update_data(self, my_task: Any, subworkflow: Any) -> None:
        my_task.data.update(_mapped(subworkflow.last_task, self.out_mappings))


def _mapped(source: Any, mappings: tuple[VarMapping, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for kind, name, target in mappings:
        if kind == "all":
            values.update(deepcopy(source.data))
        elif kind == "var":
            values[target] = deepcopy(source.data.get(name))
        else:
            values[target] = source.workflow.script_engine.evaluate(source, name)
    return values


class CamundaCallActivityParser(CallActivityParser):  # type: ignore[misc]
    def create_task(self) -> CamundaCallActivity:
        node = self.node
        return CamundaCallActivity(
            self.spec,
            self.bpmn_id,
            SubprocessParser.get_call_activity_spec(self),
            in_mappings=_mappings(node, "in"),
            out_mappings=_mappings(node, "out"),
            binding=node.get(f"{C}calledElementBinding") or "latest",
            version=node.get(f"{C}calledElementVersion"),
            **self.bpmn_attributes,
        )


# -- resolving called processes when an instance is loaded ----------------------------------------


@dataclass(frozen=True)
class CallRequest:
    key: str
    binding: str = "latest"
    version: str | None = None
    # The definition this instance already called under this key: it keeps using it.
    pinned: str | None = None


@dataclass(frozen=True)
class CalledProcess:
    definition_id: str
    compiled: CompiledBpmn


CalledResolver = Callable[[CallRequest], "CalledProcess | None"]


@dataclass
class CallGraph:
    """Everything an instance may run: specs by name, and whose model each called key is."""

    subprocess_specs: dict[str, Any]
    # called process key -> (its model, its definition id; None = the caller's own file)
    models: dict[str, tuple[ProcessModel, str | None]] = field(default_factory=dict)
    # called process key -> definition id resolved from the store (what state() pins)
    resolved: dict[str, str] = field(default_factory=dict)


def resolve_calls(
    compiled: CompiledBpmn,
    process_id: str,
    resolver: CalledResolver | None,
    pins: Mapping[str, str],
) -> CallGraph:
    spec, subs = compiled.spec_for(process_id)
    graph = CallGraph(dict(subs))
    # (spec to scan, the compiled file it came from, that file's definition id)
    pending: list[tuple[Any, CompiledBpmn, str | None]] = [(spec, compiled, None)]
    pending += [(s, compiled, None) for s in subs.values() if s is not None]
    seen: set[int] = set()
    while pending:
        owner, owner_file, owner_definition = pending.pop()
        if id(owner) in seen:
            continue
        seen.add(id(owner))
        for task_spec in owner.task_specs.values():
            if not isinstance(task_spec, CamundaCallActivity) or task_spec.spec in graph.models:
                continue
            key = task_spec.spec
            if key in owner_file.specs:  # the called process is in the same file
                found: tuple[CompiledBpmn, str | None] | None = (owner_file, owner_definition)
            elif resolver is None:
                found = None
            else:
                called = resolver(
                    CallRequest(key, task_spec.binding, task_spec.version, pins.get(key))
                )
                found = (called.compiled, called.definition_id) if called else None
                if called is not None:
                    graph.resolved[key] = called.definition_id
            if found is None:
                graph.subprocess_specs.setdefault(key, None)
                continue
            called_file, definition_id = found
            called_spec, called_subs = called_file.spec_for(key)
            graph.subprocess_specs[key] = called_spec
            graph.models[key] = (called_file.process(key), definition_id)
            pending.append((called_spec, called_file, definition_id))
            for name, sub in called_subs.items():
                if sub is not None and graph.subprocess_specs.get(name) is None:
                    graph.subprocess_specs[name] = sub
                    pending.append((sub, called_file, definition_id))
    return graph
