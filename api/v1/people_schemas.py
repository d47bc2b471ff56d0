"""marshmallow schemas of natural persons and their positions in customers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.v1.schemas import QuerySchema, StrictSchema
from app.people import identifiers, people


class PersonIn(StrictSchema):
    name = fields.String(required=True)
    id_type = fields.String(
        load_default="resident_id", validate=validate.OneOf(identifiers.ID_TYPES)
    )
    id_number = fields.String(required=True, metadata={"description": "stored encrypted"})
    phone = fields.String(allow_none=True, metadata={"description": "mainland mobile, encrypted"})
    nationality = fields.String(load_default="CHN")


class PersonArgs(QuerySchema):
    id_number = fields.String(metadata={"description": "exact match (keyed hash)"})
    id_type = fields.String(
        load_default="resident_id", validate=validate.OneOf(identifiers.ID_TYPES)
    )
    phone = fields.String(metadata={"description": "exact match (keyed hash)"})


class RevealArgs(QuerySchema):
    reveal_reason = fields.String(
        metadata={
            "description": "why the numbers are needed in clear (RMs and risk officers only); "
            "every such read is logged"
        }
    )


class PersonOut(Schema):
    id = fields.String()
    name = fields.String()
    id_type = fields.String()
    id_number = fields.String(metadata={"description": "masked 110***********1234 unless revealed"})
    phone = fields.String(allow_none=True, metadata={"description": "masked 138****5678"})
    nationality = fields.String()
    masked = fields.Boolean()


class PositionIn(StrictSchema):
    person_id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(people.ROLES))
    appointed_on = fields.Date(allow_none=True)


class PositionOut(Schema):
    role = fields.String()
    appointed_on = fields.Date(allow_none=True)
    person = fields.Nested(PersonOut)
