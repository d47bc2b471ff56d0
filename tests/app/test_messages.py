"""Message subscriptions and correlation: catch events, receive tasks, message starts."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.errors import ConflictError
from app.messages import correlation
from app.messages.correlation import Message
from app.messages.models import MessageSubscription
from app.tasks.models import HumanTask
from tests.app.test_external_tasks import WORKER, deploy, instance, start


def subscriptions(sessions: sessionmaker[Session]) -> list[tuple[str, str, str | None]]:
    with sessions() as session:
        rows = session.scalars(select(MessageSubscription).order_by(MessageSubscription.id))
        return [(r.message_name, r.element_id, r.business_key) for r in rows]


def correlate(sessions: sessionmaker[Session], **message: Any) -> list[correlation.Correlated]:
    with sessions() as session:
        results = correlation.correlate(session, WORKER, Message(**message))
        session.commit()
        return results


def test_waiting_catch_event_is_a_subscription_until_correlated(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    deploy(client, "message_catch")
    waiting = start(sessions, "message_catch", "ORD-1", order=1)
    assert subscriptions(sessions) == [("payment_received", "wait_for_payment", "ORD-1")]
    [result] = correlate(
        sessions, name="payment_received", business_key="ORD-1", variables={"paid": 99.5}
    )
    assert result.kind == "Execution" and result.instance.id == waiting
    done = instance(sessions, waiting)
    assert done.status == "completed" and done.end_element == "paid"
    assert done.variables == {"order": 1, "paid": 99.5}
    assert subscriptions(sessions) == []


def test_no_match_is_an_error_and_changes_nothing(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    deploy(client, "message_catch")
    waiting = start(sessions, "message_catch", "ORD-1")
    with pytest.raises(ConflictError, match="No process definition or execution matches"):
        correlate(sessions, name="payment_received", business_key="ORD-2")
    with pytest.raises(ConflictError, match="No process definition or execution matches"):
        correlate(sessions, name="payment_refunded")
    assert instance(sessions, waiting).status == "running"


def test_several_matches_need_all(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    deploy(client, "message_catch")
    first = start(sessions, "message_catch", "B", region="east")
    second = start(sessions, "message_catch", "B", region="west")
    with pytest.raises(ConflictError, match=r"to a single execution\. 2 executions"):
        correlate(sessions, name="payment_received", business_key="B")
    [east] = correlate(
        sessions, name="payment_received", business_key="B", correlation_keys={"region": "east"}
    )
    assert east.instance.id == first
    assert instance(sessions, second).status == "running"
    third = start(sessions, "message_catch", "B")
    results = correlate(sessions, name="payment_received", all=True)
    assert sorted(r.instance.id for r in results) == sorted([second, third])


def test_receive_task_by_instance_id_and_local_keys(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    deploy(client, "receive_task")
    waiting = start(sessions, "receive_task", case="C-9")
    with pytest.raises(ConflictError):
        correlate(
            sessions,
            name="documents_received",
            instance_id=waiting,
            local_correlation_keys={"case": "C-0"},
        )
    correlate(
        sessions,
        name="documents_received",
        instance_id=waiting,
        local_correlation_keys={"case": "C-9"},
        variables={"pages": 3},
    )
    done = instance(sessions, waiting)
    assert done.status == "completed" and done.variables["pages"] == 3


def test_message_start_event_starts_the_latest_version(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    deploy(client, "message_start")
    [result] = correlate(
        sessions, name="risk_alert_raised", business_key="ALERT-7", variables={"signal": "fraud"}
    )
    assert result.kind == "ProcessDefinition"
    started = instance(sessions, result.instance.id)
    assert started.business_key == "ALERT-7" and started.status == "running"
    assert started.variables["signal"] == "fraud"
    with sessions() as session:
        [task] = session.scalars(select(HumanTask).where(HumanTask.instance_id == started.id))
    assert task.element_id == "triage_alert"
    assert subscriptions(sessions) == []
