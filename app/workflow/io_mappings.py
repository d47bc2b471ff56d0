"""camunda:inputOutput: read and translate parameters at deploy time, apply them at run time.

Camunda 7 semantics, as corpflow keeps them on one data dictionary per engine task:

* input parameters are evaluated in order when the activity is entered (each may use the ones
  before it) and become *local* variables of the activity: its expressions, form, handler and
  call-activity mappings see them;
* output parameters are evaluated when the activity completes, against everything the activity
  sees (locals included), and are written to the process;
* then the locals disappear: a process variable an input parameter shadowed gets its value
  back, a name that only existed as a local is removed.

Values are text (a constant, or a `${...}` expression or template), `camunda:list`,
`camunda:map` (nested freely) or nothing (null). `camunda:script` values are rejected at deploy
time, like script tasks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException  # type: ignore[import-untyped]

from app.workflow.model import ElementInfo, IoMapping, IoValue
from app.workflow.multi_instance import is_loop
from app.workflow.xml import CAMUNDA_NS

C = f"{{{CAMUNDA_NS}}}"
_LOCALS = "io_locals"


class Linter(Protocol):
    """What the BPMN reader offers: report an issue, translate JUEL (None when it cannot)."""

    def issue(
        self,
        severity: str,
        message: str,
        node: etree._Element | None,
        element_id: str | None = None,
    ) -> None: ...

    def translate(
        self,
        text: str,
        node: etree._Element,
        what: str,
        element_id: str | None = None,
        timer: bool = False,
    ) -> str | None: ...


# -- deploy time --------------------------------------------------------------------------------


def read_input_output(lint: Linter, element: etree._Element, io_node: etree._Element) -> IoMapping:
    eid = element.get("id")
    inputs: list[tuple[str, IoValue]] = []
    outputs: list[tuple[str, IoValue]] = []
    for param in io_node:
        if not isinstance(param.tag, str):
            continue  # a comment
        kind = etree.QName(param.tag).localname
        if kind not in ("inputParameter", "outputParameter"):
            continue
        name = (param.get("name") or "").strip()
        if not name:
            lint.issue("error", f"camunda:{kind} without a name", param, eid)
            continue
        value = _read_value(lint, param, f"camunda:{kind} '{name}'", eid)
        if value is not None:
            (inputs if kind == "inputParameter" else outputs).append((name, value))
    return IoMapping(tuple(inputs), tuple(outputs))


def _read_value(lint: Linter, node: etree._Element, what: str, eid: str | None) -> IoValue | None:
    children = [c for c in node if isinstance(c.tag, str)]
    if not children:
        text = (node.text or "").strip()
        if not text:
            return ("null",)
        source = lint.translate(text, node, what, eid)
        return ("expr", source) if source is not None else None
    child = children[0]
    kind = etree.QName(child.tag).localname
    if kind == "list":
        items = [_read_value(lint, v, what, eid) for v in child if isinstance(v.tag, str)]
        return None if any(i is None for i in items) else ("list", tuple(items))
    if kind == "map":
        entries: list[tuple[str, IoValue]] = []
        for entry in child:
            if not isinstance(entry.tag, str):
                continue
            value = _read_value(lint, entry, f"{what}, key '{entry.get('key')}'", eid)
            if value is None:
                return None
            entries.append((entry.get("key") or "", value))
        return ("map", tuple(entries))
    if kind == "script":
        lint.issue(
            "error",
            f"{what}: script values ({child.get('scriptFormat') or 'unknown'}) are not run by "
            "corpflow; write a ${...} expression",
            child,
            eid,
        )
        return None
    lint.issue("error", f"{what}: unsupported value <{kind}>", child, eid)
    return None


# -- run time -----------------------------------------------------------------------------------


def attach(specs: Iterable[Any], elements: Mapping[str, ElementInfo]) -> None:
    """Hook the parameters of every element that has some into the engine's task specs."""
    for spec in specs:
        if spec is None:
            continue
        for task_spec in spec.task_specs.values():
            info = elements.get(getattr(task_spec, "bpmn_id", None) or "")
            if info is None or info.io is None or is_loop(task_spec):
                continue  # a multi-instance body: its inner instances carry the parameters
            if info.io.inputs and not task_spec.update_event.is_connected(_enter):
                task_spec.update_event.connect(_enter, info.io)
            if not task_spec.completed_event.is_connected(_leave):
                task_spec.completed_event.connect(_leave, info.io)


def _enter(workflow: Any, task: Any, io: IoMapping) -> None:
    outer = task.parent.data if task.parent is not None else {}
    names = [name for name, _ in io.inputs]
    task.internal_data[_LOCALS] = {
        "names": names,
        "shadowed": {name: outer[name] for name in names if name in outer},
    }
    for name, value in io.inputs:
        task.data[name] = _evaluate(task, value, f"camunda:inputParameter '{name}'")


def _leave(workflow: Any, task: Any, io: IoMapping) -> None:
    results = {
        name: _evaluate(task, value, f"camunda:outputParameter '{name}'")
        for name, value in io.outputs
    }
    local = task.internal_data.pop(_LOCALS, None) or {}
    shadowed = local.get("shadowed", {})
    for name in local.get("names", []):
        if name in shadowed:
            task.data[name] = shadowed[name]
        else:
            task.data.pop(name, None)
    task.data.update(results)


def _evaluate(task: Any, value: IoValue, what: str) -> Any:
    kind = value[0]
    if kind == "null":
        return None
    if kind == "list":
        return [_evaluate(task, item, what) for item in value[1]]
    if kind == "map":
        return {key: _evaluate(task, item, what) for key, item in value[1]}
    try:
        return task.workflow.script_engine.evaluate(task, value[1])
    except WorkflowTaskException as exc:
        reason = exc.args[0] if exc.args else exc
        raise WorkflowTaskException(f"{what}: {reason}", task=task) from None
