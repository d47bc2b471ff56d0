"""marshmallow schemas of the customer store: customers, history, sync, feed, custom fields,
org units."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate

from api.v1.schemas import PageArgs, QuerySchema, StrictSchema
from app.customers.search import CustomerQuery

# Values are checked by the use cases (app.customers.records), which name every bad field in
# one 422; the schemas only shape the request.
_FIELDS = {
    "uscc": fields.String(),
    "name": fields.String(),
    "legal_representative": fields.String(allow_none=True),
    "registered_capital": fields.Raw(allow_none=True),
    "capital_currency": fields.String(allow_none=True),
    "industry_code": fields.String(allow_none=True),
    "region_code": fields.String(allow_none=True),
    "establishment_date": fields.String(allow_none=True),
    "size_class": fields.String(allow_none=True),
    "status": fields.String(),
    "risk_rating": fields.String(allow_none=True),
    "rm_id": fields.String(allow_none=True),
    "team_id": fields.String(allow_none=True),
    "branch_id": fields.String(allow_none=True),
    "custom": fields.Dict(keys=fields.String()),
}

CustomerIn = type(
    "CustomerIn",
    (StrictSchema,),
    {**_FIELDS, "uscc": fields.String(required=True), "name": fields.String(required=True)},
)
CustomerPatch = type(
    "CustomerPatch",
    (StrictSchema,),
    {**_FIELDS, "version": fields.Integer(metadata={"description": "or send If-Match"})},
)


class CustomerArgs(PageArgs):
    name = fields.String(metadata={"description": "part of the name (Chinese or Latin)"})
    uscc = fields.String()
    rm_id = fields.String()
    team_id = fields.String()
    branch_id = fields.String(metadata={"description": "includes its sub-branches"})
    industry = fields.String(metadata={"description": "GB/T 4754 prefix: C, C36, C3612"})
    region = fields.String(metadata={"description": "GB/T 2260 prefix: 31, 3101, 310115"})
    status = fields.String(metadata={"description": "one or more, comma-separated"})
    risk_rating = fields.String(metadata={"description": "one or more, comma-separated"})
    classification = fields.String(
        metadata={
            "description": "customers with an active loan in one of these five-category "
            "classes (normal, special_mention, substandard, doubtful, loss), comma-separated"
        }
    )
    sort = fields.String(
        load_default="name", validate=validate.OneOf(["name", "created", "updated", "uscc"])
    )
    order = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


class SourceIdOut(Schema):
    source_system = fields.String()
    external_id = fields.String()


class CustomerOut(Schema):
    id = fields.String()
    uscc = fields.String()
    name = fields.String()
    legal_representative = fields.String(allow_none=True)
    registered_capital = fields.Decimal(as_string=True, allow_none=True)
    capital_currency = fields.String()
    industry_code = fields.String(allow_none=True)
    region_code = fields.String()
    establishment_date = fields.Date(allow_none=True)
    size_class = fields.String(allow_none=True)
    status = fields.String()
    risk_rating = fields.String(allow_none=True)
    rm_id = fields.String(allow_none=True)
    team_id = fields.String(allow_none=True)
    branch_id = fields.String(allow_none=True)
    custom = fields.Dict()
    source_ids = fields.List(fields.Nested(SourceIdOut))
    version = fields.Integer()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_by = fields.String(allow_none=True)
    updated_at = fields.DateTime()


class CustomerPage(Schema):
    items = fields.List(fields.Nested(CustomerOut))
    total = fields.Integer()
    total_exact = fields.Boolean(
        metadata={"description": "false: more than 1,000 match and total is an estimate"}
    )
    limit = fields.Integer()
    offset = fields.Integer()


class CustomerSaved(CustomerOut):
    changed = fields.List(fields.String())
    warnings = fields.List(fields.String())


class ChangeOut(Schema):
    id = fields.Integer()
    customer_id = fields.String()
    version = fields.Integer()
    field = fields.String()
    old_value = fields.Raw(allow_none=True)
    new_value = fields.Raw(allow_none=True)
    source = fields.String()
    source_system = fields.String(allow_none=True)
    changed_by = fields.String(allow_none=True)
    changed_at = fields.DateTime()


class AssignmentOut(Schema):
    rm_id = fields.String(allow_none=True)
    team_id = fields.String(allow_none=True)
    branch_id = fields.String(allow_none=True)
    valid_from = fields.DateTime()
    valid_to = fields.DateTime(allow_none=True)
    assigned_by = fields.String(allow_none=True)


class SyncIn(StrictSchema):
    source_system = fields.String(required=True)
    records = fields.List(fields.Dict(keys=fields.String()), required=True)


class SyncResultOut(Schema):
    index = fields.Integer()
    external_id = fields.Raw(allow_none=True)
    status = fields.String()
    customer_id = fields.String(allow_none=True)
    changed = fields.List(fields.String())
    errors = fields.Dict()
    warnings = fields.List(fields.String())


class SyncOut(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    results = fields.List(fields.Nested(SyncResultOut))


class FeedArgs(QuerySchema):
    since = fields.String(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 5000))


class FeedOut(Schema):
    items = fields.List(fields.Nested(ChangeOut))
    next_cursor = fields.String(allow_none=True)


class CustomFieldIn(StrictSchema):
    key = fields.String(required=True)
    label = fields.String()
    type = fields.String(required=True)
    required = fields.Raw()
    enum_values = fields.Raw()
    minimum = fields.Raw(allow_none=True)
    maximum = fields.Raw(allow_none=True)
    pattern = fields.String(allow_none=True)
    sensitivity = fields.String()
    visible_to = fields.Raw()
    editable_by = fields.Raw()
    active = fields.Raw()


CustomFieldPatch = type(
    "CustomFieldPatch",
    (StrictSchema,),
    {k: v for k, v in CustomFieldIn._declared_fields.items() if k not in ("key", "type")},
)


class CustomFieldOut(Schema):
    key = fields.String()
    label = fields.String()
    type = fields.String()
    required = fields.Boolean()
    enum_values = fields.List(fields.String())
    minimum = fields.Raw(allow_none=True)
    maximum = fields.Raw(allow_none=True)
    pattern = fields.String(allow_none=True)
    sensitivity = fields.String()
    visible_to = fields.List(fields.String())
    editable_by = fields.List(fields.String())
    active = fields.Boolean()
    created_at = fields.DateTime()


class OrgUnitIn(StrictSchema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    parent_id = fields.String(allow_none=True)


class OrgUnitOut(Schema):
    id = fields.String()
    parent_id = fields.String(allow_none=True)
    kind = fields.String()
    name = fields.String()
    path = fields.String()


class PlacementIn(StrictSchema):
    role = fields.String(required=True)


class PlacementOut(Schema):
    user_id = fields.String()
    unit_id = fields.String()
    role = fields.String()
    placed_at = fields.DateTime()


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def customer_query(
    args: Mapping[str, Any], query_string: Mapping[str, str], **paging: int
) -> CustomerQuery:
    """The search's filters from CustomerArgs and the raw `custom.<key>` parameters."""
    return CustomerQuery(
        name=args.get("name"),
        uscc=args.get("uscc"),
        rm_id=args.get("rm_id"),
        team_id=args.get("team_id"),
        branch_id=args.get("branch_id"),
        industry=args.get("industry"),
        region=args.get("region"),
        status=_list(args.get("status")),
        risk_rating=_list(args.get("risk_rating")),
        classification=_list(args.get("classification")),
        custom={k: v for k, v in query_string.items() if k.startswith("custom.")},
        sort=args["sort"],
        order=args["order"],
        **paging,
    )
