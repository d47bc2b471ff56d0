"""marshmallow schemas of facilities, loans and loan classification."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.v1.schemas import StrictSchema
from app.lending import categories, facilities


class FacilityIn(StrictSchema):
    product = fields.String(required=True, validate=validate.OneOf(facilities.PRODUCTS))
    amount = fields.Decimal(required=True, metadata={"description": "limit, 2 decimals"})
    currency = fields.String(load_default="CNY", metadata={"description": "ISO 4217"})
    start_date = fields.Date(required=True)
    maturity_date = fields.Date(required=True)
    guarantee_type = fields.String(
        required=True, validate=validate.OneOf(facilities.GUARANTEE_TYPES)
    )


class LoanIn(StrictSchema):
    facility_id = fields.String(required=True)
    contract_no = fields.String(required=True)
    amount = fields.Decimal(required=True)
    balance = fields.Decimal(metadata={"description": "outstanding; default: the amount"})
    currency = fields.String(metadata={"description": "must be the facility's currency"})
    start_date = fields.Date(required=True)
    maturity_date = fields.Date(required=True)
    days_overdue = fields.Integer(load_default=0)


class LoanServiceIn(StrictSchema):
    balance = fields.Decimal()
    days_overdue = fields.Integer()


class ClassifyIn(StrictSchema):
    classification = fields.String(
        required=True,
        validate=validate.OneOf(categories.CATEGORIES),
        metadata={"description": "正常 normal, 关注 special_mention, 次级 substandard, "
                  "可疑 doubtful, 损失 loss"},
    )  # fmt: skip
    reason = fields.String(required=True)


class LoanOut(Schema):
    id = fields.String()
    facility_id = fields.String()
    customer_id = fields.String()
    contract_no = fields.String()
    amount = fields.Decimal(as_string=True)
    balance = fields.Decimal(as_string=True)
    currency = fields.String()
    start_date = fields.Date()
    maturity_date = fields.Date()
    days_overdue = fields.Integer()
    classification = fields.String()
    status = fields.String()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class FacilityOut(Schema):
    id = fields.String()
    customer_id = fields.String()
    product = fields.String()
    amount = fields.Decimal(as_string=True)
    currency = fields.String()
    term_months = fields.Integer()
    start_date = fields.Date(allow_none=True)
    maturity_date = fields.Date(allow_none=True)
    guarantee_type = fields.String()
    approver_group = fields.String(allow_none=True)
    status = fields.String()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class FacilityWithLoans(FacilityOut):
    loans = fields.List(fields.Nested(LoanOut))
    worst_classification = fields.String(allow_none=True)


class ClassificationOut(Schema):
    id = fields.Integer()
    loan_id = fields.String()
    from_category = fields.String(attribute="from_category", data_key="from", allow_none=True)
    to_category = fields.String(attribute="to_category", data_key="to")
    reason = fields.String()
    changed_by = fields.String()
    changed_at = fields.DateTime()
