"""marshmallow schemas of ownership, control, guarantees, groups and beneficial owners."""

from __future__ import annotations

from marshmallow import Schema, fields

from api.v1.people_schemas import PersonOut
from api.v1.schemas import StrictSchema


class ShareholderIn(StrictSchema):
    holder_customer_id = fields.String(allow_none=True)
    holder_person_id = fields.String(allow_none=True)
    percentage = fields.Decimal(required=True, metadata={"description": "0 < % <= 100"})


class ControllerIn(StrictSchema):
    controller_customer_id = fields.String(allow_none=True)
    controller_person_id = fields.String(allow_none=True)
    basis = fields.String(allow_none=True, metadata={"description": "e.g. 一致行动协议"})


class GuaranteeIn(StrictSchema):
    guarantor_customer_id = fields.String(allow_none=True)
    guarantor_person_id = fields.String(allow_none=True)
    amount = fields.Decimal(required=True)
    currency = fields.String(load_default="CNY")
    facility_id = fields.String(allow_none=True)


class GroupIn(StrictSchema):
    name = fields.String(required=True)
    parent_customer_id = fields.String(required=True)


class MemberIn(StrictSchema):
    customer_id = fields.String(required=True)


class OwnershipOut(Schema):
    id = fields.String()
    kind = fields.String()
    held_id = fields.String()
    holder_customer_id = fields.String(allow_none=True)
    holder_person_id = fields.String(allow_none=True)
    percentage = fields.Decimal(as_string=True, allow_none=True)
    basis = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()


class GuaranteeOut(Schema):
    id = fields.String()
    borrower_id = fields.String()
    guarantor_customer_id = fields.String(allow_none=True)
    guarantor_person_id = fields.String(allow_none=True)
    facility_id = fields.String(allow_none=True)
    amount = fields.Decimal(as_string=True)
    currency = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()


class PartyOut(Schema):
    kind = fields.String(metadata={"description": "customer | person"})
    id = fields.String()
    name = fields.String()


class EdgeOut(Schema):
    id = fields.String()
    percentage = fields.Decimal(as_string=True, allow_none=True)
    basis = fields.String(allow_none=True)
    party = fields.Nested(PartyOut)


class GuaranteeEdgeOut(Schema):
    id = fields.String()
    amount = fields.Decimal(as_string=True)
    currency = fields.String()
    facility_id = fields.String(allow_none=True)
    party = fields.Nested(PartyOut)


class GroupRefOut(Schema):
    id = fields.String()
    name = fields.String()
    parent = fields.Nested(PartyOut)


class RelationshipsOut(Schema):
    shareholders = fields.List(fields.Nested(EdgeOut))
    holdings = fields.List(fields.Nested(EdgeOut))
    controllers = fields.List(fields.Nested(EdgeOut))
    controlled = fields.List(fields.Nested(EdgeOut))
    guarantees_received = fields.List(fields.Nested(GuaranteeEdgeOut))
    guarantees_given = fields.List(fields.Nested(GuaranteeEdgeOut))
    group = fields.Nested(GroupRefOut, allow_none=True)


class ExposureOut(Schema):
    currency = fields.String()
    facility_amount = fields.Decimal(as_string=True)
    loan_balance = fields.Decimal(as_string=True)
    undrawn = fields.Decimal(as_string=True)
    total = fields.Decimal(as_string=True, metadata={"description": "loan_balance + undrawn"})
    customers = fields.Integer()


class MemberOut(Schema):
    id = fields.String()
    name = fields.String()


class GroupSummaryOut(Schema):
    recorded = fields.Nested(GroupRefOut, allow_none=True)
    members = fields.List(fields.Nested(MemberOut))
    member_count = fields.Integer()
    exposure = fields.List(fields.Nested(ExposureOut))


class GroupOut(Schema):
    id = fields.String()
    name = fields.String()
    parent_customer_id = fields.String()
    members = fields.List(fields.Nested(MemberOut))
    created_by = fields.String()
    created_at = fields.DateTime()


class GroupMemberOut(Schema):
    customer_id = fields.String()
    group_id = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()


class BeneficialOwnerOut(Schema):
    person = fields.Nested(PersonOut)
    bases = fields.List(
        fields.String(), metadata={"description": "ownership, control or senior_manager"}
    )
    share = fields.Decimal(as_string=True, metadata={"description": "effective %"})
    chains = fields.Integer()
    role = fields.String(allow_none=True)
