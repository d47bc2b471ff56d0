"""camunda:inputOutput: locals on entry, outputs on completion, lint at deploy time."""

from __future__ import annotations

import pytest

from app.errors import EngineError
from app.workflow.compiler import CompiledBpmn, compile_model
from app.workflow.runtime import Run
from tests.conftest import ROOT

TINY = ROOT / "tests" / "bpmn"


def io_model() -> CompiledBpmn:
    result = compile_model((TINY / "io_mapping.bpmn").read_bytes(), "io_mapping.bpmn")
    assert isinstance(result, CompiledBpmn)
    assert result.document.issues == [], result.document.issues
    return result


def task_xml(kind: str, io: str, extra: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="io_lint" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="act" />
    <bpmn:{kind} id="act" {extra}>
      <bpmn:extensionElements><camunda:inputOutput>{io}</camunda:inputOutput>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:{kind}>
    <bpmn:sequenceFlow id="f2" sourceRef="act" targetRef="after" />
    <bpmn:userTask id="after"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="e" />
    <bpmn:endEvent id="e"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def compile_text(xml: str) -> CompiledBpmn:
    result = compile_model(xml.encode(), "io_lint.bpmn")
    assert isinstance(result, CompiledBpmn)
    return result


def test_input_parameters_are_local_values_of_every_kind() -> None:
    run = Run.start(io_model(), "io_mapping", {"requester": "rm_li", "amount": 5, "level": "outer"})
    (task,) = run.user_tasks()
    assert task.data == {
        "requester": "rm_li",
        "amount": 5,
        "level": "fixed",  # shadows the process variable while the task runs
        "owner": "rm_li",
        "greeting": "Hello rm_li",
        "nothing": None,
        "limits": [5, 10],
        "terms": {"currency": "CNY", "amount": 5, "steps": ["1"]},
    }


def test_outputs_are_written_and_locals_vanish_after_a_round_trip() -> None:
    model = io_model()
    run = Run.start(model, "io_mapping", {"requester": "rm_li", "amount": 5, "level": "outer"})
    task_id = run.user_tasks()[0].id
    run = Run.restore(io_model(), "io_mapping", run.state())  # the bookkeeping is in the state
    run.complete_user_task(task_id, {"decision": "yes"})
    (after,) = run.user_tasks()
    assert after.data == {
        "requester": "rm_li",
        "amount": 5,
        "level": "outer",  # the shadowed process variable is back
        "decision": "yes",
        "decisionText": "yes by rm_li",
        "summary": {"level": "fixed", "limits": [5, 10]},
    }


def test_a_failing_parameter_expression_is_an_engine_error_naming_it() -> None:
    with pytest.raises(EngineError) as caught:
        Run.start(io_model(), "io_mapping", {"amount": 5})  # no `requester`
    assert "camunda:inputParameter 'owner'" in caught.value.message
    assert caught.value.details.get("element_id") == "io_task"


def test_service_task_handler_sees_inputs_and_outputs_map_its_result() -> None:
    xml = task_xml(
        "serviceTask",
        '<camunda:inputParameter name="echo_count">${start * 10}</camunda:inputParameter>'
        '<camunda:outputParameter name="echoes">${echo_count}</camunda:outputParameter>',
        'camunda:class="corpflow.Echo"',
    )
    model = compile_text(xml)
    assert model.document.errors == []
    run = Run.start(model, "io_lint", {"start": 2})
    (service,) = run.service_tasks()
    assert run.variables_for(service.id)["echo_count"] == 20
    run.complete_service_task(service.id, {"echo_count": 21})
    (after,) = run.user_tasks()
    assert after.data == {"start": 2, "echoes": 21}


def test_lint_rejects_scripts_nameless_and_untranslatable_parameters() -> None:
    script = compile_text(
        task_xml(
            "userTask",
            '<camunda:inputParameter name="x"><camunda:script scriptFormat="groovy">1'
            "</camunda:script></camunda:inputParameter>",
        )
    )
    (error,) = script.document.errors
    assert "element 'act'" in error.message and "script values (groovy)" in error.message
    nameless = compile_text(
        task_xml("userTask", "<camunda:outputParameter>1</camunda:outputParameter>")
    )
    assert any("without a name" in e.message for e in nameless.document.errors)
    bean = compile_text(
        task_xml(
            "userTask", '<camunda:inputParameter name="y">${bean.call()}</camunda:inputParameter>'
        )
    )
    (error,) = bean.document.errors
    assert "camunda:inputParameter 'y'" in error.message and error.element_id == "act"
    assert bean.specs == {}
