"""marshmallow schemas of interactions, complaints and risk signals."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.v1.schemas import StrictSchema
from app.servicing import complaints, interactions, signals


class InteractionIn(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(interactions.KINDS))
    purpose = fields.String(load_default="other", validate=validate.OneOf(interactions.PURPOSES))
    occurred_at = fields.AwareDateTime(metadata={"description": "default: now"})
    summary = fields.String(required=True)
    participants = fields.String(allow_none=True)
    next_action = fields.String(allow_none=True)
    next_action_due = fields.Date(allow_none=True)


class InteractionOut(Schema):
    id = fields.String()
    customer_id = fields.String()
    kind = fields.String()
    purpose = fields.String()
    occurred_at = fields.DateTime()
    summary = fields.String()
    participants = fields.String(allow_none=True)
    next_action = fields.String(allow_none=True)
    next_action_due = fields.Date(allow_none=True)
    recorded_by = fields.String()
    created_at = fields.DateTime()


class ComplaintIn(StrictSchema):
    channel = fields.String(required=True, validate=validate.OneOf(complaints.CHANNELS))
    category = fields.String(required=True, validate=validate.OneOf(complaints.CATEGORIES))
    complexity = fields.String(
        load_default="simple",
        validate=validate.OneOf(tuple(complaints.SLA_DAYS)),
        metadata={"description": "simple: due in 15 days; complex: 30"},
    )
    summary = fields.String(required=True)
    complainant_name = fields.String(allow_none=True)
    received_at = fields.AwareDateTime(metadata={"description": "default: now"})


class ExtensionIn(StrictSchema):
    reason = fields.String(required=True)


class ResolutionIn(StrictSchema):
    resolution = fields.String(required=True)
    root_cause = fields.String(allow_none=True)


class ComplaintOut(Schema):
    id = fields.String()
    customer_id = fields.String()
    channel = fields.String()
    category = fields.String()
    complexity = fields.String()
    summary = fields.String()
    complainant_name = fields.String(allow_none=True)
    received_at = fields.DateTime()
    due_at = fields.DateTime()
    extended_by = fields.String(allow_none=True)
    extension_reason = fields.String(allow_none=True)
    status = fields.String()
    resolution = fields.String(allow_none=True)
    root_cause = fields.String(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    recorded_by = fields.String()


class SignalIn(StrictSchema):
    source = fields.String(required=True, validate=validate.OneOf(signals.SOURCES))
    category = fields.String(required=True, validate=validate.OneOf(signals.CATEGORIES))
    severity = fields.String(
        required=True,
        validate=validate.OneOf(signals.SEVERITIES),
        metadata={"description": "红 red, 橙 orange, 黄 yellow, 蓝 blue"},
    )
    headline = fields.String(required=True)
    detail = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    detected_at = fields.AwareDateTime(metadata={"description": "default: now"})


class SignalMoveIn(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(tuple(signals.TRANSITIONS)))
    disposition = fields.String(allow_none=True)


class SignalOut(Schema):
    id = fields.String()
    customer_id = fields.String()
    source = fields.String()
    category = fields.String()
    severity = fields.String()
    headline = fields.String()
    detail = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    detected_at = fields.DateTime()
    verify_due = fields.DateTime(allow_none=True)
    verify_due_estimated = fields.Boolean()
    status = fields.String()
    disposition = fields.String(allow_none=True)
    raised_by = fields.String()
    updated_by = fields.String(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
