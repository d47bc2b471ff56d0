"""Notification outbox against a real SMTP server and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import utcnow
from app.errors import InvalidInputError, PermissionDeniedError
from app.identity.actor import Actor
from app.notifications import outbox
from app.notifications.delivery import backoff, send_notification, sweep_notifications
from app.notifications.models import Notification
from app.notifications.senders import message_id
from app.queue import _PENDING
from tests.sinks import SECRET, SmtpSink, WebhookSink, free_port

SUBJECT = "SLA 超时提醒：授信审批已逾期"
TEXT = "客户「上海示例科技有限公司」的授信审批已超过 3 个工作日，请尽快处理。"


def make_email(session: Session, key: str = "sla:inst-1:review_credit") -> Notification:
    return outbox.notify(
        session,
        channel="email",
        recipient="credit-ops@bank.example",
        subject=SUBJECT,
        body={"text": TEXT},
        idempotency_key=key,
        instance_id="inst-1",
    )


def make_webhook(session: Session, url: str, key: str = "approved:inst-2") -> Notification:
    return outbox.notify(
        session,
        channel="webhook",
        recipient=url,
        subject="credit_approved",
        body={"customer": "上海示例科技有限公司", "amount": "5000000.00", "currency": "CNY"},
        idempotency_key=key,
        instance_id="inst-2",
        task_id="task-9",
    )


def load(sessions: sessionmaker[Session], notification_id: str) -> Notification:
    with sessions() as session:
        row = session.get(Notification, notification_id)
        assert row is not None
        return row


def make_due(sessions: sessionmaker[Session], notification_id: str) -> None:
    with sessions() as session:
        row = session.get(Notification, notification_id)
        assert row is not None
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        session.commit()


def test_notify_email_arrives_once_with_chinese_subject(
    sessions: sessionmaker[Session], smtp: SmtpSink, outbox_settings: Settings
) -> None:
    with sessions() as session:
        first = make_email(session)
        again = make_email(session)
        assert again.id == first.id
        session.commit()  # the job runs after commit (eagerly in tests)
    assert len(smtp.messages) == 1
    send_notification(first.id)
    send_notification(first.id)
    with sessions() as session:
        assert make_email(session).id == first.id
        session.commit()
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["Subject"] == SUBJECT
    assert message.get_content().strip() == TEXT
    assert message["Message-ID"] == message_id("sla:inst-1:review_credit", "corpflow@localhost")
    assert smtp.recipients == [["credit-ops@bank.example"]]
    row = load(sessions, first.id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 1


def test_notify_webhook_is_signed_with_hmac(
    sessions: sessionmaker[Session], webhook: WebhookSink, outbox_settings: Settings
) -> None:
    with sessions() as session:
        row = make_webhook(session, webhook.url)
        session.commit()
    assert len(webhook.received) == 1
    headers, body = webhook.received[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Corpflow-Signature"], expected)
    assert not hmac.compare_digest(
        headers["X-Corpflow-Signature"],
        "sha256=" + hmac.new(b"wrong", body, hashlib.sha256).hexdigest(),
    )
    assert headers["X-Corpflow-Idempotency-Key"] == "approved:inst-2"
    assert headers["Content-Type"].startswith("application/json")
    payload = json.loads(body.decode("utf-8"))
    assert payload["id"] == row.id
    assert payload["subject"] == "credit_approved"
    assert payload["data"]["customer"] == "上海示例科技有限公司"
    assert (payload["instance_id"], payload["task_id"]) == ("inst-2", "task-9")
    assert load(sessions, row.id).status == "sent"


def test_webhook_500_is_retried_after_backoff_and_sent_once(
    sessions: sessionmaker[Session], webhook: WebhookSink, outbox_settings: Settings
) -> None:
    webhook.fail_next = 1
    with sessions() as session:
        row = make_webhook(session, webhook.url)
        session.commit()
    failed = load(sessions, row.id)
    assert (failed.status, failed.attempts, webhook.refused) == ("pending", 1, 1)
    assert failed.last_error is not None and "HTTP 500" in failed.last_error
    assert failed.next_attempt_at > utcnow() + timedelta(seconds=30)
    assert sweep_notifications() == 0  # not due yet
    send_notification(row.id)  # nor does a stray job send it early
    assert webhook.received == []
    make_due(sessions, row.id)
    assert sweep_notifications() == 1
    assert sweep_notifications() == 0
    send_notification(row.id)
    assert len(webhook.received) == 1
    sent = load(sessions, row.id)
    assert (sent.status, sent.attempts) == ("sent", 2)


def test_rollback_stores_and_sends_nothing(
    sessions: sessionmaker[Session], smtp: SmtpSink, outbox_settings: Settings
) -> None:
    with sessions() as session:
        make_email(session, key="sla:rolled-back")
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Notification)) == 0
        kept = make_email(session, key="sla:kept")  # the next commit sends only this one
        session.commit()
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["Message-ID"] == message_id("sla:kept", "corpflow@localhost")
    with sessions() as session:
        keys = session.scalars(select(Notification.idempotency_key)).all()
    assert keys == [kept.idempotency_key]


def test_sweep_resends_a_lost_job_after_its_grace(
    sessions: sessionmaker[Session], smtp: SmtpSink, outbox_settings: Settings
) -> None:
    with sessions() as session:
        row = make_email(session)
        session.info.pop(_PENDING)  # the process "crashed" between commit and enqueue
        session.commit()
    assert sweep_notifications() == 0  # too young: its job may still be on its way
    with sessions() as session:
        stored = session.get(Notification, row.id)
        assert stored is not None
        stored.created_at = utcnow() - timedelta(minutes=5)
        session.commit()
    assert sweep_notifications() == 1
    assert len(smtp.messages) == 1
    assert sweep_notifications() == 0


def test_racing_notify_with_one_key_stores_and_sends_one(
    sessions: sessionmaker[Session], smtp: SmtpSink, outbox_settings: Settings
) -> None:
    first, second = sessions(), sessions()
    seen: list[str] = []

    def racer() -> None:
        seen.append(make_email(second).id)  # waits for `first` on the key's unique index
        second.commit()

    try:
        stored = make_email(first)
        thread = threading.Thread(target=racer)
        thread.start()
        time.sleep(0.3)
        first.commit()
        thread.join(10)
    finally:
        first.close()
        second.close()
    assert seen == [stored.id]
    assert len(smtp.messages) == 1


def test_concurrent_deliveries_send_once(
    sessions: sessionmaker[Session], webhook: WebhookSink, outbox_settings: Settings
) -> None:
    with sessions() as session:
        row = make_webhook(session, webhook.url)
        session.info.pop(_PENDING)
        session.commit()
    webhook.delay = 0.3  # the first delivery holds the row lock while the server is slow
    start = threading.Barrier(3)

    def deliver() -> None:
        start.wait()
        send_notification(row.id)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(webhook.received) == 1
    assert load(sessions, row.id).attempts == 1


def test_unreachable_smtp_is_recorded_without_the_body(
    app: Flask, sessions: sessionmaker[Session], outbox_settings: Settings
) -> None:
    services = app.extensions["corpflow"]
    services.settings = dataclasses.replace(services.settings, smtp_port=free_port())
    with sessions() as session:
        row = make_email(session)
        session.info.pop(_PENDING)
        session.commit()
    send_notification(row.id)
    stored = load(sessions, row.id)
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.last_error is not None and "SMTP 127.0.0.1" in stored.last_error
    assert TEXT not in stored.last_error


def test_gives_up_after_max_attempts(
    sessions: sessionmaker[Session], webhook: WebhookSink, outbox_settings: Settings
) -> None:
    webhook.fail_next = 100
    with sessions() as session:
        row = make_webhook(session, webhook.url)
        session.info.pop(_PENDING)
        session.commit()
    for _ in range(8):
        make_due(sessions, row.id)
        send_notification(row.id)
    stored = load(sessions, row.id)
    assert (stored.status, stored.attempts, webhook.refused) == ("failed", 6, 6)
    assert sweep_notifications() == 0


def test_backoff_doubles_and_is_capped() -> None:
    assert backoff(1) == timedelta(seconds=60)
    assert backoff(2) == timedelta(seconds=120)
    assert backoff(5) == timedelta(seconds=960)
    assert backoff(50) == timedelta(hours=1)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "sms"}, "channel"),
        ({"recipient": "not-an-address"}, "recipient"),
        ({"recipient": "ops@bank.example\r\nBcc: x@evil.example"}, "recipient"),
        ({"channel": "webhook", "recipient": "ftp://hooks.bank.example/x"}, "recipient"),
        ({"channel": "webhook", "recipient": "https:///no-host"}, "recipient"),
        ({"body": {"html": "<p>no text</p>"}}, "body"),
        ({"body": {"text": "x", "when": object()}}, "body"),
        ({"subject": "two\nlines"}, "subject"),
        ({"subject": ""}, "subject"),
        ({"idempotency_key": "has spaces"}, "idempotency_key"),
        ({"idempotency_key": "键"}, "idempotency_key"),
    ],
)
def test_notify_rejects_invalid_input(
    session: Session, changes: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {
        "channel": "email",
        "recipient": "ops@bank.example",
        "subject": "subject",
        "body": {"text": "hello"},
        "idempotency_key": "k1",
    } | changes
    with pytest.raises(InvalidInputError) as caught:
        outbox.notify(session, **args)
    assert field in caught.value.errors
    assert session.scalar(select(func.count()).select_from(Notification)) == 0


def test_list_and_retry_need_an_administrator(session: Session) -> None:
    rm = Actor("rm_li", frozenset({"relationship_manager"}))
    with pytest.raises(PermissionDeniedError):
        outbox.list_notifications(session, rm)
    with pytest.raises(PermissionDeniedError):
        outbox.retry(session, rm, "any")
