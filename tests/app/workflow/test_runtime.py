"""Engine-level tests of Run: start, persist, restore, route, act, and the serializer gap."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as STOCK_CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import ConflictError, EngineError, NotFoundError
from app.workflow.compiler import CompiledBpmn, compile_model
from app.workflow.engine import _SERIALIZER, SafeScriptEngine
from app.workflow.runtime import Run
from tests.conftest import ROOT

TINY = ROOT / "tests" / "bpmn"


def compiled(name: str) -> CompiledBpmn:
    result = compile_model((TINY / f"{name}.bpmn").read_bytes(), f"{name}.bpmn")
    assert isinstance(result, CompiledBpmn)
    assert result.document.errors == [], result.document.errors
    return result


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in a random order (arrays keep theirs)."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: shuffled(item, rng) for key, item in items}
    if isinstance(value, list):
        return [shuffled(item, rng) for item in value]
    return value


def at_big_task(model: CompiledBpmn) -> Run:
    """exclusive_gateway started with `who`, `decide` completed with amount 5000: waits at big."""
    run = Run.start(model, "exclusive_gateway", {"who": "me"})
    run.complete_user_task(run.user_tasks()[0].id, {"amount": 5000})
    assert [t.element_id for t in run.user_tasks()] == ["big"]
    return run


def finish(run: Run) -> None:
    while run.user_tasks():
        run.complete_user_task(run.user_tasks()[0].id, {})


# -- state round trips -----------------------------------------------------------------------


def test_run_state_round_trips_through_json_and_completes() -> None:
    model = compiled("exclusive_gateway")
    run = at_big_task(model)
    state = run.state()
    encoded = json.dumps(state)

    restored = Run.restore(model, "exclusive_gateway", json.loads(encoded))

    assert restored.state() == json.loads(encoded)
    assert [t.element_id for t in restored.user_tasks()] == ["big"]
    assert restored.user_tasks()[0].id == run.user_tasks()[0].id
    assert restored.variables == {"who": "me", "amount": 5000}
    finish(restored)
    assert restored.is_completed
    assert [r.element_id for r in restored.completed] == ["big", "decided"]
    assert restored.variables == {"who": "me", "amount": 5000}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_run_restore_ignores_object_key_order(seed: int) -> None:
    model = compiled("exclusive_gateway")
    state = json.loads(json.dumps(at_big_task(model).state()))
    reordered = shuffled(state, random.Random(seed))
    assert list(reordered) != list(state) or list(reordered["tasks"][0]) != list(state["tasks"][0])

    restored = Run.restore(model, "exclusive_gateway", reordered)

    assert restored.variables == {"who": "me", "amount": 5000}
    assert restored.user_tasks()[0].data == {"who": "me", "amount": 5000}
    finish(restored)
    assert restored.is_completed
    assert restored.variables == {"who": "me", "amount": 5000}


def test_run_state_keeps_tasks_as_an_ordered_list() -> None:
    # JSONB reorders object keys but never array items: the parent-first order must be an array.
    state = at_big_task(compiled("exclusive_gateway")).state()
    tasks = state["tasks"]
    assert isinstance(tasks, list)
    seen: set[str] = set()
    for task in tasks:
        assert task["parent"] is None or task["parent"] in seen, "a child precedes its parent"
        seen.add(task["id"])


def test_run_state_round_trips_through_postgresql_jsonb(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("JSONB needs PostgreSQL")
    model = compiled("exclusive_gateway")
    state = at_big_task(model).state()
    stored = session.execute(
        text("SELECT CAST(:state AS jsonb)"), {"state": json.dumps(state)}
    ).scalar_one()
    assert stored == state  # equal as data, whatever order JSONB chose for the keys

    restored = Run.restore(model, "exclusive_gateway", stored)

    assert restored.variables == {"who": "me", "amount": 5000}
    finish(restored)
    assert restored.is_completed


def test_run_restore_from_tasks_mapping_in_any_order_keeps_variables() -> None:
    model = compiled("exclusive_gateway")
    state = json.loads(json.dumps(at_big_task(model).state()))
    state["tasks"] = {task["id"]: task for task in reversed(state["tasks"])}

    restored = Run.restore(model, "exclusive_gateway", state)

    assert restored.user_tasks()[0].data == {"who": "me", "amount": 5000}


# -- script engine -----------------------------------------------------------------------------


def test_run_restore_uses_safe_script_engine() -> None:
    model = compiled("exclusive_gateway")
    started = Run.start(model, "exclusive_gateway", {})
    assert type(started._wf.script_engine) is SafeScriptEngine

    restored = Run.restore(model, "exclusive_gateway", json.loads(json.dumps(started.state())))

    engine = restored._wf.script_engine
    assert type(engine) is SafeScriptEngine
    assert type(engine) is not PythonScriptEngine
    # The engine that evaluates the gateway after the restore is the restricted one.
    restored.complete_user_task(restored.user_tasks()[0].id, {"amount": 2000})
    assert [t.element_id for t in restored.user_tasks()] == ["big"]


def test_run_restore_engine_refuses_python_evaluation() -> None:
    model = compiled("one_user_task")
    restored = Run.restore(model, "one_user_task", Run.start(model, "one_user_task", {}).state())
    task = restored._wf.get_tasks(state=TaskState.READY, manual=True)[0]
    engine = restored._wf.script_engine
    assert engine.evaluate(task, "1 + 2") == 3
    with pytest.raises(WorkflowTaskException, match="is not allowed"):
        engine.evaluate(task, "__import__('os').getcwd()")
    with pytest.raises(WorkflowTaskException, match="script execution is disabled"):
        engine.execute(task, "x = 1")


def test_run_walks_its_live_tasks_once_per_engine_state(monkeypatch: pytest.MonkeyPatch) -> None:
    model = compiled("timer_boundary")
    run = Run.restore(model, "timer_boundary", Run.start(model, "timer_boundary", {}).state())
    walks = []
    real = run._wf.get_tasks

    def counted(*args: Any, **kwargs: Any) -> Any:
        walks.append(kwargs.get("state"))
        return real(*args, **kwargs)

    monkeypatch.setattr(run._wf, "get_tasks", counted)
    for _ in range(2):  # what a step's projections read, twice over
        assert [t.element_id for t in run.user_tasks()] == ["wait_here"]
        assert [t.element_id for t in run.timers()] == ["remind_after_day"]
        assert run.service_tasks() == []
        assert run.active_element_ids() == ["remind_after_day", "wait_here"]
        assert not run.is_completed and run.variables == {}
    assert len(walks) == 1
    run.complete_user_task(run.user_tasks()[0].id, {"done": True})  # the engine acts: forgotten
    assert run.user_tasks() == [] and run.timers() == [] and run.active_element_ids() == []
    assert run.is_completed


# -- timers ----------------------------------------------------------------------------------


def test_run_timers_boundary_due_in_24_hours() -> None:
    model = compiled("timer_boundary")
    before = datetime.now(UTC)
    run = Run.start(model, "timer_boundary", {})

    timers = run.timers()

    assert len(timers) == 1
    timer = timers[0]
    assert timer.element_id == "remind_after_day"
    assert timer.due_at.tzinfo is not None
    assert abs(timer.due_at - (before + timedelta(hours=24))) < timedelta(seconds=60)
    assert [t.element_id for t in run.user_tasks()] == ["wait_here"]


def test_run_timers_survive_restore_with_same_due_time() -> None:
    model = compiled("timer_boundary")
    run = Run.start(model, "timer_boundary", {})
    restored = Run.restore(model, "timer_boundary", json.loads(json.dumps(run.state())))
    assert restored.timers() == run.timers()


def test_run_timers_gone_after_attached_task_completes() -> None:
    model = compiled("timer_boundary")
    run = Run.start(model, "timer_boundary", {})
    run.complete_user_task(run.user_tasks()[0].id, {})
    assert run.timers() == []
    assert run.is_completed
    assert "wait_done" in [r.element_id for r in run.completed]
    assert "follow_up" not in [r.element_id for r in run.completed]


# -- exclusive gateway -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(1001, "big"), (5_000_000, "big"), (1000, "small"), (5, "small"), (-1, "small")],
)
def test_run_exclusive_gateway_routes_on_amount(amount: int, expected: str) -> None:
    run = Run.start(compiled("exclusive_gateway"), "exclusive_gateway", {})
    run.complete_user_task(run.user_tasks()[0].id, {"amount": amount})
    assert [t.element_id for t in run.user_tasks()] == [expected]
    assert run.active_element_ids() == [expected]
    assert run.variables["amount"] == amount


def test_run_exclusive_gateway_without_variable_is_engine_error() -> None:
    run = Run.start(compiled("exclusive_gateway"), "exclusive_gateway", {})
    with pytest.raises(EngineError) as caught:
        run.complete_user_task(run.user_tasks()[0].id, {})
    assert caught.value.details["element_id"] == "amount_check"
    assert "amount" in caught.value.message


# -- acting on tasks ---------------------------------------------------------------------------


@pytest.mark.parametrize("task_id", ["nope", "", str(uuid.uuid4())])
def test_run_complete_user_task_unknown_id_is_not_found(task_id: str) -> None:
    run = Run.start(compiled("one_user_task"), "one_user_task", {})
    with pytest.raises(NotFoundError):
        run.complete_user_task(task_id, {})
    with pytest.raises(NotFoundError):
        run.complete_service_task(task_id, {})
    assert [t.element_id for t in run.user_tasks()] == ["do_work"]


def test_run_complete_user_task_predicted_task_is_conflict() -> None:
    run = Run.start(compiled("exclusive_gateway"), "exclusive_gateway", {})
    future = [t for t in run._wf.get_tasks() if t.task_spec.bpmn_id == "amount_check"]
    assert len(future) == 1
    assert future[0].state in (TaskState.FUTURE, TaskState.LIKELY, TaskState.MAYBE)
    with pytest.raises(ConflictError) as caught:
        run.complete_user_task(str(future[0].id), {"amount": 1})
    assert caught.value.code == "task_not_ready"
    assert [t.element_id for t in run.user_tasks()] == ["decide"]


def test_run_complete_user_task_twice_is_conflict() -> None:
    run = Run.start(compiled("one_user_task"), "one_user_task", {})
    task_id = run.user_tasks()[0].id
    run.complete_user_task(task_id, {"note": "first"})
    with pytest.raises(ConflictError) as caught:
        run.complete_user_task(task_id, {"note": "second"})
    assert caught.value.code == "task_not_ready"
    assert run.variables == {"note": "first"}


def test_run_complete_service_task_on_user_task_is_conflict() -> None:
    run = Run.start(compiled("one_user_task"), "one_user_task", {})
    with pytest.raises(ConflictError) as caught:
        run.complete_service_task(run.user_tasks()[0].id, {})
    assert caught.value.code == "task_not_started"


# -- service tasks -----------------------------------------------------------------------------


def test_run_service_task_waits_started_with_handler() -> None:
    run = Run.start(compiled("service_task"), "service_task", {"x": 1})

    views = run.service_tasks()

    assert len(views) == 1
    view = views[0]
    assert view.element_id == "call_echo"
    assert view.handler == "corpflow.Echo"
    assert view.external_topic is None
    task = run._wf.get_task_from_id(uuid.UUID(view.id))
    assert task.state == TaskState.STARTED
    assert run.user_tasks() == []
    assert run.active_element_ids() == ["call_echo"]
    with pytest.raises(ConflictError):
        run.complete_user_task(view.id, {})


def test_run_complete_service_task_continues_to_user_task() -> None:
    model = compiled("service_task")
    run = Run.start(model, "service_task", {"x": 1})
    restored = Run.restore(model, "service_task", json.loads(json.dumps(run.state())))
    view = restored.service_tasks()[0]

    restored.complete_service_task(view.id, {"echoed_by": "call_echo"})

    assert restored.service_tasks() == []
    assert [t.element_id for t in restored.user_tasks()] == ["after_service"]
    assert restored.variables == {"x": 1, "echoed_by": "call_echo"}
    # The job that ran the handler writes the service task's history entry, with the handler.
    assert [r.element_id for r in restored.completed] == []
    with pytest.raises(ConflictError):
        restored.complete_service_task(view.id, {})


def test_run_external_task_reports_topic_without_handler() -> None:
    run = Run.start(compiled("external_task"), "external_task", {})
    views = run.service_tasks()
    assert [(v.element_id, v.handler, v.external_topic) for v in views] == [
        ("send_reminder", None, "send-reminder")
    ]


def test_full_serializer_handles_service_task() -> None:
    run = Run.start(compiled("service_task"), "service_task", {"x": 1})

    encoded = _SERIALIZER.serialize_json(run._wf)

    body = json.loads(encoded)
    assert "ServiceTask" in json.dumps(body["spec"])
    restored = _SERIALIZER.deserialize_json(encoded)
    states = {t.task_spec.bpmn_id: t.state for t in restored.get_tasks() if t.task_spec.bpmn_id}
    assert states["call_echo"] == TaskState.STARTED
    assert restored.data == run._wf.data


def test_stock_camunda_serializer_has_the_service_task_gap() -> None:
    # The reason for the patch: without it the full serialization fails on a ServiceTask.
    run = Run.start(compiled("service_task"), "service_task", {})
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(STOCK_CAMUNDA_CONFIG))
    with pytest.raises(TypeError, match="ServiceTask"):
        stock.serialize_json(run._wf)
