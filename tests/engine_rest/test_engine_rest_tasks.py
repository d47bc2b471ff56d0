"""/engine-rest tasks and process instances: the pycamunda task loop against corpflow."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import STAFF
from tests.engine_rest.conftest import DATE, TINY, file, modeler_deploy
from tests.factories import make_user

TASK_KEYS = {
    "assignee",
    "caseDefinitionId",
    "caseExecutionId",
    "caseInstanceId",
    "delegationState",
    "description",
    "executionId",
    "formKey",
    "id",
    "name",
    "owner",
    "parentTaskId",
    "priority",
    "processDefinitionId",
    "processInstanceId",
    "suspended",
    "taskDefinitionKey",
    "created",
    "due",
    "followUp",
    "tenantId",
}
PROCESS_INSTANCE_KEYS = {
    "id",
    "definitionId",
    "businessKey",
    "caseInstanceId",
    "tenantId",
    "suspended",
    "links",
    "ended",
}


def _start(
    rest: FlaskClient, sessions: sessionmaker[Session]
) -> tuple[dict[str, str], dict[str, Any]]:
    deployed = modeler_deploy(rest, file(TINY / "one_user_task.bpmn"))
    assert deployed.status_code == 200, deployed.get_json()
    staff = make_user(sessions, "er_staff", ("staff",))
    started = rest.post(
        "/engine-rest/process-definition/key/one_user_task/start",
        json={"businessKey": "bk-1", "variables": {"amount": {"value": 5, "type": "Long"}}},
        headers=staff,
    )
    assert started.status_code == 200, started.get_json()
    return staff, started.get_json()


def _task(rest: FlaskClient, headers: dict[str, str], instance_id: str) -> dict[str, Any]:
    response = rest.get(f"/engine-rest/task?processInstanceId={instance_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    (task,) = response.get_json()
    return task  # type: ignore[no-any-return]


def test_task_loop(rest: FlaskClient, rest_sessions: sessionmaker[Session]) -> None:
    staff, instance = _start(rest, rest_sessions)
    other = make_user(rest_sessions, "er_staff_2", ("staff",))

    task = _task(rest, staff, instance["id"])
    assert set(task) >= TASK_KEYS
    assert re.fullmatch(DATE, task["created"])
    assert task["due"] is None or re.fullmatch(DATE, task["due"])
    assert task["taskDefinitionKey"] == "do_work"
    assert task["name"] == "Do work"
    assert task["processInstanceId"] == instance["id"]
    assert task["processDefinitionId"] == instance["definitionId"]
    assert task["assignee"] is None
    assert task["priority"] == 50
    assert task["suspended"] is False

    count = rest.get(
        "/engine-rest/task/count?processDefinitionKey=one_user_task&candidateGroup=staff",
        headers=staff,
    )
    assert count.get_json() == {"count": 1}
    by_key = rest.get("/engine-rest/task?taskDefinitionKey=nope", headers=staff)
    assert by_key.get_json() == []
    one = rest.get(f"/engine-rest/task/{task['id']}", headers=staff)
    assert one.status_code == 200
    assert one.get_json()["id"] == task["id"]

    # Another user may not claim on the caller's behalf.
    for_other = rest.post(
        f"/engine-rest/task/{task['id']}/claim", json={"userId": "er_staff_2"}, headers=staff
    )
    assert for_other.status_code == 403
    assert for_other.get_json()["type"] == "AuthorizationException"

    claimed = rest.post(
        f"/engine-rest/task/{task['id']}/claim", json={"userId": "er_staff"}, headers=staff
    )
    assert claimed.status_code == 204, claimed.get_json()
    assert rest.get(f"/engine-rest/task/{task['id']}", headers=staff).get_json()["assignee"] == (
        "er_staff"
    )
    mine = rest.get("/engine-rest/task/count?assignee=er_staff", headers=staff)
    assert mine.get_json() == {"count": 1}
    unassigned = rest.get("/engine-rest/task/count?candidateGroup=staff", headers=staff)
    assert unassigned.get_json() == {"count": 0}

    taken = rest.post(
        f"/engine-rest/task/{task['id']}/claim", json={"userId": "er_staff_2"}, headers=other
    )
    assert taken.status_code == 500
    assert taken.get_json()["type"] == "TaskAlreadyClaimedException"
    assert taken.get_json()["message"] == f"Task '{task['id']}' is already claimed by someone else."

    links = rest.get(f"/engine-rest/task/{task['id']}/identity-links", headers=staff).get_json()
    assert {"userId": None, "groupId": "staff", "type": "candidate"} in links
    assert {"userId": "er_staff", "groupId": None, "type": "assignee"} in links
    assert all(set(link) == {"userId", "groupId", "type"} for link in links)

    form = rest.get(f"/engine-rest/task/{task['id']}/form-variables", headers=staff).get_json()
    assert form["note"] == {"type": "String", "value": None, "valueInfo": {}}
    assert form["amount"]["value"] == 5

    variables = rest.get(
        f"/engine-rest/process-instance/{instance['id']}/variables", headers=staff
    ).get_json()
    assert variables["amount"] == {"type": "Integer", "value": 5, "valueInfo": {}}

    done = rest.post(
        f"/engine-rest/task/{task['id']}/complete",
        json={"variables": {"note": {"value": "all done", "type": "String"}}},
        headers=staff,
    )
    assert done.status_code == 204, done.get_json()

    gone = rest.get(f"/engine-rest/process-instance/{instance['id']}", headers=staff)
    assert gone.status_code == 404
    assert gone.get_json()["type"] == "RestException"
    missing = rest.get(f"/engine-rest/task/{task['id']}", headers=staff)
    assert missing.status_code == 404
    assert missing.get_json()["message"] == f"No matching task with id {task['id']}"


def test_unclaim(rest: FlaskClient, rest_sessions: sessionmaker[Session]) -> None:
    staff, instance = _start(rest, rest_sessions)
    task = _task(rest, staff, instance["id"])
    claimed = rest.post(f"/engine-rest/task/{task['id']}/claim", json={}, headers=staff)
    assert claimed.status_code == 204
    unclaimed = rest.post(f"/engine-rest/task/{task['id']}/unclaim", headers=staff)
    assert unclaimed.status_code == 204
    assert _task(rest, staff, instance["id"])["assignee"] is None


def test_process_instances(rest: FlaskClient, rest_sessions: sessionmaker[Session]) -> None:
    staff, instance = _start(rest, rest_sessions)
    listed = rest.get(
        "/engine-rest/process-instance?processDefinitionKey=one_user_task", headers=staff
    )
    assert listed.status_code == 200
    (row,) = listed.get_json()
    assert set(row) >= PROCESS_INSTANCE_KEYS
    assert row["id"] == instance["id"]
    assert row["ended"] is False
    assert row["links"][0]["href"].endswith(f"/engine-rest/process-instance/{instance['id']}")
    by_ids = rest.get(
        f"/engine-rest/process-instance?processInstanceIds={instance['id']},nope&businessKey=bk-1",
        headers=staff,
    )
    assert [r["id"] for r in by_ids.get_json()] == [instance["id"]]
    one = rest.get(f"/engine-rest/process-instance/{instance['id']}", headers=staff)
    assert one.status_code == 200
    assert set(one.get_json()) >= PROCESS_INSTANCE_KEYS
    missing = rest.get("/engine-rest/process-instance/nope", headers=staff)
    assert missing.status_code == 404


def test_sorting_needs_both_keys(rest: FlaskClient, rest_sessions: sessionmaker[Session]) -> None:
    response = rest.get("/engine-rest/task?sortBy=created", headers=STAFF["rm"])
    assert response.status_code == 400
    bad = rest.get("/engine-rest/task?sortBy=name&sortOrder=asc", headers=STAFF["rm"])
    assert bad.status_code == 400
    ok = rest.get("/engine-rest/task?sortBy=priority&sortOrder=desc", headers=STAFF["rm"])
    assert ok.status_code == 200


def test_unauthenticated_is_401(rest: FlaskClient) -> None:
    for path in ("/engine-rest/task", "/engine-rest/process-instance", "/engine-rest/task/x"):
        response = rest.get(path)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="default"'
    assert rest.post("/engine-rest/task/x/claim", json={"userId": "a"}).status_code == 401


def test_four_eyes_is_an_authorization_exception(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    source = (TINY / "one_user_task.bpmn").read_text()
    guarded = source.replace(
        "<camunda:formData>",
        '<camunda:properties><camunda:property name="four_eyes.exclude_initiator" '
        'value="true" /></camunda:properties><camunda:formData>',
    )
    assert guarded != source
    deployed = modeler_deploy(rest, ("four_eyes.bpmn", guarded.encode()))
    assert deployed.status_code == 200, deployed.get_json()
    starter = make_user(rest_sessions, "er_starter", ("staff",))
    started = rest.post(
        "/engine-rest/process-definition/key/one_user_task/start", json={}, headers=starter
    )
    assert started.status_code == 200, started.get_json()
    # 审贷分离 keeps the task out of the starter's list; an administrator sees it.
    assert rest.get("/engine-rest/task", headers=starter).get_json() == []
    task = _task(rest, STAFF["admin"], started.get_json()["id"])
    refused = rest.post(f"/engine-rest/task/{task['id']}/claim", json={}, headers=starter)
    assert refused.status_code == 403
    body = refused.get_json()
    assert body["type"] == "AuthorizationException"
    assert "审贷分离" in body["message"]
    assert body["userId"] == "er_starter"
