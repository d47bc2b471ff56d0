"""The engine's constructs through HTTP: service jobs, incidents, timers, due dates, task list,
API documentation, health probes, problem bodies and bearer tokens."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.instances.models import Incident, ServiceJob, Timer
from tests.conftest import ROOT, STAFF, deploy_files
from tests.factories import do_task, make_application, make_customer, make_user, open_task

TINY = ROOT / "tests" / "bpmn"
TOLERANCE = timedelta(seconds=60)


def _deploy(client: FlaskClient, name: str) -> dict[str, Any]:
    response = deploy_files(client, TINY / name)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def _start(client: FlaskClient, headers: dict[str, str], process_key: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/process-instances",
        headers=headers,
        json={"process_key": process_key, "variables": {}},
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def _instance(client: FlaskClient, instance_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/process-instances/{instance_id}", headers=STAFF["admin"])
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _history_kinds(client: FlaskClient, instance_id: str) -> list[str]:
    response = client.get(
        f"/api/v1/process-instances/{instance_id}/history", headers=STAFF["admin"]
    )
    assert response.status_code == 200, response.get_json()
    return [event["kind"] for event in response.get_json()]


def _when(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _timers(sessions: sessionmaker[Session], instance_id: str) -> list[Timer]:
    with sessions() as session:
        return list(session.scalars(select(Timer).where(Timer.instance_id == instance_id)))


# -- service tasks -----------------------------------------------------------------------------


def test_service_task_job_runs_echo_and_waits_at_next_task(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    _deploy(client, "service_task.bpmn")
    worker = make_user(sessions, "staff_service", ("staff",))

    started = _start(client, worker, "service_task")

    final = _instance(client, started["id"])
    assert final["status"] == "running"
    assert final["active_elements"] == ["after_service"]
    assert final["variables"]["echoed_by"] == "call_echo"
    assert final["variables"]["echo_count"] == 1
    assert [t["element_id"] for t in final["open_tasks"]] == ["after_service"]
    kinds = _history_kinds(client, started["id"])
    assert kinds.count("service_task_completed") == 1
    with sessions() as session:
        jobs = list(session.scalars(select(ServiceJob)))
        incidents = list(session.scalars(select(Incident)))
    assert [(j.element_id, j.handler, j.status, j.attempts) for j in jobs] == [
        ("call_echo", "corpflow.Echo", "done", 1)
    ]
    assert incidents == []


def test_service_task_unregistered_handler_becomes_incident(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    source = (TINY / "service_task.bpmn").read_bytes().replace(b"corpflow.Echo", b"no.Such")
    deployed = client.post(
        "/api/v1/deployments",
        headers=STAFF["designer"],
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(source), "service_task.bpmn")},
    )
    assert deployed.status_code == 201, deployed.get_json()
    warnings = deployed.get_json()["files"][0]["warnings"]
    assert any("no.Such" in w["message"] for w in warnings)
    worker = make_user(sessions, "staff_service", ("staff",))

    started = _start(client, worker, "service_task")

    with sessions() as session:
        job = session.get(ServiceJob, session.scalars(select(ServiceJob.id)).one())
        incidents = list(session.scalars(select(Incident)))
    assert job is not None
    assert job.status == "failed"
    assert job.instance_id == started["id"]
    assert job.last_error is not None and "no handler is registered" in job.last_error
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.instance_id == started["id"]
    assert incident.element_id == "call_echo"
    assert incident.task_id == job.id
    assert incident.kind == "failedJob"
    assert "no handler is registered under 'no.Such'" in incident.message
    final = _instance(client, started["id"])
    assert final["status"] == "running"
    assert final["active_elements"] == ["call_echo"]
    assert "echoed_by" not in final["variables"]
    assert "service_task_completed" not in _history_kinds(client, started["id"])


# -- timers ------------------------------------------------------------------------------------


def test_timer_boundary_row_pending_then_cancelled(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    _deploy(client, "timer_boundary.bpmn")
    worker = make_user(sessions, "staff_timer", ("staff",))
    before = datetime.now(UTC)

    started = _start(client, worker, "timer_boundary")

    timers = _timers(sessions, started["id"])
    assert [(t.element_id, t.status) for t in timers] == [("remind_after_day", "pending")]
    due = timers[0].due_at if timers[0].due_at.tzinfo else timers[0].due_at.replace(tzinfo=UTC)
    assert abs(due - (before + timedelta(hours=24))) < TOLERANCE
    task = started["open_tasks"][0]
    assert task["element_id"] == "wait_here"
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=worker).status_code == 200
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=worker, json={"values": {}})
    assert done.status_code == 200, done.get_json()

    after = _timers(sessions, started["id"])
    assert [(t.id, t.status) for t in after] == [(timers[0].id, "cancelled")]
    assert after[0].fired_at is not None
    assert _instance(client, started["id"])["status"] == "completed"


# -- user task due dates, sorting and paging -----------------------------------------------------


def test_task_detail_has_due_date_and_priority(client: FlaskClient, credit_models: Any) -> None:
    customer = make_customer(client)
    before = datetime.now(UTC)
    application = make_application(client, customer["id"])
    task = open_task(client, application["id"], "reviewer", "review_credit")

    response = client.get(f"/api/v1/tasks/{task['id']}", headers=STAFF["reviewer"])

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["element_id"] == "review_credit"
    assert body["priority"] == 60
    assert body["due_at"] is not None
    assert abs(_when(body["due_at"]) - (before + timedelta(days=2))) < TOLERANCE
    assert body["follow_up_at"] is None
    assert body["candidate_groups"] == ["credit_reviewer"]
    assert body["form_key"] == "embedded:app:forms/review_credit.html"


def test_task_list_due_before_filters(client: FlaskClient, credit_models: Any) -> None:
    customer = make_customer(client)
    application = make_application(client, customer["id"])
    now = datetime.now(UTC)

    def listed(due_before: datetime) -> list[str]:
        response = client.get(
            "/api/v1/tasks",
            headers=STAFF["reviewer"],
            query_string={"instance_id": application["id"], "due_before": due_before.isoformat()},
        )
        assert response.status_code == 200, response.get_json()
        return [t["element_id"] for t in response.get_json()["items"]]

    in_three_days = (now + timedelta(days=3)).astimezone(timezone(timedelta(hours=8)))
    assert in_three_days.isoformat().endswith("+08:00")
    assert listed(in_three_days) == ["review_credit"]
    assert listed(now + timedelta(days=1)) == []


def test_task_list_due_before_without_offset_is_rejected(
    client: FlaskClient, credit_models: Any
) -> None:
    response = client.get(
        "/api/v1/tasks",
        headers=STAFF["reviewer"],
        query_string={"due_before": "2030-01-01T00:00:00"},
    )
    assert response.status_code == 422
    assert "due_before" in response.get_json()["errors"]


def test_task_list_sorts_by_priority_and_pages(client: FlaskClient, credit_models: Any) -> None:
    customer = make_customer(client)
    waiting_review = make_application(client, customer["id"])
    returned = make_application(client, customer["id"])
    do_task(client, returned["id"], "reviewer", "review_credit", {"review_decision": "return"})
    approving = make_application(client, customer["id"], amount=1_000_000)
    do_task(client, approving["id"], "reviewer", "review_credit", {"review_decision": "approve"})
    do_task(client, approving["id"], "risk", "assess_risk", {"risk_rating": "A"})

    def page(**args: Any) -> dict[str, Any]:
        response = client.get(
            "/api/v1/tasks",
            headers=STAFF["admin"],
            query_string={"process_key": "credit_application", "sort": "priority", **args},
        )
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json())

    everything = page(order="desc")
    assert [(t["element_id"], t["priority"]) for t in everything["items"]] == [
        ("approve_credit", 70),
        ("review_credit", 60),
        ("supplement_material", 50),
    ]
    assert everything["items"][1]["instance_id"] == waiting_review["id"]
    first = page(order="desc", limit=1)
    assert first["total"] == 3
    assert first["limit"] == 1
    assert [t["element_id"] for t in first["items"]] == ["approve_credit"]
    second = page(order="desc", limit=1, offset=1)
    assert second["total"] == 3
    assert second["offset"] == 1
    assert [t["element_id"] for t in second["items"]] == ["review_credit"]
    lowest = page(order="asc", limit=1)
    assert [t["element_id"] for t in lowest["items"]] == ["supplement_material"]
    assert lowest["items"][0]["instance_id"] == returned["id"]
    assert page(order="desc", limit=1, offset=3)["items"] == []


def test_task_detail_has_form_and_customer(client: FlaskClient, credit_models: Any) -> None:
    customer = make_customer(client, name="杭州测试贸易有限公司")
    application = make_application(client, customer["id"])
    task = open_task(client, application["id"], "reviewer", "review_credit")

    body = client.get(f"/api/v1/tasks/{task['id']}", headers=STAFF["reviewer"]).get_json()

    form = {field["id"]: field for field in body["form"]}
    assert list(form) == ["review_decision", "review_comment"]
    decision = form["review_decision"]
    assert decision["type"] == "enum"
    assert decision["required"] is True
    assert decision["label"] == "Review decision"
    assert decision["values"] == [
        {"id": "approve", "name": "Approve to risk assessment"},
        {"id": "return", "name": "Return for more material"},
    ]
    assert decision["constraints"] == [{"name": "required", "config": None}]
    comment = form["review_comment"]
    assert comment["type"] == "string"
    assert comment["required"] is False
    assert comment["values"] is None
    assert comment["constraints"] == [{"name": "maxlength", "config": "2000"}]
    assert body["customer"]["id"] == customer["id"]
    assert body["customer"]["name"] == "杭州测试贸易有限公司"
    assert body["customer_id"] == customer["id"]
    assert body["variables"]["amount"] == 5_000_000
    assert body["documentation"].startswith("Credit reviewer checks the application")


# -- documentation and probes ------------------------------------------------------------------


def test_openapi_json_documents_task_list(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.data)
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/tasks" in spec["paths"]
    assert "get" in spec["paths"]["/api/v1/tasks"]
    assert "/api/v1/tasks/{task_id}" in spec["paths"]
    assert {"basic", "bearer"} <= set(spec["components"]["securitySchemes"])


def test_docs_page_is_html(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b"swagger" in response.data.lower()


def test_health_live_and_ready(client: FlaskClient) -> None:
    live = client.get("/health/live")
    assert live.status_code == 200
    assert live.get_json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["status"] == "ok"
    assert ready.get_json()["checks"]["database"] == "ok"


# -- errors and authentication -----------------------------------------------------------------


def test_unknown_task_is_problem_json_404(client: FlaskClient) -> None:
    response = client.get(
        "/api/v1/tasks/00000000-0000-0000-0000-000000000000",
        headers={**STAFF["reviewer"], "X-Request-Id": "req-engine-404"},
    )
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404
    assert body["code"] == "not_found"
    assert body["request_id"] == "req-engine-404"
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert ".py" not in text


def test_unknown_task_request_id_is_generated(client: FlaskClient) -> None:
    body = client.get("/api/v1/tasks/nope", headers=STAFF["admin"]).get_json()
    assert body["code"] == "not_found"
    assert isinstance(body["request_id"], str) and len(body["request_id"]) >= 8


def test_bearer_token_authenticates_me(client: FlaskClient) -> None:
    issued = client.post("/api/v1/tokens", headers=STAFF["reviewer"])
    assert issued.status_code == 201, issued.get_json()
    body = issued.get_json()
    assert body["token_type"] == "Bearer"
    assert _when(body["expires_at"]) > datetime.now(UTC)

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})

    assert me.status_code == 200, me.get_json()
    assert me.get_json()["id"] == "reviewer_wang"
    assert "credit_reviewer" in me.get_json()["groups"]


def test_garbage_bearer_token_is_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_tokens_need_credentials(client: FlaskClient) -> None:
    assert client.post("/api/v1/tokens").status_code == 401
    assert client.get("/api/v1/me").status_code == 401
