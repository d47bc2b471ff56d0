"""/engine-rest external tasks and messages: Camunda's wire shapes, 204s, long polling."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import STAFF
from tests.engine_rest.conftest import DATE, TINY, file, modeler_deploy

ADMIN = STAFF["admin"]
# Appendix A: what pycamunda's ExternalTask reads, plus what ETC reads from a locked task.
EXTERNAL_TASK_KEYS = {
    "activityId",
    "activityInstanceId",
    "errorMessage",
    "executionId",
    "id",
    "processDefinitionId",
    "processDefinitionKey",
    "processInstanceId",
    "tenantId",
    "retries",
    "workerId",
    "priority",
    "topicName",
    "lockExpirationTime",
    "suspended",
    "errorDetails",
    "businessKey",
}


def _start(rest: FlaskClient, key: str, business_key: str, **variables: Any) -> str:
    response = rest.post(
        f"/engine-rest/process-definition/key/{key}/start",
        json={
            "businessKey": business_key,
            "variables": {k: {"value": v} for k, v in variables.items()},
        },
        headers=ADMIN,
    )
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["id"])


def _fetch(rest: FlaskClient, worker: str = "w1", **extra: Any) -> Any:
    topic = {"topicName": "charge-card", "lockDuration": 10_000, **extra.pop("topic", {})}
    return rest.post(
        "/engine-rest/external-task/fetchAndLock",
        json={"workerId": worker, "maxTasks": 5, "topics": [topic], **extra},
        headers=ADMIN,
    )


def _charge(rest: FlaskClient) -> str:
    deployed = modeler_deploy(rest, file(TINY / "external_task_error.bpmn"))
    assert deployed.status_code == 200, deployed.get_json()
    return _start(rest, "external_task_error", "INV-9", amount=5, details={"a": 1})


def test_fetch_and_lock_answers_locked_external_task_dtos(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    instance_id = _charge(rest)
    response = _fetch(
        rest,
        topic={"includeExtensionProperties": True, "deserializeValues": False},
        usePriority=True,
    )
    assert response.status_code == 200, response.get_json()
    [task] = response.get_json()
    assert set(task) >= EXTERNAL_TASK_KEYS
    assert task["processInstanceId"] == instance_id and task["workerId"] == "w1"
    assert task["retries"] is None and task["priority"] == 7
    assert task["businessKey"] == "INV-9" and task["activityId"] == "charge_card"
    assert re.match(DATE, task["lockExpirationTime"])
    assert task["extensionProperties"] == {"channel": "card"}
    assert task["variables"]["amount"] == {"type": "Integer", "value": 5, "valueInfo": {}}
    assert task["variables"]["details"]["type"] == "Object"
    assert task["variables"]["details"]["value"] == '{"a": 1}'
    listed = rest.get("/engine-rest/external-task?topicName=charge-card", headers=ADMIN)
    assert [t["id"] for t in listed.get_json()] == [task["id"]]
    assert set(listed.get_json()[0]) >= EXTERNAL_TASK_KEYS
    count = rest.get("/engine-rest/external-task/count?locked=true", headers=ADMIN)
    assert count.get_json() == {"count": 1}
    one = rest.get(f"/engine-rest/external-task/{task['id']}", headers=ADMIN)
    assert one.get_json()["workerId"] == "w1"


def test_worker_answers_are_204_and_wrong_worker_is_400(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    instance_id = _charge(rest)
    [task] = _fetch(rest).get_json()
    url = f"/engine-rest/external-task/{task['id']}"
    wrong = rest.post(f"{url}/complete", json={"workerId": "w2"}, headers=ADMIN)
    assert wrong.status_code == 400
    assert wrong.get_json()["type"] == "BadUserRequestException"
    assert wrong.get_json()["message"] == (
        f"External Task {task['id']} cannot be completed by worker 'w2'. "
        "It is locked by worker 'w1'."
    )
    extended = rest.post(
        f"{url}/extendLock", json={"workerId": "w1", "newDuration": 60_000}, headers=ADMIN
    )
    assert extended.status_code == 204
    failed = rest.post(
        f"{url}/failure",
        json={"workerId": "w1", "errorMessage": "boom", "errorDetails": "trace", "retries": 0},
        headers=ADMIN,
    )
    assert failed.status_code == 204
    assert _fetch(rest, "w2").get_json() == []
    incidents = rest.get("/api/v1/incidents", headers=ADMIN).get_json()["items"]
    assert [i["kind"] for i in incidents] == ["failedExternalTask"]
    assert rest.get(f"{url}/errorDetails", headers=ADMIN).get_data(as_text=True) == "trace"
    retried = rest.put(f"{url}/retries", json={"retries": 1}, headers=ADMIN)
    assert retried.status_code == 204
    [again] = _fetch(rest, "w2").get_json()
    assert again["retries"] == 1 and again["errorMessage"] == "boom"
    done = rest.post(
        f"{url}/complete",
        json={"workerId": "w2", "variables": {"paid": {"value": True}}},
        headers=ADMIN,
    )
    assert done.status_code == 204
    gone = rest.get(f"/engine-rest/process-instance/{instance_id}", headers=ADMIN)
    assert gone.status_code == 404
    missing = rest.post(f"{url}/complete", json={"workerId": "w2"}, headers=ADMIN)
    assert missing.status_code == 404
    assert missing.get_json()["message"] == f"External task with id {task['id']} does not exist"


def test_bpmn_error_is_204_and_takes_the_boundary_path(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    instance_id = _charge(rest)
    [task] = _fetch(rest).get_json()
    thrown = rest.post(
        f"/engine-rest/external-task/{task['id']}/bpmnError",
        json={"workerId": "w1", "errorCode": "card_declined", "errorMessage": "no funds"},
        headers=ADMIN,
    )
    assert thrown.status_code == 204
    native = rest.get(f"/api/v1/process-instances/{instance_id}", headers=ADMIN).get_json()
    assert native["status"] == "completed" and native["end_element"] == "declined"


def test_long_polling_answers_as_soon_as_work_appears(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    deployed = modeler_deploy(rest, file(TINY / "external_task_error.bpmn"))
    assert deployed.status_code == 200
    began = time.monotonic()
    assert _fetch(rest, asyncResponseTimeout=300).get_json() == []
    assert 0.3 <= time.monotonic() - began < 2.0
    answer: dict[str, Any] = {}

    def poll() -> None:
        began = time.monotonic()
        answer["body"] = _fetch(rest, asyncResponseTimeout=10_000).get_json()
        answer["waited"] = time.monotonic() - began

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    _start(rest, "external_task_error", "LATE")
    poller.join(15)
    assert len(answer["body"]) == 1
    assert 0.5 <= answer["waited"] < 3.0


def test_bad_fetch_requests_are_400(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    no_worker = rest.post(
        "/engine-rest/external-task/fetchAndLock", json={"maxTasks": 1}, headers=ADMIN
    )
    assert no_worker.status_code == 400
    no_lock = _fetch(rest, topic={"lockDuration": None})
    assert no_lock.status_code == 400 and "lockDuration" in no_lock.get_json()["message"]
    clerk = rest.post(
        "/engine-rest/external-task/fetchAndLock",
        json={"workerId": "w", "maxTasks": 1, "topics": []},
        headers=STAFF["rm"],
    )
    assert clerk.status_code == 403


def test_message_correlation_204_result_list_and_mismatch(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    deployed = modeler_deploy(
        rest, file(TINY / "message_catch.bpmn"), file(TINY / "message_start.bpmn")
    )
    assert deployed.status_code == 200, deployed.get_json()
    first = _start(rest, "message_catch", "ORD-1")
    _start(rest, "message_catch", "ORD-2")
    plain = rest.post(
        "/engine-rest/message",
        json={"messageName": "payment_received", "businessKey": "ORD-1"},
        headers=ADMIN,
    )
    assert plain.status_code == 204
    assert rest.get(f"/engine-rest/process-instance/{first}", headers=ADMIN).status_code == 404
    with_result = rest.post(
        "/engine-rest/message",
        json={
            "messageName": "payment_received",
            "businessKey": "ORD-2",
            "processVariables": {"paid": {"value": 10, "type": "Long"}},
            "resultEnabled": True,
            "variablesInResultEnabled": True,
        },
        headers=ADMIN,
    )
    assert with_result.status_code == 200
    [result] = with_result.get_json()
    assert result["resultType"] == "Execution" and result["processInstance"] is None
    assert set(result["execution"]) == {"id", "processInstanceId", "ended", "tenantId"}
    assert result["variables"]["paid"]["value"] == 10
    started = rest.post(
        "/engine-rest/message",
        json={"messageName": "risk_alert_raised", "businessKey": "A-1", "resultEnabled": True},
        headers=ADMIN,
    ).get_json()
    assert started[0]["resultType"] == "ProcessDefinition"
    assert started[0]["processInstance"]["businessKey"] == "A-1"
    mismatch = rest.post(
        "/engine-rest/message", json={"messageName": "payment_received"}, headers=ADMIN
    )
    assert mismatch.status_code == 400
    assert mismatch.get_json()["type"] == "MismatchingMessageCorrelationException"
    assert mismatch.get_json()["message"] == (
        "Cannot correlate message 'payment_received': No process definition or execution "
        "matches the parameters"
    )
    unnamed = rest.post("/engine-rest/message", json={}, headers=ADMIN)
    assert unnamed.status_code == 400
