"""Four-eyes, claim races, completion races and form validation through the HTTP API."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.instances.models import HistoryEvent, ProcessInstance
from tests.conftest import STAFF, basic
from tests.factories import (
    application_variables,
    do_task,
    instance,
    make_application,
    make_customer,
    make_user,
    open_task,
)


def test_four_eyes_initiator_cannot_review(
    client: FlaskClient, credit_models: Any, sessions: sessionmaker[Session]
) -> None:
    both = make_user(sessions, "rm_reviewer", ("relationship_manager", "credit_reviewer"))
    customer = make_customer(client)
    started = client.post(
        "/api/v1/process-instances",
        headers=both,
        json={
            "process_key": "credit_application",
            "variables": application_variables(customer["id"], amount=1000),
        },
    )
    assert started.status_code == 201, started.get_json()
    task = started.get_json()["open_tasks"][0]
    claimable = client.get("/api/v1/tasks?candidate_for_me=true", headers=both).get_json()
    assert task["id"] not in [t["id"] for t in claimable["items"]]
    reviewer_view = client.get("/api/v1/tasks?candidate_for_me=true", headers=STAFF["reviewer"])
    assert task["id"] in [t["id"] for t in reviewer_view.get_json()["items"]]
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=both).status_code == 404
    response = client.post(f"/api/v1/tasks/{task['id']}/claim", headers=both)
    assert response.status_code == 403
    body = response.get_json()
    assert body["code"] == "four_eyes_violation"
    assert "审贷分离" in body["detail"]
    assert response.mimetype == "application/problem+json"


def test_four_eyes_reviewer_cannot_approve(
    client: FlaskClient, credit_models: Any, sessions: sessionmaker[Session]
) -> None:
    dual = make_user(sessions, "reviewer_branch", ("credit_reviewer", "branch_manager"))
    customer = make_customer(client)
    app = make_application(client, customer["id"], amount=1_000_000, guarantee_type="low_risk")
    task = open_task(client, app["id"], "reviewer", "review_credit")
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=dual).status_code == 200
    done = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        headers=dual,
        json={"values": {"review_decision": "approve"}},
    )
    assert done.status_code == 200, done.get_json()
    do_task(client, app["id"], "risk", "assess_risk", {"risk_rating": "A"})
    approve = open_task(client, app["id"], "branch", "approve_credit")
    refused = client.post(f"/api/v1/tasks/{approve['id']}/claim", headers=dual)
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "four_eyes_violation"
    assert (
        client.post(f"/api/v1/tasks/{approve['id']}/claim", headers=STAFF["branch"]).status_code
        == 200
    )


def test_claim_race_has_exactly_one_winner(
    app: Flask, client: FlaskClient, credit_models: Any, sessions: sessionmaker[Session]
) -> None:
    users = [make_user(sessions, f"racer_{i}", ("credit_reviewer",)) for i in range(8)]
    customer = make_customer(client)
    application = make_application(client, customer["id"])
    task_id = application["open_tasks"][0]["id"]
    statuses: list[int] = []
    barrier = threading.Barrier(len(users))

    def claim(headers: dict[str, str]) -> None:
        with app.test_client() as own:
            barrier.wait()
            statuses.append(own.post(f"/api/v1/tasks/{task_id}/claim", headers=headers).status_code)

    threads = [threading.Thread(target=claim, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200] + [409] * (len(users) - 1)


def test_completion_race_steps_instance_once(
    app: Flask, client: FlaskClient, credit_models: Any, sessions: sessionmaker[Session]
) -> None:
    customer = make_customer(client)
    application = make_application(client, customer["id"])
    task = open_task(client, application["id"], "reviewer", "review_credit")
    assert (
        client.post(f"/api/v1/tasks/{task['id']}/claim", headers=STAFF["reviewer"]).status_code
        == 200
    )
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def complete(decision: str) -> None:
        with app.test_client() as own:
            barrier.wait()
            statuses.append(
                own.post(
                    f"/api/v1/tasks/{task['id']}/complete",
                    headers=STAFF["reviewer"],
                    json={"values": {"review_decision": decision}},
                ).status_code
            )

    threads = [
        threading.Thread(target=complete, args=(d,))
        for d in ("approve", "return", "approve", "return")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 409, 409, 409]
    with sessions() as session:
        row = session.get(ProcessInstance, application["id"])
        assert row is not None
        completions = session.scalar(
            select(func.count())
            .select_from(HistoryEvent)
            .where(HistoryEvent.instance_id == row.id, HistoryEvent.kind == "task_completed")
        )
    assert completions == 1
    waiting = [t["element_id"] for t in instance(client, application["id"])["open_tasks"]]
    assert waiting in (["assess_risk"], ["supplement_material"])


def test_complete_rejects_bad_form_values_and_changes_nothing(
    client: FlaskClient, credit_models: Any
) -> None:
    customer = make_customer(client)
    application = make_application(client, customer["id"])
    task = open_task(client, application["id"], "reviewer", "review_credit")
    client.post(f"/api/v1/tasks/{task['id']}/claim", headers=STAFF["reviewer"])
    before = instance(client, application["id"])
    response = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        headers=STAFF["reviewer"],
        json={"values": {"review_decision": "maybe", "review_comment": "x" * 2001, "bogus": 1}},
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"review_decision", "review_comment", "bogus"}
    assert "approve" in errors["review_decision"]
    after = instance(client, application["id"])
    assert after == before
    assert open_task(client, application["id"], "reviewer", "review_credit")["status"] == "open"


def test_complete_requires_required_fields(client: FlaskClient, credit_models: Any) -> None:
    customer = make_customer(client)
    application = make_application(client, customer["id"])
    task = open_task(client, application["id"], "reviewer", "review_credit")
    client.post(f"/api/v1/tasks/{task['id']}/claim", headers=STAFF["reviewer"])
    response = client.post(
        f"/api/v1/tasks/{task['id']}/complete", headers=STAFF["reviewer"], json={"values": {}}
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"review_decision": "is required"}


def test_start_rejects_bad_start_form(client: FlaskClient, credit_models: Any) -> None:
    customer = make_customer(client)
    response = client.post(
        "/api/v1/process-instances",
        headers=STAFF["rm"],
        json={
            "process_key": "credit_application",
            "variables": {
                "customer_id": customer["id"],
                "amount": "lots",
                "currency": "XXX",
                "term_months": 999,
                "product": "working_capital",
                "guarantee_type": "credit",
            },
        },
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"amount", "currency", "term_months", "purpose"}
    listed = client.get("/api/v1/process-instances", headers=STAFF["admin"]).get_json()
    assert listed["total"] == 0


def test_claim_by_someone_else_is_conflict_and_complete_needs_claim(
    client: FlaskClient, credit_models: Any, sessions: sessionmaker[Session]
) -> None:
    other = make_user(sessions, "reviewer_two", ("credit_reviewer",))
    customer = make_customer(client)
    application = make_application(client, customer["id"])
    task_id = application["open_tasks"][0]["id"]
    unclaimed = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        headers=STAFF["reviewer"],
        json={"values": {"review_decision": "approve"}},
    )
    assert unclaimed.status_code == 403
    assert (
        client.post(f"/api/v1/tasks/{task_id}/claim", headers=STAFF["reviewer"]).status_code == 200
    )
    taken = client.post(f"/api/v1/tasks/{task_id}/claim", headers=other)
    assert taken.status_code == 409
    assert "reviewer_wang" in taken.get_json()["detail"]
    assert (
        client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=STAFF["reviewer"]).status_code
        == 200
    )
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=other).status_code == 200


def test_non_candidate_cannot_claim_and_unauthenticated_gets_401(
    client: FlaskClient, credit_models: Any
) -> None:
    customer = make_customer(client)
    application = make_application(client, customer["id"])
    task_id = application["open_tasks"][0]["id"]
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=STAFF["risk"]).status_code == 403
    anonymous = client.get("/api/v1/tasks")
    assert anonymous.status_code == 401
    assert "Basic" in anonymous.headers["WWW-Authenticate"]
    wrong = client.get("/api/v1/tasks", headers=basic("reviewer_wang", "nope"))
    assert wrong.status_code == 401
