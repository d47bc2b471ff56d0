"""Bearer tokens in exchange for Basic credentials, and who am I."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.schemas import MeOut, TokenOut
from app.identity.credentials import issue_token

blp = Blueprint(
    "tokens",
    __name__,
    url_prefix="/api/v1",
    description="Authentication: HTTP Basic or bearer tokens",
)


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.response(201, TokenOut)
    def post(self) -> dict[str, Any]:
        """Issue a bearer token for the caller (authenticate with Basic)."""
        actor = current_actor()
        session = db_session()
        ttl = current_app.extensions["corpflow"].settings.token_ttl_hours
        token, row = issue_token(session, actor, ttl)
        session.commit()
        return {"token": token, "token_type": "Bearer", "expires_at": row.expires_at}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeOut)
    def get(self) -> dict[str, Any]:
        """The authenticated user and their groups."""
        actor = current_actor()
        return {"id": actor.user_id, "groups": sorted(actor.groups)}
