"""The customer 360 view: one call, a fixed number of queries."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.overview_schemas import OverviewOut
from api.v1.people_schemas import RevealArgs
from app.customers import overview

blp = Blueprint(
    "overview",
    __name__,
    url_prefix="/api/v1/customers",
    description="Everything about one customer (客户360)",
)


@blp.route("/<customer_id>/360")
class CustomerOverview(MethodView):
    @blp.arguments(RevealArgs, location="query")
    @blp.response(200, OverviewOut)
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """Profile, relationships, group exposure, owners, lending, work in flight, servicing."""
        session = db_session()
        body = overview.overview(
            session, current_actor(), customer_id, reveal_reason=args.get("reveal_reason")
        )
        if args.get("reveal_reason"):
            session.commit()  # the unmask log
        return body
