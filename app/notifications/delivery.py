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
    """Send a pending, due notification once; record the failure and the next try otherwise."""
    services = current()
    with transaction(services.sessions) as session:
        # The row stays locked (FOR UPDATE) while the message goes out: a concurrent delivery of
        # the same id (a duplicate rq job, the sweeper) waits here, then finds it sent and does
        # nothing. That lock, not "only one worker", is what makes "sent once" hold. The one gap
        # is a crash after the server accepted the message but before our commit: the row stays
        # pending and is sent again, with the same Message-ID / idempotency key header, so the
        # receiver can drop the duplicate.
        row = session.scalars(
            select(Notification).where(Notification.id == notification_id).with_for_update()
        ).one_or_none()
        now = utcnow()
        if row is None or row.status != "pending" or row.next_attempt_at > now:
            return  # unknown, already sent or given up, or a retry that is not yet due
        try:
            send(services.settings, row)
        except DeliveryError as exc:
            _failed(row, exc.reason)
            return
        except Exception as exc:  # a sender bug must not leave the row to be retried forever
            log.exception("sending notification %s failed unexpectedly", row.id)
            _failed(row, f"{type(exc).__name__} while sending")
            return
        row.status = "sent"
        row.sent_at = utcnow()
        row.attempts += 1
        log.info("notification %s sent by %s", row.id, row.channel)


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
