"""marshmallow schema of the customer 360 view."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields

from api.v1.lending_schemas import FacilityWithLoans
from api.v1.people_schemas import PositionOut
from api.v1.relations_schemas import BeneficialOwnerOut, GroupSummaryOut, RelationshipsOut
from api.v1.servicing_schemas import ComplaintOut, InteractionOut, SignalOut


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class PlainDict(fields.Dict):
    """A free-form object whose dates and decimals are written as ISO text and strings."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else _plain(value)


class OpenTaskOut(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    element_id = fields.String()
    instance_id = fields.String()
    process_key = fields.String()
    assignee = fields.String(allow_none=True)
    priority = fields.Integer()
    due_at = fields.DateTime(allow_none=True)
    breached_at = fields.DateTime(allow_none=True)


class RunningProcessOut(Schema):
    id = fields.String()
    process_key = fields.String()
    business_key = fields.String(allow_none=True)
    started_at = fields.DateTime()
    started_by = fields.String(allow_none=True)
    active_elements = fields.List(fields.String())


class AtRiskOut(Schema):
    kind = fields.String(metadata={"description": "task | complaint | risk_signal"})
    id = fields.String()
    name = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    state = fields.String(metadata={"description": "breached | overdue | due_soon"})


class OverviewOut(Schema):
    profile = PlainDict(metadata={"description": "registration data and custom fields"})
    relationships = fields.Nested(RelationshipsOut)
    group = fields.Nested(GroupSummaryOut)
    beneficial_owners = fields.List(fields.Nested(BeneficialOwnerOut))
    people = fields.List(fields.Nested(PositionOut))
    facilities = fields.List(fields.Nested(FacilityWithLoans))
    open_tasks = fields.List(fields.Nested(OpenTaskOut))
    running_processes = fields.List(fields.Nested(RunningProcessOut))
    interactions = fields.List(fields.Nested(InteractionOut))
    complaints = fields.List(fields.Nested(ComplaintOut))
    risk_signals = fields.List(fields.Nested(SignalOut))
    sla_at_risk = fields.List(fields.Nested(AtRiskOut))
