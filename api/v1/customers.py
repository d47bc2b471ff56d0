"""Customers: the minimum the credit process needs (create, read, list)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.bodies import page, paged
from api.v1.schemas import CustomerArgs, CustomerIn, CustomerOut
from app.customers import customers

blp = Blueprint(
    "customers",
    __name__,
    url_prefix="/api/v1/customers",
    description="Corporate customers keyed by USCC",
)


@blp.route("")
class CustomerList(MethodView):
    @blp.arguments(CustomerArgs, location="query")
    @blp.response(200, paged(CustomerOut))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search customers by name, USCC or RM."""
        rows, total = customers.list_customers(
            db_session(),
            current_actor(),
            name=args.get("name"),
            uscc_code=args.get("uscc"),
            rm_id=args.get("rm_id"),
            limit=args["limit"],
            offset=args["offset"],
        )
        return page(rows, total, args)

    @blp.arguments(CustomerIn)
    @blp.response(201, CustomerOut)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a customer; the USCC's GB 32100-2015 check character is verified."""
        session = db_session()
        customer = customers.create(session, current_actor(), body)
        session.commit()
        return customer


@blp.route("/<customer_id>")
class CustomerItem(MethodView):
    @blp.response(200, CustomerOut)
    def get(self, customer_id: str) -> Any:
        """A customer (facilities: /customers/{id}/facilities; everything: /customers/{id}/360)."""
        return customers.get(db_session(), current_actor(), customer_id)
