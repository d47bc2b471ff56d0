"""Interactions, complaints (with their SLA) and early-warning risk signals of a customer."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.bodies import page, paged
from api.v1.schemas import PageArgs
from api.v1.servicing_schemas import (
    ComplaintIn,
    ComplaintOut,
    ExtensionIn,
    InteractionIn,
    InteractionOut,
    ResolutionIn,
    SignalIn,
    SignalMoveIn,
    SignalOut,
)
from app.servicing import complaints, interactions, signals

blp = Blueprint(
    "servicing",
    __name__,
    url_prefix="/api/v1/customers",
    description="Visits, calls and notes; complaints; early-warning signals (预警信号)",
)


@blp.route("/<customer_id>/interactions")
class Interactions(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, paged(InteractionOut))
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """Newest first."""
        rows, total = interactions.list_for(
            db_session(), current_actor(), customer_id, limit=args["limit"], offset=args["offset"]
        )
        return page(rows, total, args)

    @blp.arguments(InteractionIn)
    @blp.response(201, InteractionOut)
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """Record a visit, call, video call, branch meeting or note."""
        session = db_session()
        row = interactions.record(session, current_actor(), customer_id, body)
        session.commit()
        return row


@blp.route("/<customer_id>/complaints")
class Complaints(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, paged(ComplaintOut))
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """Open complaints first, then newest first."""
        rows, total = complaints.list_for(
            db_session(), current_actor(), customer_id, limit=args["limit"], offset=args["offset"]
        )
        return page(rows, total, args)

    @blp.arguments(ComplaintIn)
    @blp.response(201, ComplaintOut)
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """Record a complaint; it is due 15 days after receipt (complex: 30)."""
        session = db_session()
        row = complaints.record(session, current_actor(), customer_id, body)
        session.commit()
        return row


@blp.route("/<customer_id>/complaints/<complaint_id>/extension")
class ComplaintExtension(MethodView):
    @blp.arguments(ExtensionIn)
    @blp.response(200, ComplaintOut)
    def post(self, body: dict[str, Any], customer_id: str, complaint_id: str) -> Any:
        """Approve 30 more days for an exceptional case, once (supervisors, branch managers)."""
        session = db_session()
        row = complaints.extend(session, current_actor(), customer_id, complaint_id, body)
        session.commit()
        return row


@blp.route("/<customer_id>/complaints/<complaint_id>/resolution")
class ComplaintResolution(MethodView):
    @blp.arguments(ResolutionIn)
    @blp.response(200, ComplaintOut)
    def post(self, body: dict[str, Any], customer_id: str, complaint_id: str) -> Any:
        """Resolve the complaint with its resolution and root cause."""
        session = db_session()
        row = complaints.resolve(session, current_actor(), customer_id, complaint_id, body)
        session.commit()
        return row


@blp.route("/<customer_id>/risk-signals")
class Signals(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, paged(SignalOut))
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """Open signals first, then newest first."""
        rows, total = signals.list_for(
            db_session(), current_actor(), customer_id, limit=args["limit"], offset=args["offset"]
        )
        return page(rows, total, args)

    @blp.arguments(SignalIn)
    @blp.response(201, SignalOut)
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """Raise a signal; red is due for verification in 3 working days, orange/yellow 10."""
        session = db_session()
        row = signals.raise_signal(session, current_actor(), customer_id, body)
        session.commit()
        return row


@blp.route("/<customer_id>/risk-signals/<signal_id>/status")
class SignalStatus(MethodView):
    @blp.arguments(SignalMoveIn)
    @blp.response(200, SignalOut)
    def post(self, body: dict[str, Any], customer_id: str, signal_id: str) -> Any:
        """Move the signal on: verifying, confirmed, handling, lifted or dismissed."""
        session = db_session()
        row = signals.move(session, current_actor(), customer_id, signal_id, body)
        session.commit()
        return row
