"""Call activities and multi-instance through /engine-rest, with the store, jobs and incidents."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.instances.models import HistoryEvent, ProcessInstance
from tests.conftest import STAFF
from tests.engine_rest.conftest import TINY, file, modeler_deploy
from tests.factories import make_user

ADMIN = STAFF["admin"]


def _deploy(rest: FlaskClient, *names: str, content: bytes | None = None) -> dict[str, Any]:
    files = [file(TINY / name) for name in names]
    if content is not None:
        files = [(names[0], content)]
    response = modeler_deploy(rest, *files, name=names[0])
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _start(rest: FlaskClient, key: str, variables: dict[str, Any]) -> str:
    response = rest.post(
        f"/engine-rest/process-definition/key/{key}/start",
        json={"variables": variables},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["id"])


def _tasks(rest: FlaskClient, instance_id: str, who: dict[str, str] = ADMIN) -> list[Any]:
    response = rest.get(f"/engine-rest/task?processInstanceId={instance_id}", headers=who)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _complete(rest: FlaskClient, task: dict[str, Any], who: dict[str, str]) -> None:
    done = rest.post(f"/engine-rest/task/{task['id']}/complete", json={}, headers=who)
    assert done.status_code == 204, done.get_json()


def _status(sessions: sessionmaker[Session], instance_id: str) -> tuple[str, dict[str, Any]]:
    with sessions() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        return row.status, dict(row.variables)


def test_missing_called_process_warns_then_raises_an_incident_that_retry_resolves(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    _deploy(rest, "call_missing.bpmn")
    report = rest.get("/api/v1/deployments", headers=ADMIN).get_json()["items"][0]["report"]
    (warning,) = report["call_missing.bpmn"]
    assert warning["element_id"] == "call_nobody"
    assert "'call_child_process' is not deployed" in warning["message"]

    pid = _start(rest, "call_missing", {"x": {"value": 1, "type": "Long"}})
    assert _status(rest_sessions, pid)[0] == "running"
    (incident,) = rest.get("/api/v1/incidents", headers=ADMIN).get_json()["items"]
    assert (incident["instance_id"], incident["element_id"], incident["kind"]) == (
        pid,
        "call_nobody",
        "calledProcessMissing",
    )
    # A second step on the instance does not raise a second incident.
    early = rest.post(f"/api/v1/incidents/{incident['id']}/retry", headers=ADMIN)
    assert early.status_code == 409, early.get_json()
    assert len(rest.get("/api/v1/incidents", headers=ADMIN).get_json()["items"]) == 1

    _deploy(rest, "call_child.bpmn")
    retried = rest.post(f"/api/v1/incidents/{incident['id']}/retry", headers=ADMIN)
    assert retried.status_code == 200, retried.get_json()
    assert rest.get("/api/v1/incidents", headers=ADMIN).get_json()["items"] == []
    (task,) = _tasks(rest, pid)
    assert task["taskDefinitionKey"] == "child_task"
    staff = make_user(rest_sessions, "ca_staff", ("staff",))
    rest.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": "ca_staff"}, headers=staff)
    done = rest.post(
        f"/engine-rest/task/{task['id']}/complete",
        json={"variables": {"childResult": {"value": "ok"}}},
        headers=staff,
    )
    assert done.status_code == 204, done.get_json()
    assert _status(rest_sessions, pid) == ("completed", {"x": 1})


def test_latest_and_version_bindings_pick_their_definitions(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    first = _deploy(rest, "call_child.bpmn")
    (v1,) = first["deployedProcessDefinitions"].values()
    changed = (TINY / "call_child.bpmn").read_bytes().replace(b"Child task", b"Child task v2")
    second = _deploy(rest, "call_child.bpmn", content=changed)
    (v2,) = second["deployedProcessDefinitions"].values()
    assert v2["version"] == 2
    _deploy(rest, "call_parent.bpmn", "call_all.bpmn")

    latest = _start(rest, "call_parent", {"amount": {"value": 4, "type": "Long"}})
    (task,) = _tasks(rest, latest)
    assert (task["name"], task["processDefinitionId"]) == ("Child task v2", v2["id"])
    pinned = _start(rest, "call_all", {"amount": {"value": 4, "type": "Long"}})
    (task,) = _tasks(rest, pinned)
    assert (task["name"], task["processDefinitionId"]) == ("Child task", v1["id"])
    count = rest.get(
        "/engine-rest/task/count?processDefinitionKey=call_child_process", headers=ADMIN
    )
    assert count.get_json() == {"count": 2}


def test_parallel_user_tasks_are_assigned_per_element(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    _deploy(rest, "mi_parallel_users.bpmn")
    people = {name: make_user(rest_sessions, name, ("staff",)) for name in ("mi_a", "mi_b")}
    reviewers = {"type": "Json", "value": json.dumps(["mi_a", "mi_b"])}
    pid = _start(rest, "mi_parallel_users", {"reviewers": reviewers})
    tasks = _tasks(rest, pid)
    assert sorted(t["assignee"] for t in tasks) == ["mi_a", "mi_b"]
    for task in tasks:
        who = people[task["assignee"]]
        assert [t["id"] for t in _tasks(rest, pid, who) if t["assignee"] == task["assignee"]]
        # The other reviewer's task is not theirs to complete.
        other = people["mi_b" if task["assignee"] == "mi_a" else "mi_a"]
        refused = rest.post(f"/engine-rest/task/{task['id']}/complete", json={}, headers=other)
        assert refused.status_code in (403, 404), refused.get_json()
        _complete(rest, task, who)
    (after,) = _tasks(rest, pid)
    assert after["taskDefinitionKey"] == "after_each"
    variables = _status(rest_sessions, pid)[1]
    assert variables == {"reviewers": ["mi_a", "mi_b"]}


def test_multi_instance_service_task_runs_one_job_per_instance(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    _deploy(rest, "mi_cardinality_service.bpmn")
    pid = _start(rest, "mi_cardinality_service", {"copies": {"value": 3, "type": "Integer"}})
    (after,) = _tasks(rest, pid)
    assert after["taskDefinitionKey"] == "after_each"
    with rest_sessions() as session:
        runs = session.scalar(
            select(func.count())
            .select_from(HistoryEvent)
            .where(HistoryEvent.instance_id == pid, HistoryEvent.kind == "service_task_completed")
        )
    assert runs == 3
    assert _status(rest_sessions, pid)[1]["echoed_by"] == "each"


def test_deployment_binding_calls_the_version_deployed_with_the_caller(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    caller = (
        (TINY / "call_all.bpmn")
        .read_bytes()
        .replace(b'id="call_all"', b'id="call_same_deployment"')
        .replace(
            b'camunda:calledElementBinding="version" camunda:calledElementVersion="1"',
            b'camunda:calledElementBinding="deployment"',
        )
    )
    together = modeler_deploy(
        rest, ("caller.bpmn", caller), file(TINY / "call_child.bpmn"), name="together"
    )
    assert together.status_code == 200, together.get_json()
    v1 = next(
        d
        for d in together.get_json()["deployedProcessDefinitions"].values()
        if d["key"] == "call_child_process"
    )
    changed = (TINY / "call_child.bpmn").read_bytes().replace(b"Child task", b"Child task v2")
    _deploy(rest, "call_child.bpmn", content=changed)
    pid = _start(rest, "call_same_deployment", {})
    (task,) = _tasks(rest, pid)
    assert (task["name"], task["processDefinitionId"]) == ("Child task", v1["id"])
