"""The SpiffWorkflow doorway: restricted script engine, decision tasks, parser and serializer."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar
from uuid import UUID
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.serializer.default import BpmnTaskSpecConverter  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.serializer.default.workflow import (  # type: ignore[import-untyped]
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.mixins import BpmnSpecMixin  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.serializer import (  # type: ignore[import-untyped]
    DEFAULT_CONFIG as CAMUNDA_CONFIG,
)

from app.workflow.dmn import Decision, DecisionResult
from app.workflow.events import MESSAGE_EVENT_PARSERS
from app.workflow.expressions import ExpressionError, compile_expression
from app.workflow.xml import CAMUNDA_NS

# key -> (decision, every decision it may require), resolved by the caller's store.
DecisionResolver = Callable[[str], tuple[Decision, Mapping[str, Decision]]]


class SafeScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Evaluates translated expressions with corpflow's interpreter; never eval/exec."""

    def __init__(self, decisions: DecisionResolver | None = None) -> None:
        super().__init__(environment=None)
        self.decisions = decisions
        # Engine task ids whose timer due date came from an estimated working-day calendar.
        self.estimated: set[str] = set()

    def validate(self, expression: str) -> None:
        compile_expression(expression)

    def evaluate(
        self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            result = compile_expression(expression).evaluate(task.data, external_context)
        except ExpressionError as exc:
            raise WorkflowTaskException(str(exc), task=task) from None
        if getattr(result, "estimated", False):
            self.estimated.add(str(task.id))
        return _engine_value(result)

    def execute(
        self, task: Any, script: str, external_context: Mapping[str, Any] | None = None
    ) -> None:
        # Script tasks are rejected at deploy time; reaching one means a bypassed lint.
        raise WorkflowTaskException("script execution is disabled in corpflow", task=task)

    def call_service(self, task: Any, **kwargs: Any) -> None:
        raise WorkflowTaskException("service calls run through corpflow handlers", task=task)

    def decide(self, task: Any, decision_ref: str) -> DecisionResult:
        if self.decisions is None:
            raise WorkflowTaskException(f"no decision '{decision_ref}' is deployed", task=task)
        try:
            decision, registry = self.decisions(decision_ref)
            return decision.evaluate(task.data, registry)
        except WorkflowTaskException:
            raise
        except Exception as exc:  # a decision error is an engine error with the task attached
            raise WorkflowTaskException(f"decision '{decision_ref}': {exc}", task=task) from None


# The bank's zone: a date-time without an offset means local time there, never the server's.
BANK_TIMEZONE = "Asia/Shanghai"


def _engine_value(result: Any) -> Any:
    """What the engine's timers can read: ISO text with an offset, or an ISO duration."""
    zone = ZoneInfo(BANK_TIMEZONE)
    if isinstance(result, datetime):
        return (result if result.tzinfo else result.replace(tzinfo=zone)).isoformat()
    if isinstance(result, date):
        return datetime.combine(result, time.min, tzinfo=zone).isoformat()
    if isinstance(result, timedelta):
        return f"PT{int(result.total_seconds())}S"
    if isinstance(result, relativedelta):
        r = result.normalized()
        return (f"P{r.years}Y{r.months}M{r.days}DT{r.hours}H{r.minutes}M"
                f"{int(r.seconds)}S")  # fmt: skip
    if isinstance(result, str) and _NAIVE_ISO.match(result):
        try:
            parsed = datetime.fromisoformat(result)
        except ValueError:
            return result
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=zone).isoformat()
    return result


_NAIVE_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


class DecisionTask(BpmnSpecMixin):  # type: ignore[misc]
    """Business rule task evaluated by corpflow's DMN evaluator with Camunda result mapping."""

    def __init__(
        self,
        wf_spec: Any,
        bpmn_id: str,
        decision_ref: str = "",
        result_variable: str | None = None,
        map_decision_result: str = "resultList",
        **kwargs: Any,
    ) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.decision_ref = decision_ref
        self.result_variable = result_variable
        self.map_decision_result = map_decision_result

    def _run_hook(self, my_task: Any) -> bool:
        engine: SafeScriptEngine = my_task.workflow.script_engine
        result = engine.decide(my_task, self.decision_ref)
        try:
            mapped = _map_result(result, self.map_decision_result)
        except Exception as exc:
            raise WorkflowTaskException(
                f"decision '{self.decision_ref}' result cannot be mapped with "
                f"{self.map_decision_result}: {exc}",
                task=my_task,
            ) from None
        if self.result_variable:
            my_task.data[self.result_variable] = mapped
        elif len(result) == 1:
            # Without resultVariable Camunda keeps the result only for listeners; merging a single
            # rule's outputs into the data is what modellers coming from Spiff expect.
            my_task.data.update(result[0])
        return True


