"""/engine-rest task hand-overs, submit-form and task variables, with 审贷分离 on every path."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.engine_rest.conftest import modeler_deploy
from tests.engine_rest.test_engine_rest_tasks import TASK_KEYS
from tests.factories import make_user

# One user task whose form needs an amount of at least 1000; its starter may not take it.
CHECKED_TASK = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="checked_task_definitions"
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="checked_task" name="Checked task" isExecutable="true">
    <bpmn:startEvent id="checked_requested">
      <bpmn:outgoing>to_check</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="to_check" sourceRef="checked_requested" targetRef="check_amount" />
    <bpmn:userTask id="check_amount" name="Check amount" camunda:candidateGroups="staff">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="four_eyes.exclude_initiator" value="true" />
        </camunda:properties>
        <camunda:formData>
          <camunda:formField id="amount" label="Amount" type="long">
            <camunda:validation>
              <camunda:constraint name="required" />
              <camunda:constraint name="min" config="1000" />
            </camunda:validation>
          </camunda:formField>
        </camunda:formData>
      </bpmn:extensionElements>
      <bpmn:incoming>to_check</bpmn:incoming>
      <bpmn:outgoing>to_done</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="to_done" sourceRef="check_amount" targetRef="checked_done" />
    <bpmn:endEvent id="checked_done"><bpmn:incoming>to_done</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def _people(sessions: sessionmaker[Session]) -> dict[str, dict[str, str]]:
    return {
        "starter": make_user(sessions, "ta_starter", ("staff",)),
        "one": make_user(sessions, "ta_one", ("staff",)),
        "two": make_user(sessions, "ta_two", ("staff",)),
        "outsider": make_user(sessions, "ta_outsider", ("other",)),
    }


def _start(rest: FlaskClient, people: dict[str, dict[str, str]]) -> tuple[str, str]:
    """(instance id, task id) of a fresh checked_task started by ta_starter."""
    deployed = modeler_deploy(rest, ("checked_task.bpmn", CHECKED_TASK))
    assert deployed.status_code == 200, deployed.get_json()
    started = rest.post(
        "/engine-rest/process-definition/key/checked_task/start",
        json={"variables": {"note": {"value": "first", "type": "String"}}},
        headers=people["starter"],
    )
    assert started.status_code == 200, started.get_json()
    instance_id = started.get_json()["id"]
    listed = rest.get(
        f"/engine-rest/task?processInstanceId={instance_id}", headers=people["one"]
    ).get_json()
    return instance_id, listed[0]["id"]


def _task(rest: FlaskClient, task_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = rest.get(f"/engine-rest/task/{task_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    assert set(body) >= TASK_KEYS
    return body


def _post(rest: FlaskClient, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return rest.post(f"/engine-rest{path}", json=body if body is not None else {}, headers=headers)


def test_task_delegate_and_resolve(rest: FlaskClient, rest_sessions: sessionmaker[Session]) -> None:
    people = _people(rest_sessions)
    instance_id, task_id = _start(rest, people)
    assert (
        _post(rest, f"/task/{task_id}/claim", people["one"], {"userId": "ta_one"}).status_code
        == 204
    )

    # Not a candidate, kept away by 审贷分离, unknown, or no one at all: refused, nothing changes.
    outsider = _post(rest, f"/task/{task_id}/delegate", people["one"], {"userId": "ta_outsider"})
    assert outsider.status_code == 403
    assert outsider.get_json()["type"] == "AuthorizationException"
    assert "not a candidate" in outsider.get_json()["message"]
    starter = _post(rest, f"/task/{task_id}/delegate", people["one"], {"userId": "ta_starter"})
    assert starter.status_code == 403 and "审贷分离" in starter.get_json()["message"]
    unknown = _post(rest, f"/task/{task_id}/delegate", people["one"], {"userId": "nobody"})
    assert unknown.status_code == 400 and "nobody" in unknown.get_json()["message"]
    assert _post(rest, f"/task/{task_id}/delegate", people["one"]).status_code == 400
    # Only the assignee lends the task.
    assert (
        _post(rest, f"/task/{task_id}/delegate", people["two"], {"userId": "ta_two"}).status_code
        == 403
    )
    task = _task(rest, task_id, people["one"])
    assert (task["assignee"], task["owner"], task["delegationState"]) == ("ta_one", None, None)

    delegated = _post(rest, f"/task/{task_id}/delegate", people["one"], {"userId": "ta_two"})
    assert delegated.status_code == 204, delegated.get_json()
    task = _task(rest, task_id, people["two"])
    assert (task["assignee"], task["owner"], task["delegationState"]) == (
        "ta_two",
        "ta_one",
        "PENDING",
    )

    pending = rest.get(
        "/engine-rest/task/count?owner=ta_one&delegationState=PENDING", headers=people["two"]
    )
    assert pending.get_json() == {"count": 1}
    links = rest.get(f"/engine-rest/task/{task_id}/identity-links", headers=people["two"])
    assert {"userId": "ta_one", "groupId": None, "type": "owner"} in links.get_json()
    assert {"userId": "ta_two", "groupId": None, "type": "assignee"} in links.get_json()

    # A delegated task is resolved, not completed; and only by the delegate.
    early = _post(rest, f"/task/{task_id}/complete", people["two"], {"variables": {}})
    assert early.status_code == 500
    assert early.get_json()["message"] == (
        "A delegated task cannot be completed, but should be resolved instead."
    )
    assert _post(rest, f"/task/{task_id}/resolve", people["one"]).status_code == 403

    resolved = _post(
        rest,
        f"/task/{task_id}/resolve",
        people["two"],
        {"variables": {"amount": {"value": 5000, "type": "Long"}}},
    )
    assert resolved.status_code == 204, resolved.get_json()
    task = _task(rest, task_id, people["one"])
    assert (task["assignee"], task["owner"], task["delegationState"]) == (
        "ta_one",
        "ta_one",
        "RESOLVED",
    )
    variables = rest.get(f"/engine-rest/task/{task_id}/variables", headers=people["one"]).get_json()
    assert variables["amount"] == {"type": "Integer", "value": 5000, "valueInfo": {}}
    assert (
        _post(rest, f"/task/{task_id}/resolve", people["one"]).status_code == 500
    )  # not delegated

    done = _post(rest, f"/task/{task_id}/submit-form", people["one"], {"variables": {}})
    assert done.status_code == 204, done.get_json()
    history = rest.get(
        f"/engine-rest/history/task?processInstanceId={instance_id}", headers=people["one"]
    ).get_json()
    assert [(t["owner"], t["assignee"], t["deleteReason"]) for t in history] == [
        ("ta_one", "ta_one", "completed")
    ]


def test_task_set_assignee(rest: FlaskClient, rest_sessions: sessionmaker[Session]) -> None:
    people = _people(rest_sessions)
    _instance_id, task_id = _start(rest, people)

    # The starter setting themselves is a claim, and 审贷分离 keeps them away.
    own = _post(rest, f"/task/{task_id}/assignee", people["starter"], {"userId": "ta_starter"})
    assert own.status_code == 403 and "审贷分离" in own.get_json()["message"]
    # Someone who does not hold the task cannot give it away.
    assert (
        _post(rest, f"/task/{task_id}/assignee", people["two"], {"userId": "ta_one"}).status_code
        == 403
    )

    mine = _post(rest, f"/task/{task_id}/assignee", people["one"], {"userId": "ta_one"})
    assert mine.status_code == 204, mine.get_json()
    assert _task(rest, task_id, people["one"])["assignee"] == "ta_one"
    assert (
        _post(rest, f"/task/{task_id}/assignee", people["two"], {"userId": "ta_two"}).status_code
        == 403
    )
    to_starter = _post(rest, f"/task/{task_id}/assignee", people["one"], {"userId": "ta_starter"})
    assert to_starter.status_code == 403 and "审贷分离" in to_starter.get_json()["message"]
    outsider = _post(rest, f"/task/{task_id}/assignee", people["one"], {"userId": "ta_outsider"})
    assert outsider.status_code == 403
    assert _task(rest, task_id, people["one"])["assignee"] == "ta_one"

    handed = _post(rest, f"/task/{task_id}/assignee", people["one"], {"userId": "ta_two"})
    assert handed.status_code == 204, handed.get_json()
    assert _task(rest, task_id, people["two"])["assignee"] == "ta_two"
    cleared = _post(rest, f"/task/{task_id}/assignee", people["two"], {"userId": None})
    assert cleared.status_code == 204, cleared.get_json()
    assert _task(rest, task_id, people["two"])["assignee"] is None
    bad = _post(rest, f"/task/{task_id}/assignee", people["two"], {"userId": 7})
    assert bad.status_code == 400 and bad.get_json()["type"] == "InvalidRequestException"


def test_task_submit_form_validates_and_changes_nothing_on_failure(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    people = _people(rest_sessions)
    instance_id, task_id = _start(rest, people)
    unclaimed = _post(
        rest,
        f"/task/{task_id}/submit-form",
        people["one"],
        {"variables": {"amount": {"value": 5000}}},
    )
    assert unclaimed.status_code == 403
    _post(rest, f"/task/{task_id}/claim", people["one"], {"userId": "ta_one"})

    for value, reason in ((10, "must be at least 1000"), ("lots", "must be a whole number")):
        refused = _post(
            rest,
            f"/task/{task_id}/submit-form",
            people["one"],
            {"variables": {"amount": {"value": value}}},
        )
        assert refused.status_code == 400
        body = refused.get_json()
        assert body["type"] == "InvalidRequestException"
        assert body["message"] == (
            f"Cannot submit task form {task_id}: Invalid value submitted for form field "
            f"'amount': {reason}"
        )
    missing = _post(rest, f"/task/{task_id}/submit-form", people["one"], {"variables": {}})
    assert missing.status_code == 400 and "'amount': is required" in missing.get_json()["message"]
    task = _task(rest, task_id, people["one"])
    assert task["assignee"] == "ta_one"
    variables = rest.get(
        f"/engine-rest/process-instance/{instance_id}/variables", headers=people["starter"]
    ).get_json()
    assert "amount" not in variables

    submitted = _post(
        rest,
        f"/task/{task_id}/submit-form",
        people["one"],
        {"variables": {"amount": {"value": "2500", "type": "Long"}}, "withVariablesInReturn": True},
    )
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["amount"] == {"type": "Long", "value": 2500, "valueInfo": {}}
    assert rest.get(f"/engine-rest/task/{task_id}", headers=people["one"]).status_code == 404


def test_task_variables(rest: FlaskClient, rest_sessions: sessionmaker[Session]) -> None:
    people = _people(rest_sessions)
    instance_id, task_id = _start(rest, people)
    base = f"/engine-rest/task/{task_id}"

    listed = rest.get(f"{base}/variables", headers=people["one"]).get_json()
    assert listed["note"] == {"type": "String", "value": "first", "valueInfo": {}}
    one = rest.get(f"{base}/variables/note", headers=people["one"])
    assert one.get_json() == {"type": "String", "value": "first", "valueInfo": {}}
    missing = rest.get(f"{base}/variables/nope", headers=people["one"])
    assert missing.status_code == 404
    assert missing.get_json()["message"] == "task variable with name nope does not exist"

    change = {
        "modifications": {"memo": {"value": "checked", "type": "String"}},
        "deletions": ["note"],
    }
    # A candidate who has not claimed the task may read but not write.
    assert rest.post(f"{base}/variables", json=change, headers=people["one"]).status_code == 403
    _post(rest, f"/task/{task_id}/claim", people["one"], {"userId": "ta_one"})
    changed = rest.post(f"{base}/variables", json=change, headers=people["one"])
    assert changed.status_code == 204, changed.get_json()
    after = rest.get(f"{base}/variables", headers=people["one"]).get_json()
    assert after["memo"]["value"] == "checked" and "note" not in after

    put = rest.put(
        f"{base}/variables/amount", json={"value": 1500, "type": "Long"}, headers=people["one"]
    )
    assert put.status_code == 204, put.get_json()
    assert rest.get(f"{base}/variables/amount", headers=people["one"]).get_json()["value"] == 1500
    assert rest.delete(f"{base}/variables/amount", headers=people["one"]).status_code == 204
    assert rest.get(f"{base}/variables/amount", headers=people["one"]).status_code == 404

    bad_type = rest.put(
        f"{base}/variables/amount", json={"value": "x", "type": "Integer"}, headers=people["one"]
    )
    assert bad_type.status_code == 400
    fixed = rest.put(f"{base}/variables/customer_id", json={"value": "c-1"}, headers=people["one"])
    assert fixed.status_code == 400 and "customer_id" in fixed.get_json()["message"]

    assert rest.get(f"{base}/localVariables", headers=people["one"]).get_json() == {}
    local = rest.put(f"{base}/localVariables/memo", json={"value": "x"}, headers=people["one"])
    assert local.status_code == 400 and "no local variables" in local.get_json()["message"]
    # The instance holds what the task wrote.
    variables = rest.get(
        f"/engine-rest/process-instance/{instance_id}/variables", headers=people["starter"]
    ).get_json()
    assert variables["memo"]["value"] == "checked" and "note" not in variables
