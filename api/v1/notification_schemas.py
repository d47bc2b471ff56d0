"""marshmallow schemas of the notification outbox endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.v1.schemas import PageArgs
from app.notifications.models import STATUSES


class NotificationArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    instance_id = fields.String()


class NotificationOut(Schema):
    # The body is left out on purpose: it may carry customer data, and operating the outbox
    # needs only where a message goes and why it did not get there.
    id = fields.String()
    idempotency_key = fields.String()
    channel = fields.String()
    recipient = fields.String()
    subject = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    instance_id = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
