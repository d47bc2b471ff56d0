"""/engine-rest process instances: variables (read, modify, delete), count, cancel (DELETE)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import STAFF
from tests.engine_rest.conftest import TINY, file, modeler_deploy
from tests.factories import make_user

ADMIN = STAFF["admin"]


def _start(rest: FlaskClient, headers: dict[str, str], business_key: str) -> dict[str, Any]:
    started = rest.post(
        "/engine-rest/process-definition/key/one_user_task/start",
        json={
            "businessKey": business_key,
            "variables": {
                "amount": {"value": 5, "type": "Integer"},
                "note": {"value": "start"},
            },
        },
        headers=headers,
    )
    assert started.status_code == 200, started.get_json()
    return dict(started.get_json())


def test_instance_variables(rest: FlaskClient, rest_sessions: sessionmaker[Session]) -> None:
    assert modeler_deploy(rest, file(TINY / "one_user_task.bpmn")).status_code == 200
    starter = make_user(rest_sessions, "pi_starter", ("staff",))
    instance = _start(rest, starter, "pi-1")
    base = f"/engine-rest/process-instance/{instance['id']}/variables"

    assert rest.get(f"{base}/amount", headers=starter).get_json() == {
        "type": "Integer",
        "value": 5,
        "valueInfo": {},
    }
    missing = rest.get(f"{base}/nope", headers=starter)
    assert missing.status_code == 404
    assert missing.get_json() == {
        "type": "InvalidRequestException",
        "message": "process instance variable with name nope does not exist",
        "code": None,
    }

    change = {
        "modifications": {
            "amount": {"value": 7, "type": "Integer"},
            "details": {"value": {"a": [1, 2]}},
        },
        "deletions": ["note"],
    }
    # Only administrators change an instance's variables directly (the starter may not rewrite
    # an application under review).
    refused = rest.post(base, json=change, headers=starter)
    assert refused.status_code == 403 and refused.get_json()["type"] == "AuthorizationException"
    assert rest.get(f"{base}/amount", headers=starter).get_json()["value"] == 5

    assert rest.post(base, json=change, headers=ADMIN).status_code == 204
    variables = rest.get(base, headers=starter).get_json()
    assert variables["amount"]["value"] == 7
    assert variables["details"] == {
        "type": "Object",
        "value": {"a": [1, 2]},
        "valueInfo": {
            "objectTypeName": "java.util.LinkedHashMap",
            "serializationDataFormat": "application/json",
        },
    }
    assert "note" not in variables

    assert (
        rest.put(f"{base}/flag", json={"value": True, "type": "Boolean"}, headers=ADMIN).status_code
        == 204
    )
    assert rest.get(f"{base}/flag", headers=ADMIN).get_json()["type"] == "Boolean"
    assert rest.delete(f"{base}/flag", headers=ADMIN).status_code == 204
    assert rest.get(f"{base}/flag", headers=ADMIN).status_code == 404

    both = rest.post(
        base, json={"modifications": {"x": {"value": 1}}, "deletions": ["x"]}, headers=ADMIN
    )
    assert both.status_code == 400 and "both modified and deleted" in both.get_json()["message"]
    bad = rest.post(base, json={"deletions": "note"}, headers=ADMIN)
    assert bad.status_code == 400
    unknown = rest.post("/engine-rest/process-instance/nope/variables", json=change, headers=ADMIN)
    assert unknown.status_code == 404

    history = rest.get(
        f"/api/v1/process-instances/{instance['id']}/history", headers=ADMIN
    ).get_json()
    changed = [e for e in history if e["kind"] == "variables_changed"]
    assert [e["user_id"] for e in changed] == ["admin", "admin", "admin"]


def test_instance_count_and_cancel(rest: FlaskClient, rest_sessions: sessionmaker[Session]) -> None:
    assert modeler_deploy(rest, file(TINY / "one_user_task.bpmn")).status_code == 200
    starter = make_user(rest_sessions, "pi_starter", ("staff",))
    other = make_user(rest_sessions, "pi_other", ("staff",))
    first = _start(rest, starter, "pi-1")
    _start(rest, starter, "pi-2")
    count = rest.get("/engine-rest/process-instance/count", headers=starter)
    assert count.get_json() == {"count": 2}
    assert rest.get(
        "/engine-rest/process-instance/count?businessKey=pi-2", headers=starter
    ).get_json() == {"count": 1}
    [task] = rest.get(
        f"/engine-rest/task?processInstanceId={first['id']}", headers=starter
    ).get_json()

    # A candidate who did not start it may not cancel it.
    refused = rest.delete(f"/engine-rest/process-instance/{first['id']}", headers=other)
    assert refused.status_code == 403
    cancelled = rest.delete(
        f"/engine-rest/process-instance/{first['id']}?deleteReason=withdrawn", headers=starter
    )
    assert cancelled.status_code == 204, cancelled.get_json()

    assert (
        rest.get(f"/engine-rest/process-instance/{first['id']}", headers=starter).status_code == 404
    )
    assert rest.get(f"/engine-rest/task/{task['id']}", headers=starter).status_code == 404
    assert rest.get("/engine-rest/process-instance/count", headers=starter).get_json() == {
        "count": 1
    }
    again = rest.delete(f"/engine-rest/process-instance/{first['id']}", headers=starter)
    assert again.status_code == 404
    assert again.get_json()["message"] == f"Process instance with id {first['id']} does not exist"
    quiet = rest.delete(
        f"/engine-rest/process-instance/{first['id']}?failIfNotExists=false", headers=starter
    )
    assert quiet.status_code == 204

    historic = rest.get(
        f"/engine-rest/history/process-instance/{first['id']}", headers=starter
    ).get_json()
    assert historic["state"] == "EXTERNALLY_TERMINATED"
    assert historic["deleteReason"] == "withdrawn"
    assert historic["endTime"] is not None
    [old_task] = rest.get(
        f"/engine-rest/history/task?processInstanceId={first['id']}", headers=starter
    ).get_json()
    assert old_task["deleteReason"] == "deleted" and old_task["endTime"] is not None
    # Its variables stay readable in history.
    kept = rest.get(
        f"/engine-rest/history/variable-instance?processInstanceId={first['id']}&variableName=amount",
        headers=starter,
    ).get_json()
    assert [(v["name"], v["value"], v["type"]) for v in kept] == [("amount", 5, "Integer")]
