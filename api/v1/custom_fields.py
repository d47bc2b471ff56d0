"""Custom fields: administrators define them at run time; values live on the customer."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.customer_schemas import CustomFieldIn, CustomFieldOut, CustomFieldPatch
from app.customers import custom_fields

blp = Blueprint(
    "custom_fields",
    __name__,
    url_prefix="/api/v1/custom-fields",
    description="Customer fields defined at run time, validated like built-in ones",
)


@blp.route("")
class CustomFieldList(MethodView):
    @blp.response(200, CustomFieldOut(many=True))
    def get(self) -> Any:
        """The custom fields I may see."""
        return custom_fields.list_fields(db_session(), current_actor())

    @blp.arguments(CustomFieldIn)
    @blp.response(201, CustomFieldOut)
    def post(self, body: dict[str, Any]) -> Any:
        """Define a field: key, label, type (string, number, integer, boolean, date, enum),
        required, enum_values, minimum/maximum, pattern, sensitivity (C1-C3), visible_to and
        editable_by (group ids; empty = everyone who may see / change the customer)."""
        session = db_session()
        field = custom_fields.define(session, current_actor(), body)
        session.commit()
        return field


@blp.route("/<key>")
class CustomFieldItem(MethodView):
    @blp.response(200, CustomFieldOut)
    def get(self, key: str) -> Any:
        """One custom field."""
        return custom_fields.get(db_session(), current_actor(), key)

    @blp.arguments(CustomFieldPatch)
    @blp.response(200, CustomFieldOut)
    def patch(self, body: dict[str, Any], key: str) -> Any:
        """Change a definition (not its key or type); `active: false` retires it."""
        session = db_session()
        field = custom_fields.change(session, current_actor(), key, body)
        session.commit()
        return field
