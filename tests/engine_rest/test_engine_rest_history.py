"""/engine-rest history: process instances, activity instances, tasks and variables."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import STAFF
from tests.engine_rest.conftest import DATE, TINY, file, modeler_deploy
from tests.factories import make_user

HISTORIC_INSTANCE_KEYS = {
    "id", "rootProcessInstanceId", "superProcessInstanceId", "superCaseInstanceId",
    "caseInstanceId", "processDefinitionName", "processDefinitionKey",
    "processDefinitionVersion", "processDefinitionId", "businessKey", "startTime", "endTime",
    "removalTime", "durationInMillis", "startUserId", "startActivityId", "deleteReason",
    "tenantId", "state", "restartedProcessInstanceId",
}  # fmt: skip
ACTIVITY_KEYS = {
    "id", "parentActivityInstanceId", "activityId", "activityName", "activityType",
    "processDefinitionKey", "processDefinitionId", "processInstanceId", "executionId", "taskId",
    "assignee", "calledProcessInstanceId", "calledCaseInstanceId", "startTime", "endTime",
    "durationInMillis", "canceled", "completeScope", "tenantId", "removalTime",
    "rootProcessInstanceId",
}  # fmt: skip
HISTORIC_TASK_KEYS = {
    "id", "processDefinitionKey", "processDefinitionId", "processInstanceId", "executionId",
    "caseDefinitionKey", "caseDefinitionId", "caseInstanceId", "caseExecutionId",
    "activityInstanceId", "name", "description", "deleteReason", "owner", "assignee",
    "startTime", "endTime", "duration", "taskDefinitionKey", "priority", "due", "parentTaskId",
    "followUp", "tenantId", "removalTime", "rootProcessInstanceId", "taskState",
}  # fmt: skip


def _get(rest: FlaskClient, path: str, headers: dict[str, str]) -> Any:
    response = rest.get(f"/engine-rest{path}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _two_instances(
    rest: FlaskClient, sessions: sessionmaker[Session]
) -> tuple[dict[str, str], str, str]:
    """(headers of the starter, a completed instance id, a running instance id)."""
    assert modeler_deploy(rest, file(TINY / "one_user_task.bpmn")).status_code == 200
    staff = make_user(sessions, "hi_staff", ("staff",))
    ids = []
    for key in ("hist-1", "hist-2"):
        started = rest.post(
            "/engine-rest/process-definition/key/one_user_task/start",
            json={"businessKey": key, "variables": {"amount": {"value": 3}}},
            headers=staff,
        )
        ids.append(started.get_json()["id"])
    [task] = _get(rest, f"/task?processInstanceId={ids[0]}", staff)
    rest.post(f"/engine-rest/task/{task['id']}/claim", json={}, headers=staff)
    done = rest.post(
        f"/engine-rest/task/{task['id']}/complete",
        json={"variables": {"note": {"value": "ok"}}},
        headers=staff,
    )
    assert done.status_code == 204
    return staff, ids[0], ids[1]


def test_history_process_instances(rest: FlaskClient, rest_sessions: sessionmaker[Session]) -> None:
    staff, finished, running = _two_instances(rest, rest_sessions)
    listed = _get(rest, "/history/process-instance?sortBy=startTime&sortOrder=asc", staff)
    assert [i["id"] for i in listed] == [finished, running]
    first = listed[0]
    assert set(first) == HISTORIC_INSTANCE_KEYS
    assert first["state"] == "COMPLETED" and listed[1]["state"] == "ACTIVE"
    assert (first["processDefinitionKey"], first["processDefinitionName"]) == (
        "one_user_task",
        "One user task",
    )
    assert first["processDefinitionVersion"] == 1
    assert (first["businessKey"], first["startUserId"]) == ("hist-1", "hi_staff")
    assert first["startActivityId"] == "work_requested"
    assert re.fullmatch(DATE, first["startTime"]) and re.fullmatch(DATE, first["endTime"])
    assert isinstance(first["durationInMillis"], int) and first["durationInMillis"] >= 0
    assert listed[1]["endTime"] is None and listed[1]["durationInMillis"] is None

    desc = _get(rest, "/history/process-instance?sortBy=startTime&sortOrder=desc", staff)
    assert [i["id"] for i in desc] == [running, finished]
    assert _get(rest, "/history/process-instance/count?finished=true", staff) == {"count": 1}
    assert _get(rest, "/history/process-instance/count?unfinished=true", staff) == {"count": 1}
    assert _get(rest, "/history/process-instance/count?completed=true", staff) == {"count": 1}
    assert _get(
        rest, "/history/process-instance/count?processDefinitionKey=one_user_task", staff
    ) == {"count": 2}
    assert (
        _get(
            rest,
            "/history/process-instance?processInstanceBusinessKeyLike=hist-%25&maxResults=1",
            staff,
        )[0]["id"]
        == finished
    )
    assert _get(rest, f"/history/process-instance/{finished}", staff)["id"] == finished
    missing = rest.get("/engine-rest/history/process-instance/nope", headers=staff)
    assert missing.status_code == 404
    # Someone who neither started nor acted on them sees none; an administrator sees all.
    other = make_user(rest_sessions, "hi_other", ("staff",))
    assert _get(rest, "/history/process-instance/count", other) == {"count": 0}
    assert _get(rest, "/history/process-instance/count", STAFF["admin"]) == {"count": 2}
    bad = rest.get("/engine-rest/history/process-instance?sortBy=nope&sortOrder=asc", headers=staff)
    assert bad.status_code == 400


def test_history_activity_instances(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    staff, finished, running = _two_instances(rest, rest_sessions)
    done = _get(rest, f"/history/activity-instance?processInstanceId={finished}", staff)
    assert all(set(a) == ACTIVITY_KEYS for a in done)
    assert [(a["activityId"], a["activityType"]) for a in done] == [
        ("work_requested", "startEvent"),
        ("do_work", "userTask"),
        ("work_done", "endEvent"),
    ]
    task = done[1]
    assert task["activityName"] == "Do work"
    assert task["assignee"] == "hi_staff" and task["taskId"]
    assert task["endTime"] is not None and task["canceled"] is False
    assert task["startTime"] <= task["endTime"]
    assert done[2]["completeScope"] is True

    waiting = _get(rest, f"/history/activity-instance?processInstanceId={running}", staff)
    assert [(a["activityId"], a["endTime"] is None) for a in waiting] == [
        ("work_requested", False),
        ("do_work", True),
    ]
    assert _get(rest, "/history/activity-instance/count?activityType=userTask", staff) == {
        "count": 2
    }
    unfinished = _get(rest, "/history/activity-instance?unfinished=true", staff)
    assert [a["processInstanceId"] for a in unfinished] == [running]
    mine = _get(rest, "/history/activity-instance?taskAssignee=hi_staff", staff)
    assert [a["id"] for a in mine] == [task["id"]]
    by_end = _get(
        rest,
        f"/history/activity-instance?processInstanceId={finished}&sortBy=activityId&sortOrder=desc",
        staff,
    )
    assert [a["activityId"] for a in by_end] == ["work_requested", "work_done", "do_work"]
    page = _get(
        rest,
        f"/history/activity-instance?processInstanceId={finished}&firstResult=1&maxResults=1",
        staff,
    )
    assert [a["activityId"] for a in page] == ["do_work"]


def test_history_tasks_and_variables(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    staff, finished, running = _two_instances(rest, rest_sessions)
    tasks = _get(rest, "/history/task?sortBy=startTime&sortOrder=asc", staff)
    assert all(set(t) == HISTORIC_TASK_KEYS for t in tasks)
    assert [(t["processInstanceId"], t["deleteReason"]) for t in tasks] == [
        (finished, "completed"),
        (running, None),
    ]
    assert tasks[0]["assignee"] == "hi_staff" and tasks[0]["taskDefinitionKey"] == "do_work"
    assert isinstance(tasks[0]["duration"], int)
    assert tasks[1]["endTime"] is None and tasks[1]["taskState"] == "Created"
    assert _get(rest, "/history/task/count?finished=true", staff) == {"count": 1}
    assert _get(rest, "/history/task/count?unfinished=true", staff) == {"count": 1}
    assert _get(rest, "/history/task/count?taskAssignee=hi_staff", staff) == {"count": 1}
    assert _get(rest, "/history/task/count?taskHadCandidateGroup=staff", staff) == {"count": 2}
    assert _get(rest, "/history/task/count?taskNameLike=Do%25", staff) == {"count": 2}
    assert _get(rest, f"/history/task/count?processInstanceId={running}", staff) == {"count": 1}

    variables = _get(rest, f"/history/variable-instance?processInstanceId={finished}", staff)
    assert {(v["name"], v["value"]) for v in variables} == {("amount", 3), ("note", "ok")}
    assert all(v["processInstanceId"] == finished and v["type"] for v in variables)
