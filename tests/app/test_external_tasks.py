"""External-task use cases: projection, fetch-and-lock, locks, answers, retries, BPMN errors."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.external_tasks import actions, fetching
from app.external_tasks.access import WORKER_GROUP
from app.external_tasks.fetching import FetchRequest, TopicRequest
from app.external_tasks.models import ExternalTask
from app.identity.actor import SYSTEM, Actor
from app.instances import lifecycle
from app.instances.models import Incident, ProcessInstance, ServiceJob
from tests.conftest import ROOT, deploy_files

TINY = ROOT / "tests" / "bpmn"
WORKER = Actor("worker_bot", frozenset({WORKER_GROUP}))
TOPIC = "charge-card"


def deploy(client: FlaskClient, *names: str) -> None:
    for name in names:
        response = deploy_files(client, TINY / f"{name}.bpmn")
        assert response.status_code == 201, response.get_json()


def start(
    sessions: sessionmaker[Session], key: str, business_key: str | None = None, **variables: Any
) -> str:
    with sessions() as session:
        instance = lifecycle.start(
            session, SYSTEM, lifecycle.StartRequest(key, variables, business_key)
        )
        session.commit()
        return instance.id


def fetch(
    sessions: sessionmaker[Session],
    worker: str = "w1",
    *,
    max_tasks: int = 10,
    lock_ms: int = 60_000,
    **topic: Any,
) -> list[fetching.LockedTask]:
    with sessions() as session:
        locked = fetching.fetch_and_lock(
            session,
            WORKER,
            FetchRequest(worker, max_tasks, [TopicRequest(TOPIC, lock_ms, **topic)]),
        )
        session.commit()
        return locked


def row(sessions: sessionmaker[Session], task_id: str) -> ExternalTask:
    with sessions() as session:
        found = session.get(ExternalTask, task_id)
        assert found is not None
        return found


def instance(sessions: sessionmaker[Session], instance_id: str) -> ProcessInstance:
    with sessions() as session:
        found = session.get(ProcessInstance, instance_id)
        assert found is not None
        return found


def incidents(sessions: sessionmaker[Session], task_id: str) -> list[Incident]:
    with sessions() as session:
        return list(session.scalars(select(Incident).where(Incident.task_id == task_id)))


def act(sessions: sessionmaker[Session], action: Any, *args: Any, **kwargs: Any) -> Any:
    with sessions() as session:
        result = action(session, WORKER, *args, **kwargs)
        session.commit()
        return result


@pytest.fixture
def charge(client: FlaskClient, sessions: sessionmaker[Session]) -> str:
    deploy(client, "external_task_error")
    return start(sessions, "external_task_error", "INV-1", amount=120, card="4111")


def test_external_task_row_written_with_the_step(
    charge: str, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        rows = list(session.scalars(select(ExternalTask)))
    assert [(r.instance_id, r.topic, r.element_id, r.status) for r in rows] == [
        (charge, TOPIC, "charge_card", "open")
    ]
    assert rows[0].priority == 7
    assert rows[0].properties == {"channel": "card"}
    assert rows[0].business_key == "INV-1"
    assert rows[0].retries is None and rows[0].worker_id is None


def test_fetch_and_lock_locks_for_one_worker_with_chosen_variables(
    charge: str, sessions: sessionmaker[Session]
) -> None:
    locked = fetch(sessions, "w1", variables=["amount"])
    assert [item.task.instance_id for item in locked] == [charge]
    assert locked[0].variables == {"amount": 120}
    assert locked[0].task.worker_id == "w1"
    assert fetch(sessions, "w2") == []
    assert fetch(sessions, "w2", business_key="INV-1") == []


def test_fetch_and_lock_filters_by_business_key_and_process_variables(
    charge: str, sessions: sessionmaker[Session]
) -> None:
    assert fetch(sessions, business_key="INV-2") == []
    assert fetch(sessions, process_variables={"card": "5500"}) == []
    assert fetch(sessions, process_keys=["other_process"]) == []
    assert len(fetch(sessions, process_variables={"card": "4111"})) == 1


def test_concurrent_workers_never_get_the_same_task(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    deploy(client, "external_task_error")
    started = {start(sessions, "external_task_error") for _ in range(24)}
    got: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    barrier = threading.Barrier(len(got))

    def work(worker: str) -> None:
        barrier.wait()
        while batch := fetch(sessions, worker, max_tasks=3):
            got[worker].extend(item.task.instance_id for item in batch)

    threads = [threading.Thread(target=work, args=(w,)) for w in got]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    handed = [instance_id for ids in got.values() for instance_id in ids]
    assert sorted(handed) == sorted(started)  # every task once, none twice
    assert len(set(handed)) == len(handed)


def test_expired_lock_is_fetchable_again_and_the_old_worker_loses_it(
    charge: str, sessions: sessionmaker[Session]
) -> None:
    first = fetch(sessions, "w1", lock_ms=50)
    assert fetch(sessions, "w2") == []
    time.sleep(0.1)
    second = fetch(sessions, "w2")
    assert [i.task.id for i in second] == [first[0].task.id]
    with pytest.raises(ConflictError, match="locked by worker 'w2'"):
        act(sessions, actions.complete, first[0].task.id, "w1", {})


def test_complete_steps_the_instance_only_for_the_lock_owner(
    charge: str, sessions: sessionmaker[Session]
) -> None:
    task_id = fetch(sessions, "w1")[0].task.id
    with pytest.raises(ConflictError, match="cannot be completed by worker 'w2'"):
        act(sessions, actions.complete, task_id, "w2", {"paid": True})
    assert instance(sessions, charge).status == "running"
    act(sessions, actions.complete, task_id, "w1", {"paid": True}, {"note": "local"})
    done = instance(sessions, charge)
    assert done.status == "completed" and done.end_element == "charged"
    assert done.variables["paid"] is True and "note" not in done.variables
    assert row(sessions, task_id).status == "completed"
    assert row(sessions, task_id).local_variables == {"note": "local"}
    with pytest.raises(NotFoundError):
        act(sessions, actions.complete, task_id, "w1", {})


def test_failure_retries_then_incident_then_retries_reset(
    charge: str, sessions: sessionmaker[Session]
) -> None:
    task_id = fetch(sessions, "w1")[0].task.id
    act(sessions, actions.fail, task_id, "w1", message="card network down", retries=1)
    assert row(sessions, task_id).retries == 1
    again = fetch(sessions, "w2")
    assert [i.task.id for i in again] == [task_id]
    act(
        sessions,
        actions.fail,
        task_id,
        "w2",
        message="still down",
        details="trace",
        retries=0,
    )
    assert fetch(sessions, "w3") == []
    [incident] = incidents(sessions, task_id)
    assert incident.kind == "failedExternalTask" and incident.message == "still down"
    assert incident.resolved_at is None
    act(sessions, actions.set_retries, task_id, 2)
    [incident] = incidents(sessions, task_id)
    assert incident.resolved_at is not None
    assert [i.task.id for i in fetch(sessions, "w3")] == [task_id]


def test_failure_retry_timeout_holds_the_task_back(
    charge: str, sessions: sessionmaker[Session]
) -> None:
    task_id = fetch(sessions, "w1")[0].task.id
    act(sessions, actions.fail, task_id, "w1", message="x", retries=3, retry_timeout_ms=60_000)
    assert fetch(sessions, "w2") == []
    act(sessions, actions.fail, task_id, "w1", message="x", retries=3, retry_timeout_ms=0)
    assert len(fetch(sessions, "w2")) == 1


def test_bpmn_error_is_caught_by_the_error_boundary_event(
    charge: str, sessions: sessionmaker[Session]
) -> None:
    task_id = fetch(sessions, "w1")[0].task.id
    caught = act(
        sessions,
        actions.bpmn_error,
        task_id,
        "w1",
        code="card_declined",
        message="insufficient funds",
        variables={"decline_reason": "funds"},
    )
    assert caught == "card_declined"
    done = instance(sessions, charge)
    assert done.status == "completed" and done.end_element == "declined"
    assert done.variables["decline_reason"] == "funds"
    assert row(sessions, task_id).status == "errored"


def test_uncaught_bpmn_error_raises_an_incident_naming_the_code(
    charge: str, sessions: sessionmaker[Session]
) -> None:
    task_id = fetch(sessions, "w1")[0].task.id
    assert act(sessions, actions.bpmn_error, task_id, "w1", code="fraud_suspected") is None
    assert instance(sessions, charge).status == "running"
    assert row(sessions, task_id).status == "open" and row(sessions, task_id).retries == 0
    [incident] = incidents(sessions, task_id)
    assert "fraud_suspected" in incident.message
    assert fetch(sessions, "w2") == []


def test_extend_lock_and_unlock(charge: str, sessions: sessionmaker[Session]) -> None:
    task_id = fetch(sessions, "w1", lock_ms=1_000)[0].task.id
    before = row(sessions, task_id).lock_expires_at
    with pytest.raises(ConflictError, match="cannot be extended by worker 'w2'"):
        act(sessions, actions.extend_lock, task_id, "w2", 60_000)
    act(sessions, actions.extend_lock, task_id, "w1", 60_000)
    after = row(sessions, task_id).lock_expires_at
    assert before is not None and after is not None and after > before
    act(sessions, actions.unlock, task_id)
    assert row(sessions, task_id).worker_id is None
    assert len(fetch(sessions, "w2")) == 1


def test_only_workers_and_admins_fetch(charge: str, sessions: sessionmaker[Session]) -> None:
    clerk = Actor("rm_li", frozenset({"relationship_manager"}))
    with sessions() as session, pytest.raises(PermissionDeniedError):
        fetching.fetch_and_lock(session, clerk, FetchRequest("w", 1, [TopicRequest(TOPIC, 1)]))
    with sessions() as session, pytest.raises(InvalidInputError) as bad:
        fetching.fetch_and_lock(session, WORKER, FetchRequest("w", -1, [TopicRequest(TOPIC, 0)]))
    assert set(bad.value.errors) == {"maxTasks", "topics[0].lockDuration"}


def test_handler_business_error_goes_to_its_error_boundary_event(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    deploy(client, "handler_error")
    caught = start(sessions, "handler_error")
    done = instance(sessions, caught)
    assert done.status == "completed" and done.end_element == "rejected"
    uncaught = start(sessions, "handler_error", reject_code="unknown_code")
    assert instance(sessions, uncaught).status == "running"
    with sessions() as session:
        job = session.scalars(select(ServiceJob).where(ServiceJob.instance_id == uncaught)).one()
        [incident] = session.scalars(select(Incident).where(Incident.task_id == job.id))
    assert job.status == "failed"
    assert "unknown_code" in incident.message
