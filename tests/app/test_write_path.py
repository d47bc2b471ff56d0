"""The write path of a step: what it reads and writes, and that cheaper is still correct."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.deployments.definitions import compiled_by_id
from app.identity.actor import SYSTEM
from app.instances import lifecycle, stepping, timers, write_batch
from app.instances.models import HistoryEvent, ProcessInstance, Timer
from app.tasks.models import HumanTask
from app.workflow.runtime import Run
from tests.conftest import ROOT, deploy_files
from tests.factories import make_user

_VERB = re.compile(r"^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM)\s+(?:.*?\bFROM\s+)?(\w+)", re.S)


@pytest.fixture
def worker(sessions: sessionmaker[Session]) -> dict[str, str]:
    return make_user(sessions, "write_path_staff", ("staff",))


@contextmanager
def statements(sessions: sessionmaker[Session]) -> Iterator[Counter[str]]:
    """Count the statements sent meanwhile as "VERB table" (e.g. "SELECT timer")."""
    engine = sessions.kw["bind"]
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        match = _VERB.match(statement)
        verb, table = match.groups() if match else (statement.split()[0], "")
        seen[f"{verb.split()[0]} {table}"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _start(client: FlaskClient, who: dict[str, str], key: str, **variables: Any) -> str:
    assert deploy_files(client, ROOT / "tests" / "bpmn" / f"{key}.bpmn").status_code == 201
    started = client.post(
        "/api/v1/process-instances", headers=who, json={"process_key": key, "variables": variables}
    )
    assert started.status_code == 201, started.get_json()
    return str(started.get_json()["id"])


def _pending_timer(sessions: sessionmaker[Session], instance_id: str) -> Timer:
    with sessions() as session:
        [row] = session.scalars(
            select(Timer).where(Timer.instance_id == instance_id, Timer.status == "pending")
        )
        return row


def _wait_for(timer: Timer) -> None:
    delay = (timer.due_at - datetime.now(UTC)).total_seconds() + 0.05
    assert delay < 5
    if delay > 0:
        time.sleep(delay)


def test_firing_a_timer_reads_the_instance_and_its_timers_once_and_nothing_else(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    deadline = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    instance_id = _start(client, worker, "timer_date", deadline=deadline)
    timer = _pending_timer(sessions, instance_id)
    _wait_for(timer)
    with statements(sessions) as seen:
        assert timers.fire_many([timer.id]) == 1
    # The state had no open task and no job: the projections read nothing more.
    assert seen == Counter(
        {
            "SELECT process_instance": 1,  # the lock (FOR UPDATE)
            "SELECT timer": 1,  # every timer of the instance, after the lock
            "UPDATE process_instance": 1,
            "UPDATE timer": 1,
            "INSERT human_task": 1,
            "INSERT task_candidate": 1,
            "INSERT history_event": 1,  # every event of the step in one statement
        }
    )
    with sessions() as session:
        fired = session.get(Timer, timer.id)
        assert fired is not None and fired.status == "fired" and fired.fired_at is not None
        kinds = list(
            session.scalars(
                select(HistoryEvent.kind)
                .where(HistoryEvent.instance_id == instance_id)
                .order_by(HistoryEvent.id)
            )
        )
        lateness = session.scalar(
            select(HistoryEvent.detail).where(
                HistoryEvent.instance_id == instance_id, HistoryEvent.kind == "timer_fired"
            )
        )
        [task] = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id))
        assert task.status == "open" and task.candidate_groups == ["staff"]
    assert kinds[-3:] == ["activity_completed", "task_created", "timer_fired"]
    assert lateness is not None and lateness["lateness_ms"] >= 0
    assert timers.fire_many([timer.id]) == 0  # fired already: nothing happens twice


def _due_timers(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str], count: int
) -> tuple[list[str], list[Timer]]:
    """`count` instances waiting on a timer due in a second, and their timers once due."""
    deadline = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    ids = [_start(client, worker, "timer_date", deadline=deadline) for _ in range(count)]
    batch = [_pending_timer(sessions, instance_id) for instance_id in ids]
    _wait_for(batch[-1])
    return ids, batch


def test_a_batch_locks_its_instances_and_reads_their_timers_in_one_statement_each(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    ids, batch = _due_timers(client, sessions, worker, 3)
    first, second, third = (t.id for t in batch)
    with statements(sessions) as seen:
        # The same timer twice: the second sees what the first step wrote, and does nothing.
        assert timers.fire_many([first, second, first, third]) == 3
    assert seen["SELECT process_instance"] == 2  # the batch's lock, then the re-read of one
    assert seen["SELECT timer"] == 2
    # The first two steps' writes are sent before the re-read, the third's at the end.
    assert seen["UPDATE process_instance"] == 2 and seen["UPDATE timer"] == 2
    with sessions() as session:
        fired = session.scalars(
            select(HistoryEvent.task_id).where(HistoryEvent.kind == "timer_fired")
        ).all()
        statuses = session.scalars(select(Timer.status).where(Timer.instance_id.in_(ids))).all()
    assert sorted(fired) == sorted([first, second, third])
    assert statuses == ["fired"] * 3


def test_a_batch_sends_one_statement_per_kind_of_row_for_all_its_steps(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    ids, batch = _due_timers(client, sessions, worker, 4)
    with statements(sessions) as seen:
        assert timers.fire_many([t.id for t in batch]) == 4
    assert seen == Counter(
        {
            "SELECT process_instance": 1,
            "SELECT timer": 1,
            "UPDATE process_instance": 1,  # four instances' states, one executemany
            "UPDATE timer": 1,
            "INSERT human_task": 1,
            "INSERT task_candidate": 1,
            "INSERT history_event": 1,
        }
    )
    with sessions() as session:
        instances = session.scalars(
            select(ProcessInstance).where(ProcessInstance.id.in_(ids))
        ).all()
        tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids))).all()
        fired = session.scalars(
            select(HistoryEvent.task_id).where(
                HistoryEvent.kind == "timer_fired", HistoryEvent.instance_id.in_(ids)
            )
        ).all()
        assert all(i.version == 2 and i.active_elements == ["after_wait"] for i in instances)
        assert sorted(t.instance_id for t in tasks) == sorted(ids)
        assert all(t.candidate_groups == ["staff"] for t in tasks)
    assert sorted(fired) == sorted(t.id for t in batch)


def test_a_batch_whose_writes_fail_is_rolled_back_and_fired_one_by_one(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    worker: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deadline = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    ids = [_start(client, worker, "timer_date", deadline=deadline) for _ in range(3)]
    batch = [_pending_timer(sessions, instance_id) for instance_id in ids]
    _wait_for(batch[-1])
    sends = []
    real_send = write_batch.WriteBatch.send

    def failing_once(self: write_batch.WriteBatch, session: Session) -> None:
        sends.append(1)
        if len(sends) == 1:  # the batch's writes, sent when its steps are done
            session.connection().execute(text("SELECT 1/0"))
        real_send(self, session)

    monkeypatch.setattr(write_batch.WriteBatch, "send", failing_once)
    assert timers.fire_many([t.id for t in batch]) == 3  # by `fire`, one by one
    with sessions() as session:
        statuses = session.scalars(select(Timer.status).where(Timer.instance_id.in_(ids))).all()
        fired = session.scalars(
            select(HistoryEvent.task_id).where(
                HistoryEvent.kind == "timer_fired", HistoryEvent.instance_id.in_(ids)
            )
        ).all()
        versions = session.scalars(
            select(ProcessInstance.version).where(ProcessInstance.id.in_(ids))
        ).all()
    assert statuses == ["fired"] * 3
    assert sorted(fired) == sorted(t.id for t in batch)  # once each: nothing of the batch stayed
    assert versions == [2] * 3


def test_completing_a_task_closes_it_without_reading_the_task_list_again(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    instance_id = _start(client, worker, "one_user_task")
    with sessions() as session:
        [task_id] = session.scalars(
            select(HumanTask.id).where(HumanTask.instance_id == instance_id)
        )
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=worker).status_code == 200
    with statements(sessions) as seen:
        done = client.post(
            f"/api/v1/tasks/{task_id}/complete", headers=worker, json={"values": {"note": "x"}}
        )
    assert done.status_code == 200, done.get_json()
    assert seen["SELECT human_task"] == 1  # the task itself, after the instance lock
    assert seen["UPDATE human_task"] == 1 and seen["UPDATE process_instance"] == 1
    with sessions() as session:
        task = session.get(HumanTask, task_id)
        instance = session.get(ProcessInstance, instance_id)
        kinds = list(
            session.scalars(
                select(HistoryEvent.kind)
                .where(HistoryEvent.instance_id == instance_id)
                .order_by(HistoryEvent.id)
            )
        )
    assert task is not None and task.status == "completed" and task.completed_by is not None
    assert instance is not None and instance.status == "completed" and instance.version == 2
    assert kinds[-3:] == ["task_completed", "activity_completed", "instance_completed"]


def test_a_run_not_loaded_by_stepping_falls_back_to_reading_the_rows(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    """Without what `stepping.load` noted, save reads the rows: the boundary timer's firing
    still cancels the open task and marks the timer fired."""
    instance_id = _start(client, worker, "timer_interrupting")
    timer = _pending_timer(sessions, instance_id)
    _wait_for(timer)
    with transaction(sessions) as session:
        instance = stepping.lock_instance(session, instance_id)
        run = Run.restore(
            compiled_by_id(session, instance.definition_id), instance.process_key, instance.state
        )
        run.fire_due_timers()
        with statements(sessions) as seen:
            stepping.save(session, instance, run)
    assert seen["SELECT human_task"] == 1 and seen["SELECT timer"] == 1
    with sessions() as session:
        [task] = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id))
        fired = session.get(Timer, timer.id)
        row = session.get(ProcessInstance, instance_id)
        kinds = set(
            session.scalars(
                select(HistoryEvent.kind).where(HistoryEvent.instance_id == instance_id)
            )
        )
    assert task.status == "cancelled" and task.completed_at is not None
    assert fired is not None and fired.status == "fired"
    assert row is not None and row.status == "completed" and row.end_element == "timed_out"
    assert {"task_cancelled", "timer_fired", "instance_completed"} <= kinds


def test_a_started_instance_is_written_once_and_stays_in_the_session(
    client: FlaskClient, sessions: sessionmaker[Session], worker: dict[str, str]
) -> None:
    assert deploy_files(client, ROOT / "tests" / "bpmn" / "one_user_task.bpmn").status_code == 201
    with sessions() as session:
        with statements(sessions) as seen:
            instance = lifecycle.start(
                session, SYSTEM, lifecycle.StartRequest(process_key="one_user_task", variables={})
            )
            session.flush()
        assert seen["INSERT process_instance"] == 1
        assert session.get(ProcessInstance, instance.id) is instance
        assert instance not in session.new and instance.version == 1
        instance.business_key = "changed later"  # the unit of work still tracks it
        session.commit()
    with sessions() as session:
        row = session.get(ProcessInstance, instance.id)
        assert row is not None and row.business_key == "changed later"
        assert row.active_elements == ["do_work"] and row.state == instance.state
