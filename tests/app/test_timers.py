"""Timers fire once, at their due time, through the dispatcher and the firing job."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.instances import timers
from app.instances.models import HistoryEvent, ProcessInstance, Timer
from tests.conftest import ROOT, deploy_files
from tests.factories import make_user


@pytest.fixture
def worker(sessions: sessionmaker[Session]) -> dict[str, str]:
    return make_user(sessions, "timer_staff", ("staff",))


def _start(client: FlaskClient, who: dict[str, str], key: str, **variables: Any) -> str:
    assert deploy_files(client, ROOT / "tests" / "bpmn" / f"{key}.bpmn").status_code == 201
    started = client.post(
        "/api/v1/process-instances",
        headers=who,
        json={"process_key": key, "variables": variables},
    )
    assert started.status_code == 201, started.get_json()
    return str(started.get_json()["id"])


def _timers(sessions: sessionmaker[Session], instance_id: str) -> list[Timer]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.created_at)
            )
        )


def _wait_until_due(rows: list[Timer]) -> None:
    due = max(r.due_at for r in rows if r.status == "pending")
    delay = (due - datetime.now(UTC)).total_seconds() + 0.05
    assert delay < 5, "test timers are due within seconds"
    if delay > 0:
        time.sleep(delay)


def _instance(sessions: sessionmaker[Session], instance_id: str) -> ProcessInstance:
    with sessions() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        return row


def test_intermediate_timer_from_variable_fires_once(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    instance_id = _start(client, worker, "timer_intermediate", wait="PT1S")
    [pending] = _timers(sessions, instance_id)
    assert pending.status == "pending" and pending.element_id == "wait_a_moment"
    assert jobs.timers.dispatch_due() == 0  # not due yet
    _wait_until_due([pending])
    jobs.tick()
    [fired] = _timers(sessions, instance_id)
    assert fired.status == "fired"
    assert _instance(sessions, instance_id).active_elements == ["after_wait"]
    assert timers.fire(fired.id) is False  # a duplicate job does nothing
    with sessions() as session:
        events = session.scalars(
            select(HistoryEvent.kind).where(
                HistoryEvent.instance_id == instance_id, HistoryEvent.kind == "timer_fired"
            )
        )
        assert list(events) == ["timer_fired"]


def test_timer_on_a_date_from_a_variable(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    deadline = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    instance_id = _start(client, worker, "timer_date", deadline=deadline)
    [pending] = _timers(sessions, instance_id)
    assert abs((pending.due_at - datetime.fromisoformat(deadline)).total_seconds()) < 0.01
    _wait_until_due([pending])
    jobs.tick()
    assert _instance(sessions, instance_id).active_elements == ["after_wait"]


def test_interrupting_boundary_timer_cancels_the_task(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    instance_id = _start(client, worker, "timer_interrupting")
    _wait_until_due(_timers(sessions, instance_id))
    jobs.tick()
    row = _instance(sessions, instance_id)
    assert row.status == "completed" and row.end_element == "timed_out"
    tasks = client.get(f"/api/v1/tasks?instance_id={instance_id}&status=all", headers=worker)
    assert [t["status"] for t in tasks.get_json()["items"]] == ["cancelled"]


def test_cycle_timer_fires_each_repetition_once(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    instance_id = _start(client, worker, "timer_cycle")
    for expected in (1, 2):
        rows = _timers(sessions, instance_id)
        _wait_until_due(rows)
        jobs.tick()
        reminders = client.get(
            f"/api/v1/tasks?instance_id={instance_id}", headers=worker
        ).get_json()["items"]
        assert [t["element_id"] for t in reminders].count("reminder") == expected
    assert [t.status for t in _timers(sessions, instance_id) if t.status == "pending"] == []


def test_lost_timer_job_is_resent_after_the_grace(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    instance_id = _start(client, worker, "timer_intermediate", wait="PT1S")
    [pending] = _timers(sessions, instance_id)
    _wait_until_due([pending])
    with sessions() as session:  # a dispatcher sent it, then its job vanished with Redis
        row = session.get(Timer, pending.id)
        assert row is not None
        row.enqueued_at = datetime.now(UTC)
        session.commit()
    assert timers.dispatch_due() == 0  # still inside the grace period
    with sessions() as session:
        row = session.get(Timer, pending.id)
        assert row is not None
        resend = timedelta(seconds=app.extensions["corpflow"].settings.timer_resend_seconds)
        row.enqueued_at = datetime.now(UTC) - resend - timedelta(seconds=1)
        session.commit()
    assert timers.dispatch_due() == 1
    assert [t.status for t in _timers(sessions, instance_id)] == ["fired"]


def test_operators_list_pending_timers_and_see_the_next_one(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    from tests.conftest import STAFF

    later = _start(client, worker, "timer_intermediate", wait="PT2H")
    sooner = _start(client, worker, "timer_intermediate", wait="PT1H")
    listed = client.get("/api/v1/timers", headers=STAFF["admin"]).get_json()
    assert [t["instance_id"] for t in listed["items"]] == [sooner, later]
    assert listed["total"] == 2
    cutoff = (datetime.now(UTC) + timedelta(minutes=90)).isoformat().replace("+", "%2B")
    soon = client.get(f"/api/v1/timers?due_before={cutoff}", headers=STAFF["admin"]).get_json()
    assert [t["instance_id"] for t in soon["items"]] == [sooner]
    assert client.get("/api/v1/timers", headers=worker).status_code == 403
    detail = client.get(f"/api/v1/process-instances/{later}", headers=STAFF["admin"]).get_json()
    assert detail["next_timer"]["element_id"] == "wait_a_moment"
    assert detail["next_timer"]["status"] == "pending"


def test_cron_cycle_on_a_boundary_timer_fires_at_each_occurrence(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    instance_id = _start(client, worker, "timer_cron_boundary")
    [first] = _timers(sessions, instance_id)
    assert first.due_at - datetime.now(UTC) <= timedelta(seconds=1)  # the next whole second
    for expected in (1, 2):
        _wait_until_due(_timers(sessions, instance_id))
        jobs.tick()
        reminders = client.get(
            f"/api/v1/tasks?instance_id={instance_id}", headers=worker
        ).get_json()["items"]
        assert [t["element_id"] for t in reminders].count("reminder") == expected
    [pending] = [t for t in _timers(sessions, instance_id) if t.status == "pending"]
    assert pending.due_at - datetime.now(UTC) <= timedelta(seconds=1)  # not 24 h away


def test_a_timer_whose_step_fails_is_parked_with_an_incident_and_blocks_nothing(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    from app.instances.models import Incident

    instance_id = _start(client, worker, "timer_failing", not_a_date="11010519491231002X")
    [pending] = _timers(sessions, instance_id)
    _wait_until_due([pending])
    jobs.tick()
    [parked] = _timers(sessions, instance_id)
    assert parked.status == "failed"
    assert parked.due_at.year == 9999
    with sessions() as session:
        [incident] = session.scalars(select(Incident).where(Incident.instance_id == instance_id))
    assert incident.kind == "failedTimer" and incident.element_id == "wait_a_moment"
    assert "badly_dated" in incident.message
    assert "11010519491231002X" not in incident.message  # task data stays out of messages
    assert timers.dispatch_due() == 0  # not resent forever
    other = client.get(f"/api/v1/tasks?instance_id={instance_id}", headers=worker).get_json()
    [task] = [t for t in other["items"] if t["element_id"] == "other_work"]
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=worker).status_code == 200
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=worker, json={"values": {}})
    assert done.status_code == 200, done.get_json()


def test_a_batch_fires_in_one_go_and_a_failing_timer_in_it_is_parked_alone(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    good = [_start(client, worker, "timer_intermediate", wait="PT1S") for _ in range(2)]
    bad = _start(client, worker, "timer_failing", not_a_date="not a date")
    rows = [t for instance_id in (good[0], bad, good[1]) for t in _timers(sessions, instance_id)]
    _wait_until_due(rows)
    assert timers.fire_many([t.id for t in rows]) == 2
    assert [t.status for i in good for t in _timers(sessions, i)] == ["fired", "fired"]
    [parked] = _timers(sessions, bad)
    assert parked.status == "failed"
    assert timers.fire_many([t.id for t in rows]) == 0  # a duplicate batch does nothing
    with sessions() as session:
        fired = session.scalars(
            select(HistoryEvent.instance_id).where(HistoryEvent.kind == "timer_fired")
        )
        assert sorted(fired) == sorted(good)


def test_the_dispatcher_sends_due_timers_in_batches_with_their_job_ids(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    count = timers.FIRE_BATCH + 3
    ids = [_start(client, worker, "timer_intermediate", wait="PT1S") for _ in range(count)]
    rows = [t for instance_id in ids for t in _timers(sessions, instance_id)]
    _wait_until_due(rows)
    queue = app.extensions["corpflow"].queue
    held: list[tuple[str, tuple[str, ...]]] = []
    runner, queue._runner = queue._runner, lambda name, job_ids: held.append((name, job_ids))
    try:
        assert timers.dispatch_due() == count
    finally:
        queue._runner = runner
    assert [(name, len(batch)) for name, batch in held] == [
        ("fire_timers", timers.FIRE_BATCH),
        ("fire_timers", 3),
    ]
    with sessions() as session:
        stamped = session.execute(select(Timer.id, Timer.job_id).where(Timer.status == "pending"))
        job_of = dict(stamped.all())
    for _name, batch in held:
        assert {job_of[t] for t in batch} == {f"fire_timers--{batch[0]}"}
