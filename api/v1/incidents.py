"""Incidents for operators: what failed, and retrying it once fixed."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.bodies import page, paged
from api.v1.schemas import IncidentArgs, IncidentOut
from app.instances import incidents

blp = Blueprint(
    "incidents",
    __name__,
    url_prefix="/api/v1/incidents",
    description="Failed timers and service jobs (administrators)",
)


@blp.route("")
class IncidentList(MethodView):
    @blp.arguments(IncidentArgs, location="query")
    @blp.response(200, paged(IncidentOut))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Incidents, newest first; open ones by default."""
        rows, total = incidents.list_incidents(
            db_session(),
            current_actor(),
            open_only=args["open"],
            instance_id=args.get("instance_id"),
            limit=args["limit"],
            offset=args["offset"],
        )
        return page(rows, total, args)


@blp.route("/<incident_id>/retry")
class RetryIncident(MethodView):
    @blp.response(200, IncidentOut)
    def post(self, incident_id: str) -> Any:
        """Retry the failed timer or service job and resolve the incident."""
        session = db_session()
        incident = incidents.retry(session, current_actor(), incident_id)
        session.commit()
        return incident
