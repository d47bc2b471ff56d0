"""The org tree: units and where staff sit (which decides whose customers they see)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.customer_schemas import OrgUnitIn, OrgUnitOut, PlacementIn, PlacementOut
from app.identity.credentials import AUTH_CACHE
from app.org import units

blp = Blueprint(
    "org",
    __name__,
    url_prefix="/api/v1/org-units",
    description="Head office, branches, sub-branches, teams and their staff",
)


@blp.route("")
class OrgUnitList(MethodView):
    @blp.response(200, OrgUnitOut(many=True))
    def get(self) -> Any:
        """Every unit, parents before children."""
        current_actor()
        return units.list_units(db_session())

    @blp.arguments(OrgUnitIn)
    @blp.response(201, OrgUnitOut)
    def post(self, body: dict[str, Any]) -> Any:
        """Add a unit under a parent (administrators)."""
        session = db_session()
        unit = units.create_unit(
            session, current_actor(), body["id"], body["kind"], body["name"], body.get("parent_id")
        )
        session.commit()
        return unit


@blp.route("/<unit_id>/members")
class OrgUnitMembers(MethodView):
    @blp.response(200, PlacementOut(many=True))
    def get(self, unit_id: str) -> Any:
        """Who sits in the unit (not its sub-units)."""
        current_actor()
        return units.members(db_session(), unit_id)


@blp.route("/<unit_id>/members/<user_id>")
class OrgUnitMember(MethodView):
    @blp.arguments(PlacementIn)
    @blp.response(200, PlacementOut)
    def put(self, body: dict[str, Any], unit_id: str, user_id: str) -> Any:
        """Place a user in the unit with a role (rm, team_lead, manager, staff), replacing
        their earlier placement (administrators). Other API processes pick the change up
        within CORPFLOW_AUTH_CACHE_SECONDS."""
        session = db_session()
        placement = units.place(session, current_actor(), user_id, unit_id, body["role"])
        session.commit()
        AUTH_CACHE.clear()
        return placement
