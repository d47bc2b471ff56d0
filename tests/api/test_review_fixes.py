"""Edge cases: racing branches of one instance, customers, hostile encodings, stale jobs."""

from __future__ import annotations

import io
import threading
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.instances.models import ProcessInstance, ServiceJob
from tests.app.test_jobs import _approve_without_enqueue, _facilities
from tests.conftest import ROOT, STAFF, deploy_files
from tests.factories import application_variables, make_customer, make_user


def test_parallel_branches_completed_at_once_lose_nothing(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    assert deploy_files(client, ROOT / "tests" / "bpmn" / "parallel_tasks.bpmn").status_code == 201
    left_user = make_user(sessions, "left_hand", ("staff",))
    right_user = make_user(sessions, "right_hand", ("staff",))
    for _round in range(5):
        started = client.post(
            "/api/v1/process-instances",
            headers=left_user,
            json={"process_key": "parallel_tasks", "variables": {}},
        ).get_json()
        tasks = {t["element_id"]: t["id"] for t in started["open_tasks"]}
        assert set(tasks) == {"left_task", "right_task"}
        for element, who in (("left_task", left_user), ("right_task", right_user)):
            claim = client.post(f"/api/v1/tasks/{tasks[element]}/claim", headers=who)
            assert claim.status_code == 200
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def complete(
            element: str,
            who: dict[str, str],
            field: str,
            tasks: dict[str, str] = tasks,
            barrier: threading.Barrier = barrier,
            statuses: list[int] = statuses,
        ) -> None:
            with app.test_client() as own:
                barrier.wait()
                statuses.append(
                    own.post(
                        f"/api/v1/tasks/{tasks[element]}/complete",
                        headers=who,
                        json={"values": {field: element}},
                    ).status_code
                )

        threads = [
            threading.Thread(target=complete, args=("left_task", left_user, "left_note")),
            threading.Thread(target=complete, args=("right_task", right_user, "right_note")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert statuses == [200, 200]
        with sessions() as session:
            row = session.get(ProcessInstance, started["id"])
            assert row is not None
            assert row.status == "completed"
            assert row.variables["left_note"] == "left_task"
            assert row.variables["right_note"] == "right_task"


def test_start_rejects_two_different_customers(client: FlaskClient, credit_models: Any) -> None:
    first = make_customer(client)
    second = make_customer(client)
    response = client.post(
        "/api/v1/process-instances",
        headers=STAFF["rm"],
        json={
            "process_key": "credit_application",
            "customer_id": first["id"],
            "variables": application_variables(second["id"], amount=1000),
        },
    )
    assert response.status_code == 422
    assert "customer_id" in response.get_json()["errors"]


def test_only_starter_group_may_start_credit_application(
    client: FlaskClient, credit_models: Any
) -> None:
    customer = make_customer(client)
    response = client.post(
        "/api/v1/process-instances",
        headers=STAFF["reviewer"],
        json={"process_key": "credit_application", "variables": {"customer_id": customer["id"]}},
    )
    assert response.status_code == 403
    assert response.get_json()["code"] == "not_a_starter"


def test_deploy_rejects_doctype_in_utf16(client: FlaskClient) -> None:
    source = (ROOT / "tests" / "bpmn" / "one_user_task.bpmn").read_text()
    body = source.split("?>", 1)[1]
    hostile = (
        '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM '
        '"file:///etc/passwd">]>' + body
    ).encode("utf-16")
    response = client.post(
        "/api/v1/deployments",
        headers=STAFF["designer"],
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(hostile), "utf16.bpmn")},
    )
    assert response.status_code == 422
    assert "DOCTYPE" in response.get_json()["detail"]


def test_start_form_rejects_non_ascii_digits_and_huge_numbers(
    client: FlaskClient, credit_models: Any
) -> None:
    customer = make_customer(client)
    for amount in ("١٢٣", "--5", 1e300):
        response = client.post(
            "/api/v1/process-instances",
            headers=STAFF["rm"],
            json={
                "process_key": "credit_application",
                "variables": {
                    "customer_id": customer["id"],
                    "amount": amount,
                    "currency": "CNY",
                    "term_months": 6,
                    "product": "trade_finance",
                    "guarantee_type": "credit",
                    "purpose": "x",
                },
            },
        )
        assert response.status_code == 422, amount
        message = response.get_json()["errors"]["amount"]
        assert "int()" not in message and "base 10" not in message


def test_job_for_a_task_no_longer_waiting_is_cancelled_without_calling_the_handler(
    client: FlaskClient, credit_models: Any, sessions: sessionmaker[Session]
) -> None:
    instance_id, real_job = _approve_without_enqueue(client, sessions)
    stale = str(uuid.uuid4())
    with sessions() as session:
        job = session.get(ServiceJob, real_job)
        assert job is not None
        session.add(
            ServiceJob(
                id=stale, instance_id=instance_id, element_id="create_facility", handler=job.handler
            )
        )
        session.commit()
    jobs.run_service_task(stale)
    assert _facilities(sessions, instance_id) == 0
    with sessions() as session:
        statuses = dict(
            session.execute(
                select(ServiceJob.id, ServiceJob.status).where(
                    ServiceJob.instance_id == instance_id
                )
            ).all()
        )
    assert statuses == {real_job: "pending", stale: "cancelled"}


def test_unclaim_after_completion_is_refused(client: FlaskClient, credit_models: Any) -> None:
    customer = make_customer(client)
    started = client.post(
        "/api/v1/process-instances",
        headers=STAFF["rm"],
        json={
            "process_key": "credit_application",
            "variables": application_variables(customer["id"], amount=1000),
        },
    ).get_json()
    task_id = started["open_tasks"][0]["id"]
    assert (
        client.post(f"/api/v1/tasks/{task_id}/claim", headers=STAFF["reviewer"]).status_code == 200
    )
    done = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        headers=STAFF["reviewer"],
        json={"values": {"review_decision": "approve"}},
    )
    assert done.status_code == 200
    again = client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=STAFF["reviewer"])
    assert again.status_code == 409
    assert again.get_json()["code"] == "task_not_open"
