"""SLA escalation end to end: timer → breach on the task → e-mail to assignee, lead, supervisor."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.instances.models import HistoryEvent, Timer
from app.workdays.store import current_calendar
from tests.conftest import ROOT, STAFF, deploy_files
from tests.sinks import SmtpSink


def _claimed_task_past_its_sla(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> tuple[dict[str, Any], str]:
    """Start sla_escalation, let the reviewer claim its task, wait until the SLA timer is due."""
    assert deploy_files(client, ROOT / "tests" / "bpmn" / "sla_escalation.bpmn").status_code == 201
    started = client.post(
        "/api/v1/process-instances",
        headers=STAFF["admin"],
        json={"process_key": "sla_escalation", "variables": {}},
    ).get_json()
    task_id = started["open_tasks"][0]["id"]
    assert (
        client.post(f"/api/v1/tasks/{task_id}/claim", headers=STAFF["reviewer"]).status_code == 200
    )
    with sessions() as session:
        timer = session.scalars(select(Timer).where(Timer.instance_id == started["id"])).one()
    time.sleep(max(0.0, (timer.due_at - datetime.now(UTC)).total_seconds()) + 0.05)
    return started, task_id


def test_sla_breach_marks_task_and_mails_each_person_once(
    client: FlaskClient, sessions: sessionmaker[Session], smtp: SmtpSink, outbox_settings: Any
) -> None:
    started, task_id = _claimed_task_past_its_sla(client, sessions)
    jobs.tick()
    jobs.tick()  # a second pass must not escalate or mail again
    task = client.get(f"/api/v1/tasks/{task_id}", headers=STAFF["reviewer"]).get_json()
    assert task["status"] == "open"  # non-interrupting: the work goes on
    assert task["breached_at"] is not None
    assert task["priority"] == 70
    recipients = sorted(r for rs in smtp.recipients for r in rs)
    assert recipients == [
        "review_lead_he@bank.example",
        "reviewer_wang@bank.example",
        "supervisor_qian@bank.example",
    ]
    assert all("SLA" in str(m["Subject"]) for m in smtp.messages)
    with sessions() as session:
        kinds = list(
            session.scalars(
                select(HistoryEvent.kind).where(
                    HistoryEvent.instance_id == started["id"], HistoryEvent.kind == "sla_breached"
                )
            )
        )
    assert kinds == ["sla_breached"]
    done = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=STAFF["reviewer"], json={"values": {}}
    )
    assert done.status_code == 200
    finished = client.get(f"/api/v1/tasks/{task_id}", headers=STAFF["reviewer"]).get_json()
    assert finished["completed_at"] is not None and finished["breached_at"] is not None


def test_credit_review_due_in_two_working_days(client: FlaskClient, credit_models: Any) -> None:
    from tests.factories import make_application, make_customer

    application = make_application(client, make_customer(client)["id"])
    task = client.get(
        f"/api/v1/tasks/{application['open_tasks'][0]['id']}", headers=STAFF["reviewer"]
    ).get_json()
    expected = current_calendar().add_workdays(datetime.now(UTC), 2)
    due = datetime.fromisoformat(task["due_at"])
    assert abs(due - expected.due) < timedelta(minutes=1)
    assert task["due_estimated"] is expected.estimated
    listed = client.get(
        f"/api/v1/process-instances/{application['id']}", headers=STAFF["admin"]
    ).get_json()
    assert listed["status"] == "running"


def test_task_completed_before_its_escalation_ran_still_counts_as_breached(
    app: Any,
    client: FlaskClient,
    sessions: sessionmaker[Session],
    smtp: SmtpSink,
    outbox_settings: Any,
) -> None:
    _started, task_id = _claimed_task_past_its_sla(client, sessions)
    queue = app.extensions["corpflow"].queue
    held: list[tuple[str, tuple[str, ...]]] = []
    runner, queue._runner = queue._runner, lambda name, ids: held.append((name, ids))
    try:
        jobs.tick()
        [(name, ids)] = held
        assert name == "fire_timers"
        jobs.fire_timers(*ids)  # the timer fires; its escalation job is held back
    finally:
        queue._runner = runner
    assert [name for name, _ids in held] == ["fire_timers", "run_service_task"]
    done = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=STAFF["reviewer"], json={"values": {}}
    )
    assert done.status_code == 200
    jobs.run_service_task(held[1][1][0])
    task = client.get(f"/api/v1/tasks/{task_id}", headers=STAFF["reviewer"]).get_json()
    assert task["status"] == "completed"
    assert task["breached_at"] is not None
    assert smtp.messages == []  # nobody is chased for finished work
