"""Operators see incidents and retry the failed work once its cause is fixed."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.instances.models import ServiceJob, Timer
from handlers import registry
from tests.conftest import ROOT, STAFF
from tests.factories import make_user


def _deploy(client: FlaskClient, name: str, content: bytes) -> None:
    response = client.post(
        "/api/v1/deployments",
        headers=STAFF["designer"],
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(content), name)},
    )
    assert response.status_code == 201, response.get_json()


def test_failed_service_job_is_listed_and_retried_after_the_handler_exists(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    source = (ROOT / "tests" / "bpmn" / "service_task.bpmn").read_bytes()
    _deploy(client, "service_task.bpmn", source.replace(b"corpflow.Echo", b"later.Handler"))
    worker = make_user(sessions, "incident_staff", ("staff",))
    started = client.post(
        "/api/v1/process-instances",
        headers=worker,
        json={"process_key": "service_task", "variables": {}},
    ).get_json()
    listed = client.get("/api/v1/incidents", headers=STAFF["admin"]).get_json()
    [incident] = listed["items"]
    assert incident["kind"] == "failedJob" and "later.Handler" in incident["message"]
    assert client.get("/api/v1/incidents", headers=worker).status_code == 403

    def later(variables: Any, ctx: Any) -> dict[str, Any]:
        return {"handled_later": True}

    registry._HANDLERS["later.Handler"] = later
    try:
        retried = client.post(f"/api/v1/incidents/{incident['id']}/retry", headers=STAFF["admin"])
    finally:
        registry._HANDLERS.pop("later.Handler")
    assert retried.status_code == 200 and retried.get_json()["resolved_at"]
    detail = client.get(
        f"/api/v1/process-instances/{started['id']}", headers=STAFF["admin"]
    ).get_json()
    assert detail["variables"]["handled_later"] is True
    assert detail["active_elements"] == ["after_service"]
    with sessions() as session:
        assert session.get(ServiceJob, incident["task_id"]).status == "done"  # type: ignore[union-attr]
    again = client.post(f"/api/v1/incidents/{incident['id']}/retry", headers=STAFF["admin"])
    assert again.status_code == 409


def test_parked_timer_is_fired_again_on_retry(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    _deploy(
        client, "timer_failing.bpmn", (ROOT / "tests" / "bpmn" / "timer_failing.bpmn").read_bytes()
    )
    worker = make_user(sessions, "incident_staff", ("staff",))
    started = client.post(
        "/api/v1/process-instances",
        headers=worker,
        json={"process_key": "timer_failing", "variables": {"not_a_date": "x"}},
    ).get_json()
    with sessions() as session:
        timer = session.scalars(select(Timer).where(Timer.instance_id == started["id"])).one()
    time.sleep(max(0.0, (timer.due_at - datetime.now(UTC)).total_seconds()) + 0.05)
    jobs.tick()
    [first] = client.get("/api/v1/incidents", headers=STAFF["admin"]).get_json()["items"]
    assert first["kind"] == "failedTimer"
    # The cause is still there, so the retried firing fails again: parked, a new incident.
    assert (
        client.post(f"/api/v1/incidents/{first['id']}/retry", headers=STAFF["admin"]).status_code
        == 200
    )
    with sessions() as session:
        assert session.get(Timer, timer.id).status == "pending"  # type: ignore[union-attr]
    jobs.tick()
    items = client.get("/api/v1/incidents?open=false", headers=STAFF["admin"]).get_json()["items"]
    assert [(i["kind"], i["resolved_at"] is None) for i in items] == [
        ("failedTimer", True),
        ("failedTimer", False),
    ]