def _map_result(result: DecisionResult, mapping: str) -> Any:
    if mapping == "singleEntry":
        return result.single_entry()
    if mapping == "singleResult":
        return result.single_result()
    if mapping == "collectEntries":
        return result.collect_entries()
    return result.result_list()


class DecisionTaskParser(CamundaTaskParser):  # type: ignore[misc]
    @staticmethod
    def get_decision_ref(node: Any) -> str:
        return str(node.get(f"{{{CAMUNDA_NS}}}decisionRef", ""))

    def create_task(self) -> DecisionTask:
        ns = f"{{{CAMUNDA_NS}}}"
        return DecisionTask(
            self.spec,
            self.bpmn_id,
            decision_ref=self.node.get(f"{ns}decisionRef", ""),
            result_variable=self.node.get(f"{ns}resultVariable"),
            map_decision_result=self.node.get(f"{ns}mapDecisionResult", "resultList"),
            **self.bpmn_attributes,
        )


class CorpflowParser(CamundaParser):  # type: ignore[misc]
    """Camunda parser whose business rule tasks use corpflow's DMN evaluator."""

    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, Any]] = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("businessRuleTask"): (DecisionTaskParser, DecisionTask),
        # Message catchers receive Camunda's processVariables as process variables.
        **MESSAGE_EVENT_PARSERS,
    }


# The stock Camunda config has no converter for bpmn:serviceTask (reference §8.1): add it so a
# full serialization (debugging, export) works too.
_CONFIG = dict(CAMUNDA_CONFIG)
_CONFIG[ServiceTask] = BpmnTaskSpecConverter
_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))
_REGISTRY = _SERIALIZER.registry
_WF = BpmnWorkflowConverter(BpmnWorkflow, _REGISTRY)


def dump_state(workflow: BpmnWorkflow) -> dict[str, Any]:
    """Serialize the instance only: the spec lives in the definition store, not in every row."""
    _REGISTRY._encoder_mode = True
    try:
        dct: dict[str, Any] = WorkflowConverter.to_dict(_WF, workflow)
        dct["subprocesses"] = _WF.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = _REGISTRY.convert(workflow.bpmn_events)
        dct["serializer_version"] = _SERIALIZER.VERSION
    finally:
        _REGISTRY._encoder_mode = False
    _ordered_tasks(dct, to_list=True)
    for sub in dct["subprocesses"].values():
        _ordered_tasks(sub, to_list=True)
    return dct


def _ordered_tasks(dct: dict[str, Any], *, to_list: bool) -> None:
    # A task's data is stored as a delta against its parent, so parents must be restored first.
    # PostgreSQL's JSONB does not keep object key order: keep the tasks as an ordered list.
    tasks = dct.get("tasks")
    if to_list and isinstance(tasks, dict):
        dct["tasks"] = list(tasks.values())
    elif not to_list:
        by_id = {t["id"]: t for t in tasks} if isinstance(tasks, list) else dict(tasks or {})
        # Walk the tree from the root so every parent precedes its children, whatever order
        # the stored form had (a mapping from JSONB is sorted by key, not by tree).
        ordered: dict[str, Any] = {}
        pending = [dct["root"]]
        while pending:
            task_id = pending.pop(0)
            task = by_id.get(task_id)
            if task is None or task_id in ordered:
                continue
            ordered[task_id] = task
            pending.extend(task.get("children", []))
        for task_id, task in by_id.items():
            ordered.setdefault(task_id, task)
        dct["tasks"] = ordered


def load_state(
    state: Mapping[str, Any],
    spec: Any,
    subprocess_specs: Mapping[str, Any],
    engine: SafeScriptEngine,
) -> BpmnWorkflow:
    """Rebuild a workflow from state plus the cached spec; the safe engine is attached here."""
    dct = dict(state)
    dct.pop("serializer_version", None)
    _ordered_tasks(dct, to_list=False)
    dct["subprocesses"] = {key: dict(sub) for key, sub in dct["subprocesses"].items()}
    for sub in dct["subprocesses"].values():
        _ordered_tasks(sub, to_list=False)
    workflow = BpmnWorkflow(spec, dict(subprocess_specs), deserializing=True)
    workflow.tasks = _WF.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    _WF.set_default_attributes(workflow, dct)
    _WF.subprocesses_from_dict(dict(dct["subprocesses"]), workflow)
    workflow.bpmn_events = _REGISTRY.restore(dct.get("bpmn_events", []))
    # A deserialized workflow carries Spiff's default eval-based engine: replace it every time.
    workflow.script_engine = engine
    return workflow


def new_workflow(
    spec: Any, subprocess_specs: Mapping[str, Any], engine: SafeScriptEngine
) -> BpmnWorkflow:
    return BpmnWorkflow(spec, dict(subprocess_specs), script_engine=engine)
