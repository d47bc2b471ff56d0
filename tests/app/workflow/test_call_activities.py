"""Call activities in Run: camunda:in/out, called-process views, pins, missing processes, lint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.workflow.call_activities import CalledProcess, CallRequest
from app.workflow.compiler import CompiledBpmn, compile_model
from app.workflow.runtime import CALLED_PINS, Run
from tests.conftest import ROOT

TINY = ROOT / "tests" / "bpmn"
INVOICE = ROOT.parent / "shared" / "corpus" / "camunda7-invoice"


def compiled(path: Path) -> CompiledBpmn:
    result = compile_model(path.read_bytes(), path.name)
    assert isinstance(result, CompiledBpmn)
    assert result.document.errors == [], result.document.errors
    return result


def tiny(name: str) -> CompiledBpmn:
    return compiled(TINY / f"{name}.bpmn")


class Store:
    """A stand-in for the definition store: key -> (definition id, compiled file)."""

    def __init__(self, **processes: tuple[str, CompiledBpmn]) -> None:
        self.processes = dict(processes)
        self.requests: list[CallRequest] = []

    def __call__(self, request: CallRequest) -> CalledProcess | None:
        self.requests.append(request)
        found = self.processes.get(request.key)
        return CalledProcess(*found) if found else None


def child_store() -> Store:
    return Store(call_child_process=("call_child_process:1:a", tiny("call_child")))


def issues_of(xml: str) -> list[tuple[str, str]]:
    result = compile_model(xml.encode(), "lint.bpmn")
    return [(i.severity, i.message) for i in result.document.issues]


def call_xml(attributes: str, mappings: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="caller" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call" />
    <bpmn:callActivity id="call" {attributes}>
      <bpmn:extensionElements>{mappings}</bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:callActivity>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="e" />
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


# -- data mapping ------------------------------------------------------------------------------


def test_only_mapped_variables_go_in_and_come_out() -> None:
    run = Run.start(
        tiny("call_parent"), "call_parent", {"amount": 10, "secret": "x"}, called=child_store()
    )
    (task,) = run.user_tasks()
    assert task.element_id == "child_task"
    # camunda:in source/target and sourceExpression; `secret` is not passed.
    assert task.data == {"childAmount": 10, "doubled": 20}
    assert run.variables == {"amount": 10, "secret": "x"}  # the instance's, not the child's
    assert run.variables_for(task.id) == {"childAmount": 10, "doubled": 20}
    run.complete_user_task(task.id, {"childResult": "done", "childOnly": 1})
    (after,) = run.user_tasks()
    assert after.element_id == "after_call"
    # The caller keeps its own variables and gets exactly the camunda:out ones.
    assert after.data == {"amount": 10, "secret": "x", "result": "done", "plusOne": 11}


def test_variables_all_in_both_directions() -> None:
    store = child_store()
    run = Run.start(tiny("call_all"), "call_all", {"amount": 3, "note": "n"}, called=store)
    (task,) = run.user_tasks()
    assert task.data == {"amount": 3, "note": "n"}
    run.complete_user_task(task.id, {"childResult": "ok"})
    assert run.is_completed
    assert run.variables == {"amount": 3, "note": "n", "childResult": "ok"}
    # calledElementBinding="version" with calledElementVersion="1" reached the store.
    assert (store.requests[0].binding, store.requests[0].version) == ("version", "1")


# -- whose task it is --------------------------------------------------------------------------


def test_called_task_views_name_the_called_definition() -> None:
    run = Run.start(tiny("call_parent"), "call_parent", {"amount": 1}, called=child_store())
    (task,) = run.user_tasks()
    assert task.process_key == "call_child_process"
    assert task.definition_id == "call_child_process:1:a"
    assert run.element(task.id).form[0].id == "childResult"
    assert run.active_element_ids() == ["call_child", "child_task"]


@pytest.mark.skipif(not INVOICE.is_dir(), reason="no invoice corpus")
def test_same_element_id_in_caller_and_called_process_is_told_apart() -> None:
    # invoice.v2's call activity and ReviewInvoice's user task are both `reviewInvoice`.
    invoice = compiled(INVOICE / "invoice.v2.bpmn")
    store = Store(ReviewInvoice=("ReviewInvoice:1:a", compiled(INVOICE / "reviewInvoice.bpmn")))

    def decisions(key: str) -> Any:
        from app.workflow.dmn import parse_dmn
        from app.workflow.xml import parse_xml

        path = INVOICE / "invoiceBusinessDecisions.dmn"
        dmn = parse_dmn(parse_xml(path.read_bytes(), filename=path.name), filename=path.name)
        return dmn.decisions[key], dmn.decisions

    variables = {"amount": 30.0, "invoiceCategory": "Misc", "invoiceNumber": "I-1"}
    run = Run.start(invoice, "invoice", variables, decisions, called=store)
    run.complete_user_task(run.user_tasks()[0].id, {"approved": False})
    run.complete_user_task(run.user_tasks()[0].id, {"reviewer": "demo"})
    (review,) = run.user_tasks()
    assert review.element_id == "reviewInvoice"
    assert run.element(review.id).kind == "userTask"
    assert review.process_key == "ReviewInvoice"
    run.complete_user_task(review.id, {"clarified": True})
    kinds = [(r.element_id, r.kind) for r in run.completed if r.element_id == "reviewInvoice"]
    assert kinds == [("reviewInvoice", "userTask"), ("reviewInvoice", "callActivity")]


# -- pins and resolution -----------------------------------------------------------------------


def test_a_running_call_keeps_the_definition_it_started_with() -> None:
    run = Run.start(tiny("call_parent"), "call_parent", {"amount": 1}, called=child_store())
    state = run.state()
    assert state[CALLED_PINS] == {"call_child_process": "call_child_process:1:a"}
    newer = Store(call_child_process=("call_child_process:2:b", tiny("call_child")))
    restored = Run.restore(tiny("call_parent"), "call_parent", state, called=newer)
    assert newer.requests[0].pinned == "call_child_process:1:a"
    restored.complete_user_task(restored.user_tasks()[0].id, {"childResult": "r"})
    assert restored.user_tasks()[0].data["result"] == "r"


def test_a_called_process_in_the_same_file_needs_no_store() -> None:
    parent = (TINY / "call_parent.bpmn").read_text()
    child = (TINY / "call_child.bpmn").read_text()
    process = child[child.index("<bpmn:process") : child.index("</bpmn:process>") + 15]
    both = parent.replace("</bpmn:definitions>", process + "\n</bpmn:definitions>")
    model = compile_model(both.encode(), "both.bpmn")
    assert isinstance(model, CompiledBpmn) and not model.document.errors
    run = Run.start(model, "call_parent", {"amount": 2})
    (task,) = run.user_tasks()
    assert (task.element_id, task.process_key, task.definition_id) == (
        "child_task",
        "call_child_process",
        None,
    )


# -- missing called process ----------------------------------------------------------------------


def test_a_missing_called_process_blocks_the_call_and_a_retry_starts_it() -> None:
    model = tiny("call_missing")
    run = Run.start(model, "call_missing", {"x": 1}, called=Store())
    (blocked,) = run.blocked_calls()
    assert (blocked.element_id, blocked.called_key) == ("call_nobody", "call_child_process")
    assert not run.is_completed and run.user_tasks() == []
    # Still blocked after a round trip without the process; then it is deployed.
    run = Run.restore(model, "call_missing", run.state(), called=Store())
    run.retry_blocked_calls()
    assert len(run.blocked_calls()) == 1
    run = Run.restore(model, "call_missing", run.state(), called=child_store())
    run.retry_blocked_calls()
    assert run.blocked_calls() == []
    (task,) = run.user_tasks()
    assert task.data == {}  # no camunda:in: nothing is passed
    run.complete_user_task(task.id, {"childResult": "late"})
    assert run.is_completed
    assert run.variables == {"x": 1}  # no camunda:out: nothing comes back


# -- lint -----------------------------------------------------------------------------------------


def test_lint_call_activity_attributes() -> None:
    assert any(s == "error" and "without calledElement" in m for s, m in issues_of(call_xml("")))
    dynamic = issues_of(call_xml('calledElement="${which}"'))
    assert any(s == "error" and "is an expression" in m for s, m in dynamic)
    tag = issues_of(call_xml('calledElement="p" camunda:calledElementBinding="versionTag"'))
    assert [s for s, m in tag if "versionTag" in m] == ["warning"]
    no_version = issues_of(call_xml('calledElement="p" camunda:calledElementBinding="version"'))
    assert any(s == "error" and "calledElementVersion" in m for s, m in no_version)
    bad_in = issues_of(call_xml('calledElement="p"', '<camunda:in source="a" />'))
    assert any(s == "error" and "camunda:in needs" in m and "'call'" in m for s, m in bad_in)
    bad_expr = issues_of(
        call_xml('calledElement="p"', '<camunda:out sourceExpression="${a.b()}" target="t" />')
    )
    assert any(s == "error" and "sourceExpression" in m for s, m in bad_expr)
    fine = issues_of(
        call_xml(
            'calledElement="p"',
            '<camunda:in businessKey="#{execution.processBusinessKey}" />'
            '<camunda:in variables="all" /><camunda:out source="a" target="b" />',
        )
    )
    assert fine == []
