"""Outbox use cases: write a notification with the causing change, list them, retry failures."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor
from app.notifications.models import CHANNELS, Notification
from app.queue import enqueue_after_commit

JOB = "send_notification"
# Printable ASCII without spaces: the key travels in an HTTP header and in the Message-ID.
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
# Deliberately loose (RFC 5322 is not worth parsing here) but no whitespace or angle brackets,
# which also keeps CR/LF header injection out of the To: header.
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def notify(
    session: Session,
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: dict[str, Any],
    idempotency_key: str,
    instance_id: str | None = None,
    task_id: str | None = None,
) -> Notification:
    """Store a message in the caller's transaction; it is sent only if that transaction commits.

    A key already stored returns the stored row and sends nothing more.
    """
    _validate(channel, recipient, subject, body, idempotency_key)
    values = {
        "id": str(uuid.uuid4()),
        "idempotency_key": idempotency_key,
        "channel": channel,
        "recipient": recipient,
        "subject": subject,
        "body": body,
        "instance_id": instance_id,
        "task_id": task_id,
        "next_attempt_at": utcnow(),
    }
    if _insert_unless_present(session, values):
        enqueue_after_commit(session, JOB, str(values["id"]))
    row = session.scalars(
        select(Notification).where(Notification.idempotency_key == idempotency_key)
    ).one()
    return row


def list_notifications(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    instance_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Notification], int]:
    """Notifications newest first, with the total; administrators only."""
    _require_admin(actor)
    query = select(Notification)
    if status:
        query = query.where(Notification.status == status)
    if instance_id:
        query = query.where(Notification.instance_id == instance_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id).limit(limit).offset(offset)
    )
    return list(rows), total


def retry(session: Session, actor: Actor, notification_id: str) -> Notification:
    """Put a failed notification back to pending with fresh attempts; administrators only."""
    _require_admin(actor)
    row = session.scalars(
        select(Notification).where(Notification.id == notification_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"notification '{notification_id}' does not exist")
    if row.status != "failed":
        raise ConflictError(
            f"only failed notifications can be retried; this one is {row.status}",
            code="notification_not_failed",
        )
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = utcnow()
    session.flush()
    enqueue_after_commit(session, JOB, row.id)
    return row


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDeniedError("only administrators may see or retry notifications")


def _insert_unless_present(session: Session, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when this call stored the row.

    A concurrent transaction inserting the same key makes PostgreSQL wait for it and then do
    nothing, so two racing callers store one row without an IntegrityError; no savepoint is
    needed (a savepoint rollback would also drop the session's after-commit jobs).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(Notification).on_conflict_do_nothing(
            index_elements=[Notification.idempotency_key]
        )
    elif dialect == "sqlite":
        stmt = sqlite.insert(Notification).on_conflict_do_nothing(
            index_elements=[Notification.idempotency_key]
        )
    else:  # pragma: no cover - PostgreSQL and SQLite are the supported databases
        key = values["idempotency_key"]
        if session.scalar(select(Notification.id).where(Notification.idempotency_key == key)):
            return False
        stmt = insert(Notification)
    inserted = session.execute(stmt.values(**values).returning(Notification.id)).first()
    return inserted is not None


def _validate(
    channel: str, recipient: str, subject: str, body: dict[str, Any], idempotency_key: str
) -> None:
    errors: dict[str, str] = {}
    if not isinstance(body, dict):
        errors["body"] = "must be a JSON object"
        body = {}
    if channel not in CHANNELS:
        errors["channel"] = f"must be one of {', '.join(CHANNELS)}"
    elif channel == "email":
        if not _EMAIL.match(recipient) or len(recipient) > 254:
            errors["recipient"] = "must be an e-mail address"
        if "body" not in errors and not isinstance(body.get("text"), str):
            errors["body"] = "an e-mail body needs a 'text' string"
    elif not _is_http_url(recipient):
        errors["recipient"] = "must be an http(s) URL"
    if not subject or len(subject) > 500 or "\r" in subject or "\n" in subject:
        errors["subject"] = "must be 1 to 500 characters on one line"
    if not _KEY.match(idempotency_key):
        errors["idempotency_key"] = "must be 1 to 200 printable ASCII characters without spaces"
    if "body" not in errors:
        try:
            json.dumps(body)
        except (TypeError, ValueError):
            errors["body"] = "must be a JSON object"
    if errors:
        raise InvalidInputError("the notification is not valid", errors=errors)


def _is_http_url(url: str) -> bool:
    if len(url) > 2000 or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
