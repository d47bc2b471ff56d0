"""The outbox jobs: send one notification under its row lock, and sweep the due ones."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select

from app.context import current
from app.db import transaction, utcnow
from app.notifications.models import Notification
from app.notifications.senders import DeliveryError, send

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
SWEEP_LIMIT = 500
# A never-tried row younger than this still has its after-commit job on the way.
SWEEP_GRACE = timedelta(seconds=30)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failures: 60 s, 2 min, 4 min ... at most 1 h."""
    return min(BACKOFF_BASE * (1 << min(attempts, 16)), BACKOFF_CAP)


def send_notification(notification_id: str) -> None:
    """Send a pending, due notification once; record the failure and the next try otherwise.

    Three short steps, so that no lock or transaction is held while a mail server or webhook
    takes its time: (1) claim the row by pushing `next_attempt_at` out by a lease — a
    concurrent delivery of the same id (a duplicate rq job, the sweeper) then finds it not due
    and does nothing; (2) send; (3) record the outcome. A crash between (2) and (3) leaves the
    row pending; once the lease runs out it is sent again with the same Message-ID and
    idempotency-key header, so the receiver can drop the duplicate.
    """
    services = current()
    settings = services.settings
    with transaction(services.sessions) as session:
        row = session.scalars(
            select(Notification).where(Notification.id == notification_id).with_for_update()
        ).one_or_none()
        now = utcnow()
        if row is None or row.status != "pending" or row.next_attempt_at > now:
            return  # unknown, already sent or given up, being sent, or a retry not yet due
        row.next_attempt_at = now + _lease(
            settings.smtp_timeout_seconds, settings.webhook_timeout_seconds
        )
    error: str | None = None
    try:
        send(settings, row)
    except DeliveryError as exc:
        error = exc.reason
    except Exception as exc:  # a sender bug must not leave the row to be retried forever
        log.exception("sending notification %s failed unexpectedly", notification_id)
        error = f"{type(exc).__name__} while sending"
    with transaction(services.sessions) as session:
        row = session.scalars(
            select(Notification).where(Notification.id == notification_id).with_for_update()
        ).one_or_none()
        if row is None or row.status != "pending":
            return
        if error is not None:
            _failed(row, error)
            return
        row.status = "sent"
        row.sent_at = utcnow()
        row.attempts += 1
        log.info("notification %s sent by %s", row.id, row.channel)


def _lease(*timeouts: float) -> timedelta:
    """Long enough for one send through every socket step, short enough to retry soon."""
    return timedelta(seconds=max(60.0, 4 * max(timeouts)))


def sweep_notifications() -> int:
    """Dispatch pending notifications that are due (retries, lost jobs); returns how many."""
    services = current()
    now = utcnow()
    with transaction(services.sessions) as session:
        ids = list(
            session.scalars(
                select(Notification.id)
                .where(
                    Notification.status == "pending",
                    Notification.next_attempt_at <= now,
                    or_(Notification.attempts > 0, Notification.created_at < now - SWEEP_GRACE),
                )
                .order_by(Notification.next_attempt_at)
                .limit(SWEEP_LIMIT)
            )
        )
    for notification_id in ids:
        services.queue.dispatch(("send_notification", (notification_id,)))
    if ids:
        log.info("swept %d due notifications", len(ids))
    return len(ids)


def _failed(row: Notification, reason: str) -> None:
    row.attempts += 1
    row.last_error = reason
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        log.warning("notification %s failed after %d attempts: %s", row.id, row.attempts, reason)
    else:
        row.next_attempt_at = utcnow() + backoff(row.attempts)
        log.info("notification %s attempt %d failed: %s", row.id, row.attempts, reason)
