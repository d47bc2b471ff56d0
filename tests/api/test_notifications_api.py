"""Notification outbox API: failures are visible to administrators and can be retried."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import utcnow
from app.notifications import outbox
from app.notifications.delivery import MAX_ATTEMPTS, send_notification
from app.notifications.models import Notification
from tests.conftest import STAFF
from tests.sinks import WebhookSink


@pytest.fixture
def webhook_settings(app: Flask, webhook: WebhookSink) -> Iterator[Settings]:
    services = app.extensions["corpflow"]
    saved = services.settings
    services.settings = dataclasses.replace(
        saved, webhook_secret="s3cret", webhook_timeout_seconds=5.0
    )
    yield services.settings
    services.settings = saved


def make_failed(sessions: sessionmaker[Session], webhook: WebhookSink) -> str:
    """A webhook notification that has used up its attempts against a server answering 500."""
    webhook.fail_next = 100
    with sessions() as session:
        row = outbox.notify(
            session,
            channel="webhook",
            recipient=webhook.url,
            subject="credit_approved",
            body={"amount": "5000000.00"},
            idempotency_key="approved:inst-7",
            instance_id="inst-7",
        )
        session.commit()
        notification_id = row.id
    for _ in range(MAX_ATTEMPTS):
        with sessions() as session:
            stored = session.get(Notification, notification_id)
            assert stored is not None
            if stored.status == "failed":
                break
            stored.next_attempt_at = utcnow() - timedelta(seconds=1)
            session.commit()
        send_notification(notification_id)
    assert webhook.refused == MAX_ATTEMPTS
    webhook.fail_next = 0
    return notification_id


def test_failed_notification_is_listed_for_admins_only(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    webhook: WebhookSink,
    webhook_settings: Settings,
) -> None:
    notification_id = make_failed(sessions, webhook)
    response = client.get("/api/v1/notifications?status=failed", headers=STAFF["admin"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["total"], body["limit"], body["offset"]) == (1, 50, 0)
    [item] = body["items"]
    assert item["id"] == notification_id
    assert (item["status"], item["attempts"], item["channel"]) == ("failed", 6, "webhook")
    assert "HTTP 500" in item["last_error"]
    assert "body" not in item
    assert (
        client.get("/api/v1/notifications?status=pending", headers=STAFF["admin"]).get_json()[
            "total"
        ]
        == 0
    )
    by_instance = client.get("/api/v1/notifications?instance_id=inst-7", headers=STAFF["admin"])
    assert by_instance.get_json()["total"] == 1
    other = client.get("/api/v1/notifications?instance_id=inst-8", headers=STAFF["admin"])
    assert other.get_json()["total"] == 0
    assert client.get("/api/v1/notifications", headers=STAFF["rm"]).status_code == 403
    assert client.get("/api/v1/notifications").status_code == 401
    bad = client.get("/api/v1/notifications?status=lost", headers=STAFF["admin"])
    assert bad.status_code == 422


def test_retry_puts_a_failed_notification_back_and_sends_it(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    webhook: WebhookSink,
    webhook_settings: Settings,
) -> None:
    notification_id = make_failed(sessions, webhook)
    url = f"/api/v1/notifications/{notification_id}/retry"
    assert client.post(url, headers=STAFF["rm"]).status_code == 403
    response = client.post(url, headers=STAFF["admin"])
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["status"], response.get_json()["attempts"]) == ("pending", 0)
    assert len(webhook.received) == 1  # sent by the job that ran after the retry committed
    sent = client.get("/api/v1/notifications?status=sent", headers=STAFF["admin"]).get_json()
    assert [item["id"] for item in sent["items"]] == [notification_id]
    again = client.post(url, headers=STAFF["admin"])
    assert again.status_code == 409
    assert again.get_json()["code"] == "notification_not_failed"
    missing = client.post("/api/v1/notifications/no-such-id/retry", headers=STAFF["admin"])
    assert missing.status_code == 404
