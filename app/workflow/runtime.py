"""Run one instance: start, restore, complete tasks, fire timers; results as plain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from croniter import croniter
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import (  # type: ignore[import-untyped]
    MultipleEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (  # type: ignore[import-untyped]
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.exceptions import WorkflowException  # type: ignore[import-untyped]
from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]

from app.errors import ConflictError, EngineError, NotFoundError
from app.workflow import engine
from app.workflow.call_activities import (
    MISSING,
    CalledResolver,
    CallGraph,
    CamundaCallActivity,
    resolve_calls,
)
from app.workflow.compiler import CompiledBpmn
from app.workflow.engine import (
    DecisionResolver,
    SafeScriptEngine,
    dump_state,
    load_state,
    new_workflow,
)
from app.workflow.events import (
    MessageWait,
    catches_messages,
    deliver_message,
    message_waits,
    throw_error,
)
from app.workflow.expressions import compile_expression
from app.workflow.model import ElementInfo, ProcessModel
from app.workflow.multi_instance import is_loop

_LIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING
# Where Run.state() keeps the definitions this instance called (see call_activities).
CALLED_PINS = "called_definitions"


@dataclass(frozen=True)
class UserTaskView:
    id: str
    element_id: str
    name: str | None
    data: dict[str, Any]
    # Set for a task of a called process (call activity): whose task it is.
    process_key: str | None = None
    definition_id: str | None = None


@dataclass(frozen=True)
class BlockedCallView:
    """A call activity waiting because the process it calls is not deployed."""

    id: str
    element_id: str
    called_key: str


@dataclass(frozen=True)
class ServiceTaskView:
    id: str
    element_id: str
    handler: str | None
    external_topic: str | None


@dataclass(frozen=True)
class TimerView:
    id: str
    element_id: str
    due_at: datetime
    estimated: bool = False


@dataclass(frozen=True)
class ActivityRecord:
    task_id: str
    element_id: str
    kind: str
    name: str | None


class Run:
    """One loaded instance. Engine objects stay inside; callers see the views above."""

    def __init__(
        self,
        workflow: Any,
        model: ProcessModel,
        graph: CallGraph | None = None,
        pins: Mapping[str, str] | None = None,
    ) -> None:
        self._wf = workflow
        self.model = model
        self.completed: list[ActivityRecord] = []
        self._graph = graph or CallGraph({})
        self._pins = dict(pins or {})
        # What readers derive from the engine's state (the live tasks in tree order, whether it
        # completed, whether it catches messages), computed once per engine state: every
        # engine action forgets it (see `_live`, `_guarded`).
        self._seen: dict[str, Any] = {}

    @classmethod
    def start(
        cls,
        compiled: CompiledBpmn,
        process_id: str,
        variables: Mapping[str, Any],
        decisions: DecisionResolver | None = None,
        *,
        fire_start: bool = False,
        called: CalledResolver | None = None,
    ) -> Run:
        spec, _subs = compiled.spec_for(process_id)
        graph = resolve_calls(compiled, process_id, called, {})
        run = cls(
            new_workflow(spec, graph.subprocess_specs, SafeScriptEngine(decisions)),
            compiled.process(process_id),
            graph,
        )
        for task in run._wf.get_tasks(state=TaskState.READY):
            task.data.update(variables)
        run._step()
        if fire_start:
            run._pass_start_timer()
        return run

    def _pass_start_timer(self) -> None:
        """Let a waiting timer start event through now: its due time was corpflow's to keep."""
        start_id = self.model.start_timer
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        for task in self._wf.get_tasks(state=TaskState.WAITING):
            if task.task_spec.bpmn_id != start_id:
                continue
            definition = task.task_spec.event_definition
            if isinstance(definition, CycleTimerEventDefinition):
                task.internal_data["event_value"] = {"cycles": 1, "next": past, "duration": 0}
            else:
                task.internal_data["event_value"] = past
        self.fire_due_timers()

    @classmethod
    def restore(
        cls,
        compiled: CompiledBpmn,
        process_id: str,
        state: Mapping[str, Any],
        decisions: DecisionResolver | None = None,
        *,
        called: CalledResolver | None = None,
    ) -> Run:
        spec, _subs = compiled.spec_for(process_id)
        pins = state.get(CALLED_PINS) or {}
        graph = resolve_calls(compiled, process_id, called, pins)
        workflow = load_state(state, spec, graph.subprocess_specs, SafeScriptEngine(decisions))
        return cls(workflow, compiled.process(process_id), graph, pins)

    # -- reading -----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        dct = dump_state(self._wf)
        for sub in self._wf.subprocesses.values():
            definition = self._graph.resolved.get(sub.spec.name)
            if definition is not None:
                self._pins.setdefault(sub.spec.name, definition)
        if self._pins:
            dct[CALLED_PINS] = dict(self._pins)
        return dct

    @property
    def is_completed(self) -> bool:
        if "completed" not in self._seen:
            self._seen["completed"] = bool(self._wf.is_completed())
        return bool(self._seen["completed"])

    @property
    def variables(self) -> dict[str, Any]:
        if self.is_completed:
            return dict(self._wf.data)
        live = self._live()
        merged: dict[str, Any] = {}
        for task in sorted(live, key=lambda t: t.last_state_change):
            if self._graph.models and self._called_owner(task) is not None:
                continue  # a called process's variables are its own, not the instance's
            merged.update(task.data)
        if not merged and self._wf.last_task is not None:
            merged.update(self._wf.last_task.data)
        return merged

    def user_tasks(self) -> list[UserTaskView]:
        views = []
        for t in self._live(TaskState.READY):
            if not t.task_spec.manual:
                continue
            owner = self._called_owner(t)
            views.append(
                UserTaskView(
                    str(t.id),
                    t.task_spec.bpmn_id,
                    t.task_spec.bpmn_name,
                    dict(t.data),
                    owner[0].id if owner else None,
                    owner[1] if owner else None,
                )
            )
        return views

    def element(self, task_id: str) -> ElementInfo:
        """The model element an engine task runs, in the caller's or a called process."""
        info = self._element_of(self._task(task_id))
        if info is None:
            raise NotFoundError(f"task {task_id} is not a model element")
        return info

    def variables_for(self, task_id: str) -> dict[str, Any]:
        """The variables one task sees: the instance's plus its locals (element variable,
        input parameters); inside a called process, only that process's variables."""
        task = self._task(task_id)
        if self._graph.models and self._called_owner(task) is not None:
            return dict(task.data)
        return {**self.variables, **task.data}

    def blocked_calls(self) -> list[BlockedCallView]:
        return [
            BlockedCallView(str(t.id), t.task_spec.bpmn_id or "", t.internal_data[MISSING])
            for t in self._live(TaskState.STARTED)
            if isinstance(t.task_spec, CamundaCallActivity) and MISSING in t.internal_data
        ]

    def retry_blocked_calls(self) -> None:
        """Start the called process of every blocked call activity that can start now."""
        for view in self.blocked_calls():
            task = self._task(view.id)
            self._guarded(lambda task=task: task.task_spec.start_workflow(task))
        self._step()

    @property
    def has_timers(self) -> bool:
        models = [self.model, *(m for m, _ in self._graph.models.values())]
        return any(m.timer_elements for m in models)

    def service_tasks(self) -> list[ServiceTaskView]:
        views = []
        for task in self._live(TaskState.STARTED):
            if is_loop(task.task_spec):
                continue  # a multi-instance body waits for its instances; it runs nothing
            info = self._element_of(task)
            if info is None or (info.handler is None and info.external_topic is None):
                continue
            views.append(ServiceTaskView(str(task.id), info.id, info.handler, info.external_topic))
        return views

    def timers(self) -> list[TimerView]:
        views = []
        for task in self._live(TaskState.WAITING):
            due = _timer_due(task)
            if due is not None:
                estimated = str(task.id) in self._wf.script_engine.estimated
                views.append(TimerView(str(task.id), task.task_spec.bpmn_id or "", due, estimated))
        return views

    def active_element_ids(self) -> list[str]:
        live = self._live()
        return sorted({t.task_spec.bpmn_id for t in live if self._element_of(t) is not None})

    # -- acting ------------------------------------------------------------------------------

    def complete_user_task(self, task_id: str, values: Mapping[str, Any]) -> None:
        task = self._task(task_id)
        # Spiff's run() accepts predicted (MAYBE/FUTURE) tasks and corrupts the instance.
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise ConflictError(f"task {task_id} is not a ready user task", code="task_not_ready")
        task.data.update(values)
        self._guarded(task.run)
        self._record(task)
        self._step()

    def complete_service_task(self, task_id: str, values: Mapping[str, Any]) -> None:
        task = self._task(task_id)
        if task.state != TaskState.STARTED:
            raise ConflictError(
                f"service task {task_id} is not waiting for a result", code="task_not_started"
            )
        task.data.update(values)
        self._guarded(task.complete)  # its history entry is written by the job, with the handler
        self._step()

    @property
    def catches_messages(self) -> bool:
        if "messages" not in self._seen:
            self._seen["messages"] = catches_messages(self._wf)
        return bool(self._seen["messages"])

    def message_waits(self) -> list[MessageWait]:
        return message_waits(self._wf)

    def correlate_message(self, task_id: str, name: str, variables: Mapping[str, Any]) -> None:
        """Deliver message `name` with its process variables to a waiting task, then step."""
        task = self._task(task_id)
        if task.state != TaskState.WAITING:
            raise ConflictError(f"task {task_id} is not waiting for a message", code="not_waiting")
        self._seen.clear()
        try:
            deliver_message(self._wf, task, name, variables)
        except LookupError as exc:
            raise ConflictError(str(exc), code="not_waiting") from None
        self._step()

    def throw_bpmn_error(self, task_id: str, code: str, variables: Mapping[str, Any]) -> str | None:
        """Throw BPMN error `code` from a started service task; the catching element, or None
        (then nothing changed: the caller raises an incident)."""
        task = self._task(task_id)
        if task.state != TaskState.STARTED:
            raise ConflictError(
                f"service task {task_id} is not waiting for a result", code="task_not_started"
            )
        self._seen.clear()
        caught = throw_error(task, code, variables)
        if caught is not None:
            self._step()
        return caught

    def set_variables(self, values: Mapping[str, Any], deletions: Sequence[str] = ()) -> None:
        """Write and remove variables where the instance stands: the data of every live task."""
        for task in self._live():
            task.data.update(values)
            for name in deletions:
                task.data.pop(name, None)

    def cancel(self) -> None:
        """End the instance where it stands (Camunda's delete); its variables stay readable."""
        merged = self.variables
        self._guarded(self._wf.cancel)
        self._wf.data.update(merged)

    def park_timer(self, task_id: str) -> None:
        """Push a waiting timer's due time out of reach (its firing failed; see incidents)."""
        task = self._task(task_id)
        far = "9999-12-31T00:00:00+00:00"
        value = task.internal_data.get("event_value")
        if isinstance(value, dict):
            value["next"] = far
        else:
            task.internal_data["event_value"] = far

    def unpark_timer(self, task_id: str) -> None:
        """Make a parked timer due now (an operator retries it)."""
        task = self._task(task_id)
        now = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        value = task.internal_data.get("event_value")
        if isinstance(value, dict):
            value["next"] = now
        else:
            task.internal_data["event_value"] = now

    def fire_due_timers(self) -> None:
        self._guarded(self._wf.refresh_timers)
        self._step()

    # -- internals ---------------------------------------------------------------------------

    def _task(self, task_id: str) -> Any:
        try:
            task = self._wf.get_task_from_id(UUID(task_id))
        except (ValueError, KeyError, WorkflowException):
            task = None
        if task is None:
            raise NotFoundError(f"task {task_id} not found in this instance")
        return task

    def _record(self, task: Any) -> None:
        # The engine also reports tasks that only started (service tasks wait in STARTED).
        if task.state != TaskState.COMPLETED:
            return
        info = self._element_of(task)
        if info is not None:
            self.completed.append(ActivityRecord(str(task.id), info.id, info.kind, info.name))

    def _called_owner(self, task: Any) -> tuple[ProcessModel, str | None] | None:
        """(model, definition id) of the called process a task runs in; None: the caller's."""
        workflow = task.workflow
        while workflow.parent_task_id is not None:
            parent = self._wf.get_task_from_id(workflow.parent_task_id)
            if isinstance(parent.task_spec, CamundaCallActivity):
                return self._graph.models.get(workflow.spec.name)
            workflow = parent.workflow  # an embedded subprocess belongs to its parent's model
        return None

    def _element_of(self, task: Any) -> ElementInfo | None:
        owner = self._called_owner(task)
        model = owner[0] if owner else self.model
        return model.elements.get(task.task_spec.bpmn_id or "")

    def _step(self) -> None:
        self._guarded(lambda: self._wf.do_engine_steps(did_complete_task=self._record))
        self._align_cron_timers()

    def _align_cron_timers(self) -> None:
        """Give cron cycles their next due time; the engine only knows fixed intervals.

        The engine's copy of a cron timer is an endless 24-hour cycle; whenever its next time
        is not one this method set (new timer, or the engine just fired and added 24 h), the
        next cron occurrence after now replaces it.
        """
        crons = {
            element: expression
            for element, (kind, expression) in self.model.timer_definitions.items()
            if kind == "cron" and element != self.model.start_timer
        }
        if not crons:
            return
        now = datetime.now(UTC)
        for task in self._live(TaskState.WAITING):
            source = crons.get(task.task_spec.bpmn_id or "")
            value = task.internal_data.get("event_value")
            if source is None or not isinstance(value, dict):
                continue
            if task.internal_data.get("cron_next") == value.get("next"):
                continue
            expression = compile_expression(source).evaluate({})
            local = now.astimezone(ZoneInfo(engine.BANK_TIMEZONE))
            following = croniter(
                expression, local, second_at_beginning=len(expression.split()) >= 6
            ).get_next(datetime)
            value["next"] = following.astimezone(UTC).isoformat()
            value["cycles"] = -1
            task.internal_data["cron_next"] = value["next"]

    def _live(self, state: int = _LIVE) -> list[Any]:
        """The tasks in `state` (a part of READY | STARTED | WAITING), in the engine's order.

        One walk of the task tree serves every reader until the engine acts again: the same
        tasks, in the same order, as `get_tasks(state=...)` would give (its walk does not depend
        on which of these states is asked for).
        """
        live: list[Any] | None = self._seen.get("live")
        if live is None:
            live = self._seen["live"] = self._wf.get_tasks(state=_LIVE)
        if state == _LIVE:
            return list(live)
        return [task for task in live if task.state & state]

    def _guarded(self, action: Any) -> None:
        self._seen.clear()  # the action may move tasks between states
        try:
            action()
        except WorkflowException as exc:
            task = getattr(exc, "task", None)
            element = task.task_spec.bpmn_id if task is not None else None
            reason = getattr(exc, "error_msg", None) or str(exc)
            where = f"element '{element}': " if element else ""
            raise EngineError(
                f"the process cannot continue at {where}{reason}", element_id=element
            ) from None
        finally:
            self._seen.clear()


def _timer_due(task: Any) -> datetime | None:
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        definition = next(
            (d for d in definition.event_definitions if isinstance(d, TimerEventDefinition)), None
        )
    if not isinstance(definition, TimerEventDefinition):
        return None
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    due: datetime | None
    if isinstance(definition, CycleTimerEventDefinition):
        due = datetime.fromisoformat(value["next"]) if value.get("cycles") != 0 else None
    elif isinstance(definition, DurationTimerEventDefinition):
        due = TimerEventDefinition.get_datetime(value)
    else:
        due = TimerEventDefinition.parse_time_or_duration(value)
    if due is not None and due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    return due
