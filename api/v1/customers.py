"""Customers: search, register, read, change (optimistic concurrency), history, sync, feed."""

from __future__ import annotations

import re
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.bodies import page, paged
from api.v1.customer_schemas import (
    AssignmentOut,
    ChangeOut,
    CustomerArgs,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    CustomerSaved,
    FeedArgs,
    FeedOut,
    SyncIn,
    SyncOut,
    customer_query,
)
from api.v1.schemas import PageArgs
from app.customers import assignments, changes, customers, sync
from app.errors import InvalidInputError, PermissionDeniedError

blp = Blueprint(
    "customers",
    __name__,
    url_prefix="/api/v1/customers",
    description="Corporate customers keyed by USCC, scoped by the org tree",
)


def _saved(saved: customers.Saved) -> tuple[dict[str, Any], dict[str, str]]:
    body = customers.profile(db_session(), current_actor(), saved.customer)
    body.update(changed=saved.changed, warnings=saved.warnings)
    return body, {"ETag": f'"{saved.customer.version}"'}


def _expected_version(body: dict[str, Any]) -> int | None:
    """The version the client based its change on: `version` in the body or If-Match."""
    if "version" in body:
        return int(body.pop("version"))
    header = request.headers.get("If-Match")
    if not header:
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d+)"?\s*', header)
    if match is None:
        raise InvalidInputError(
            "invalid If-Match", errors={"If-Match": 'the customer version, e.g. "3"'}
        )
    return int(match.group(1))


@blp.route("")
class CustomerList(MethodView):
    @blp.arguments(CustomerArgs, location="query")
    @blp.response(200, CustomerPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search the customers I may see: name (partial), USCC, RM, team, branch, industry,
        region, status, rating, loan classification (any active loan) and custom fields
        (`custom.<key>=value`, `.gte`, `.lte`). `total` is exact up to 1,000 matches; beyond,
        an estimate with `total_exact` false."""
        session, actor = db_session(), current_actor()
        query = customer_query(args, request.args, limit=args["limit"], offset=args["offset"])
        found = customers.find(session, actor, query)
        body = page(customers.profiles(session, actor, found.customers), found.total, args)
        return {**body, "total_exact": found.total_exact}

    @blp.arguments(CustomerIn)
    @blp.response(201, CustomerSaved)
    def post(self, body: dict[str, Any]) -> Any:
        """Register a customer. The USCC check character is verified (422); a failed GB 11714
        organisation-code check comes back in `warnings`."""
        session = db_session()
        saved = customers.create(session, current_actor(), body)
        session.commit()
        return _saved(saved)


@blp.route("/<customer_id>")
class CustomerItem(MethodView):
    @blp.response(200, CustomerOut)
    def get(self, customer_id: str) -> Any:
        """A customer (404 when it is not in my scope; facilities: /customers/{id}/facilities,
        everything: /customers/{id}/360)."""
        session, actor = db_session(), current_actor()
        customer = customers.get(session, actor, customer_id)
        body = customers.profile(session, actor, customer)
        return body, {"ETag": f'"{customer.version}"'}

    @blp.arguments(CustomerPatch)
    @blp.response(200, CustomerSaved)
    def patch(self, body: dict[str, Any], customer_id: str) -> Any:
        """Change fields. Send the version you read (`version` or If-Match): a stale one is a
        409 whose `errors` name the fields changed since."""
        session = db_session()
        expected = _expected_version(body)
        saved = customers.update(
            session, current_actor(), customer_id, body, expected_version=expected
        )
        session.commit()
        return _saved(saved)


@blp.route("/<customer_id>/history")
class CustomerHistory(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, paged(ChangeOut))
    def get(self, args: dict[str, Any], customer_id: str) -> dict[str, Any]:
        """Who changed what and when (field, old → new, source), newest first."""
        rows, total = customers.history(
            db_session(), current_actor(), customer_id, limit=args["limit"], offset=args["offset"]
        )
        for row in rows:
            row["customer_id"] = customer_id
        return page(rows, total, args)


@blp.route("/<customer_id>/rm-assignments")
class CustomerAssignments(MethodView):
    @blp.response(200, AssignmentOut(many=True))
    def get(self, customer_id: str) -> Any:
        """The RMs (with team and branch) who managed the customer, with validity periods."""
        session = db_session()
        customer = customers.get(session, current_actor(), customer_id)
        return assignments.history(session, customer.id)


@blp.route("/sync")
class CustomerSync(MethodView):
    @blp.arguments(SyncIn)
    @blp.response(200, SyncOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Upsert up to 1,000 records from a core system by (source_system, external_id).
        Per record: created, updated, unchanged or rejected (with errors; it changes
        nothing). Replaying a batch reports every record unchanged."""
        session = db_session()
        results = sync.sync(session, current_actor(), body["source_system"], body["records"])
        session.commit()
        counts = {s: 0 for s in ("created", "updated", "unchanged", "rejected")}
        for result in results:
            counts[result.status] += 1
        return {"counts": counts, "results": results}


@blp.route("/changes")
class CustomerChanges(MethodView):
    @blp.arguments(FeedArgs, location="query")
    @blp.response(200, FeedOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Every customer change in commit order, for systems that follow the store: pass
        `next_cursor` back as `since`."""
        actor = current_actor()
        if not actor.in_group(*sync.SYNC_GROUPS):
            raise PermissionDeniedError("only core systems and administrators read the feed")
        rows, cursor = changes.feed(db_session(), args.get("since"), args["limit"])
        return {"items": rows, "next_cursor": cursor}
