"""Notification outbox for administrators: see what was sent or failed, retry failures."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.bodies import page, paged
from api.v1.notification_schemas import NotificationArgs, NotificationOut
from app.notifications import outbox

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1/notifications",
    description="E-mails and webhooks sent after a change commits",
)


@blp.route("")
class NotificationList(MethodView):
    @blp.arguments(NotificationArgs, location="query")
    @blp.response(200, paged(NotificationOut))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List notifications newest first, by status and process instance (administrators)."""
        rows, total = outbox.list_notifications(
            db_session(),
            current_actor(),
            status=args.get("status"),
            instance_id=args.get("instance_id"),
            limit=args["limit"],
            offset=args["offset"],
        )
        return page(rows, total, args)


@blp.route("/<notification_id>/retry")
class NotificationRetry(MethodView):
    @blp.response(200, NotificationOut)
    def post(self, notification_id: str) -> Any:
        """Send a failed notification again, with fresh attempts (administrators)."""
        session = db_session()
        notification = outbox.retry(session, current_actor(), notification_id)
        session.commit()
        return notification
