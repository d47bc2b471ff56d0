"""Operators' view of pending timers: by instance, by due time."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.bodies import page, paged
from api.v1.schemas import TimerArgs, TimerOut
from app.instances import timers

blp = Blueprint(
    "timers",
    __name__,
    url_prefix="/api/v1/timers",
    description="Pending timers, soonest first (administrators)",
)


@blp.route("")
class TimerList(MethodView):
    @blp.arguments(TimerArgs, location="query")
    @blp.response(200, paged(TimerOut))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Pending timers, soonest first; filter by instance or due before a time."""
        rows, total = timers.pending_timers(
            db_session(),
            current_actor(),
            instance_id=args.get("instance_id"),
            due_before=args.get("due_before"),
            limit=args["limit"],
            offset=args["offset"],
        )
        return page(rows, total, args)
