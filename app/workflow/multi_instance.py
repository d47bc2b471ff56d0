"""Camunda 7 multi-instance activities: collection, elementVariable, cardinality, completion.

The engine's own Camunda multi-instance treats `camunda:collection` as a variable name and
writes each instance's element variable back into it, knows no `nrOf*` variables and crashes on
`loopCardinality` with an output. This spec does what Camunda 7 does:

* `camunda:collection` is an expression (translated at deploy time) evaluated once when the
  activity starts; `loopCardinality` (an expression or a number) is used when there is none;
* each inner instance gets the local variables `loopCounter` and, with
  `camunda:elementVariable`, the element of the collection; they never reach the process;
* what an instance changes (form values, handler results, output parameters) is written to the
  process when it completes — at once for a sequential activity, when the activity completes
  for a parallel one (so parallel instances never undo each other's writes);
* `completionCondition` is evaluated after each instance with the instance's variables plus
  `nrOfInstances`, `nrOfCompletedInstances` and `nrOfActiveInstances`; when true, the
  remaining parallel instances are cancelled and no further sequential instance starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from copy import deepcopy
from functools import cache
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.mixins import BpmnSpecMixin  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (  # type: ignore[import-untyped]
    LoopTask,
)
from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]

from app.workflow.xml import CAMUNDA_NS

_STATE = "mi"
_LOCAL = "mi_local"
COUNTER = "loopCounter"


def is_loop(task_spec: Any) -> bool:
    """A multi-instance or loop body: it waits for its inner instances, it is not one of them."""
    return isinstance(task_spec, LoopTask)


class CamundaMultiInstanceTask(LoopTask, BpmnSpecMixin):  # type: ignore[misc]
    def __init__(
        self,
        wf_spec: Any,
        bpmn_id: str,
        task_spec: str,
        collection: str | None = None,
        element_variable: str | None = None,
        cardinality: str | None = None,
        condition: str | None = None,
        sequential: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.task_spec = task_spec
        self.collection = collection
        self.element_variable = element_variable
        self.cardinality = cardinality
        self.condition = condition
        self.sequential = sequential

    def _update_hook(self, my_task: Any) -> bool | None:
        super()._update_hook(my_task)
        items = self._items(my_task)
        my_task.internal_data[_STATE] = {
            "items": items if self.collection is not None else None,
            "count": len(items),
            "created": 0,
            "completed": 0,
            "updates": {},
        }
        if not items:
            return True
        my_task._set_state(TaskState.STARTED)
        for _ in range(1 if self.sequential else len(items)):
            self._create_child(my_task)
        return None

    def _items(self, my_task: Any) -> list[Any]:
        engine = my_task.workflow.script_engine
        if self.collection is not None:
            value = engine.evaluate(my_task, self.collection)
            if isinstance(value, dict) or not isinstance(value, (list, tuple, set, frozenset)):
                raise WorkflowTaskException(
                    f"camunda:collection must be a list, not {type(value).__name__}", task=my_task
                )
            return list(value)
        value = engine.evaluate(my_task, self.cardinality or "0")
        try:
            count = int(value)
        except (TypeError, ValueError):
            count = -1
        if count < 0 or isinstance(value, bool):
            raise WorkflowTaskException(
                f"loopCardinality must be a whole number >= 0, not {value!r}", task=my_task
            )
        return list(range(count))

    def _create_child(self, my_task: Any) -> None:
        state = my_task.internal_data[_STATE]
        index = state["created"]
        state["created"] = index + 1
        child_spec = my_task.workflow.spec.task_specs[self.task_spec]
        if not child_spec.completed_event.is_connected(self.merge_child):
            child_spec.completed_event.connect(self.merge_child)
        local: dict[str, Any] = {COUNTER: index}
        if self.element_variable:
            items = state["items"]
            local[self.element_variable] = deepcopy(items[index]) if items is not None else index
        child = my_task._add_child(child_spec, TaskState.WAITING)
        child.triggered = True
        child.internal_data[_LOCAL] = sorted(local)
        child.data = dict(local)
        # The instance inherits the body's data: a process variable of the same name must not
        # overwrite the instance's own value, so it is out of sight while the instance starts.
        hidden = {name: my_task.data.pop(name) for name in local if name in my_task.data}
        try:
            child.task_spec._update(child)
        finally:
            my_task.data.update(hidden)

    def merge_child(self, workflow: Any, child: Any) -> None:
        my_task = child.parent
        if my_task is None or my_task.task_spec is not self or _STATE not in my_task.internal_data:
            return
        state = my_task.internal_data[_STATE]
        local = set(child.internal_data.get(_LOCAL, []))
        changed = {
            name: value
            for name, value in child.data.items()
            if name not in local and (name not in my_task.data or my_task.data[name] != value)
        }
        if self.sequential:
            my_task.data.update(changed)
        else:
            state["updates"].update(changed)
        state["completed"] += 1
        done = state["completed"] >= state["count"]
        if not done and self.condition and self._condition_met(my_task, child, state):
            done = True
            for other in list(my_task.children):
                if other.task_spec.name == self.task_spec and not other.has_state(
                    TaskState.FINISHED_MASK
                ):
                    other.cancel()
        if done:
            my_task.data.update(state["updates"])
            state["updates"] = {}
            my_task._set_state(TaskState.READY)
        elif self.sequential:
            self._create_child(my_task)

    def _condition_met(self, my_task: Any, child: Any, state: dict[str, Any]) -> bool:
        active = 1 if self.sequential else state["count"] - state["completed"]
        counts = {
            "nrOfInstances": state["count"],
            "nrOfCompletedInstances": state["completed"],
            "nrOfActiveInstances": active,
        }
        return bool(my_task.workflow.script_engine.evaluate(child, self.condition, counts))


def connect_instances(specs: Iterable[Any]) -> None:
    """Let every multi-instance body hear its instances complete, from the start.

    Called once the specs are built and their other completion hooks (output parameters)
    attached, so those run first; an instance restored in a fresh process completes into its
    body even though that process never created an instance itself.
    """
    for spec in specs:
        for task_spec in spec.task_specs.values() if spec is not None else ():
            if isinstance(task_spec, CamundaMultiInstanceTask):
                child = spec.task_specs[task_spec.task_spec]
                if not child.completed_event.is_connected(task_spec.merge_child):
                    child.completed_event.connect(task_spec.merge_child)


class CamundaLoopParserMixin:
    """Builds CamundaMultiInstanceTask from `multiInstanceLoopCharacteristics` (parsers only)."""

    def _add_multiinstance_task(self, loop: Any) -> None:
        parser: Any = self
        prefix = "./bpmn:multiInstanceLoopCharacteristics"
        cardinality_nodes = parser.xpath(f"{prefix}/bpmn:loopCardinality")
        cardinality = (cardinality_nodes[0].text or "").strip() if cardinality_nodes else None
        collection = loop.get(f"{{{CAMUNDA_NS}}}collection")
        if collection is None and not cardinality:
            # A standard BPMN loopDataInputRef, or nothing: the engine's parser decides.
            super()._add_multiinstance_task(loop)  # type: ignore[misc]
            return
        condition_nodes = parser.xpath(f"{prefix}/bpmn:completionCondition")
        condition = (condition_nodes[0].text or "").strip() if condition_nodes else None
        original = parser.spec.task_specs.pop(parser.task.name)
        parser.task = CamundaMultiInstanceTask(
            parser.spec,
            original.name,
            "",
            collection=collection,
            element_variable=loop.get(f"{{{CAMUNDA_NS}}}elementVariable"),
            cardinality=cardinality,
            condition=condition or None,
            sequential=loop.get("isSequential") == "true",
        )
        parser._copy_task_attrs(original, loop)


@cache
def _with_loops(parser_class: type) -> type:
    return type(parser_class.__name__, (CamundaLoopParserMixin, parser_class), {})


def with_camunda_loops(classes: dict[str, tuple[type, type]]) -> dict[str, tuple[type, type]]:
    """The same parser map, every task parser building Camunda multi-instance bodies."""
    return {
        tag: (_with_loops(parser) if issubclass(parser, TaskParser) else parser, spec)
        for tag, (parser, spec) in classes.items()
    }
