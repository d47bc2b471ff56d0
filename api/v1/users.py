"""Users and their groups (administrators only)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.schemas import UserIn, UserOut
from app.identity.users import create_user

blp = Blueprint(
    "users",
    __name__,
    url_prefix="/api/v1/users",
    description="Staff accounts; candidate groups in BPMN are group ids",
)


@blp.route("")
class Users(MethodView):
    @blp.arguments(UserIn)
    @blp.response(201, UserOut)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a user with a password and group memberships."""
        session = db_session()
        user = create_user(
            session,
            current_actor(),
            body["id"],
            body["password"],
            body["display_name"],
            body["groups"],
            body.get("email"),
        )
        session.commit()
        return user
