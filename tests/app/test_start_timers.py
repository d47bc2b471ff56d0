"""Timer start events start instances on schedule, and stop when a new version takes over."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.instances.models import ProcessInstance, StartTimer
from app.instances.start_timers import next_due
from tests.conftest import ROOT, deploy_files

BPMN = ROOT / "tests" / "bpmn"


def _schedule(sessions: sessionmaker[Session], key: str) -> list[StartTimer]:
    with sessions() as session:
        return list(
            session.scalars(
                select(StartTimer)
                .where(StartTimer.process_key == key)
                .order_by(StartTimer.created_at)
            )
        )


def _instances(sessions: sessionmaker[Session], key: str) -> int:
    with sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(ProcessInstance)
                .where(ProcessInstance.process_key == key)
            )
            or 0
        )


def _tick_when_due(sessions: sessionmaker[Session], key: str) -> None:
    [row] = [r for r in _schedule(sessions, key) if r.status == "pending"]
    time.sleep(max(0.0, (row.due_at - datetime.now(UTC)).total_seconds()) + 0.05)
    jobs.tick()


def test_cycle_start_event_starts_one_instance_per_repetition(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    assert deploy_files(client, BPMN / "timer_start_cycle.bpmn").status_code == 201
    [row] = _schedule(sessions, "timer_start_cycle")
    assert (row.status, row.remaining, row.kind) == ("pending", 1, "timeCycle")
    assert _instances(sessions, "timer_start_cycle") == 0
    _tick_when_due(sessions, "timer_start_cycle")
    assert _instances(sessions, "timer_start_cycle") == 1
    [row] = _schedule(sessions, "timer_start_cycle")
    assert (row.status, row.remaining, row.fired_count) == ("pending", 0, 1)
    _tick_when_due(sessions, "timer_start_cycle")
    jobs.tick()  # nothing left: no third instance
    assert _instances(sessions, "timer_start_cycle") == 2
    [row] = _schedule(sessions, "timer_start_cycle")
    assert (row.status, row.fired_count) == ("done", 2)
    tasks = client.get(
        "/api/v1/tasks?process_key=timer_start_cycle",
        headers={"Authorization": "Basic YWRtaW46YWRtaW4tcGFzcw=="},
    ).get_json()
    assert [t["element_id"] for t in tasks["items"]] == ["scheduled_work", "scheduled_work"]


def test_new_version_takes_over_the_schedule(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    source = (BPMN / "timer_start_cron.bpmn").read_bytes()
    assert deploy_files(client, BPMN / "timer_start_cron.bpmn").status_code == 201
    [first] = _schedule(sessions, "timer_start_cron")
    assert first.kind == "cron" and first.remaining == -1
    assert first.due_at - datetime.now(UTC) <= timedelta(seconds=1)
    changed = BPMN.parent.parent / "var" / "timer_start_cron.bpmn"
    changed.parent.mkdir(exist_ok=True)
    changed.write_bytes(source.replace(b"Scheduled work", b"Scheduled work v2"))
    try:
        assert deploy_files(client, changed).status_code == 201
    finally:
        changed.unlink()
    old, new = _schedule(sessions, "timer_start_cron")
    assert (old.status, new.status) == ("cancelled", "pending")
    _tick_when_due(sessions, "timer_start_cron")
    with sessions() as session:
        started = session.scalars(
            select(ProcessInstance.definition_id).where(
                ProcessInstance.process_key == "timer_start_cron"
            )
        ).all()
    assert started == [new.definition_id]


def test_next_due_understands_iso_and_cron() -> None:
    now = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # Friday 09:00 in Shanghai
    assert next_due("timeDuration", "PT2H", now, "Asia/Shanghai") == (now + timedelta(hours=2), 0)
    assert next_due("timeCycle", "R/P1D", now, "Asia/Shanghai") == (now + timedelta(days=1), -1)
    start = "2026-11-26T01:00:00+00:00"  # one repetition already past
    assert next_due("timeCycle", f"R3/{start}/P1D", now, "Asia/Shanghai") == (now, 1)
    due, remaining = next_due("cron", "0 0 9 * * MON-FRI", now, "Asia/Shanghai")
    assert (due.isoformat(), remaining) == ("2026-11-30T09:00:00+08:00", -1)  # next Monday
