"""Process instances: start, list, read, history."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.bodies import page, paged, raw
from api.v1.schemas import HistoryOut, InstanceArgs, InstanceDetail, InstanceOut, StartIn
from app.instances import lifecycle, timers
from app.instances.models import ProcessInstance

blp = Blueprint(
    "instances",
    __name__,
    url_prefix="/api/v1/process-instances",
    description="Start and follow process instances",
)


def _detail(instance: ProcessInstance) -> dict[str, Any]:
    body = raw(instance, InstanceOut)
    body.update(
        variables=instance.variables,
        active_elements=instance.active_elements,
        open_tasks=lifecycle.open_tasks(db_session(), instance.id),
        next_timer=timers.next_timer(db_session(), instance.id),
    )
    return body


@blp.route("")
class InstanceList(MethodView):
    @blp.arguments(InstanceArgs, location="query")
    @blp.response(200, paged(InstanceOut))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Instances I started or took part in (all, for administrators)."""
        filters = {k: v for k, v in args.items() if k not in ("limit", "offset")}
        rows, total = lifecycle.list_instances(
            db_session(), current_actor(), **filters, limit=args["limit"], offset=args["offset"]
        )
        return page(rows, total, args)

    @blp.arguments(StartIn)
    @blp.response(201, InstanceDetail)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Start the latest version of a process; start-form variables are validated."""
        session = db_session()
        instance = lifecycle.start(
            session,
            current_actor(),
            lifecycle.StartRequest(
                process_key=body["process_key"],
                variables=body["variables"],
                business_key=body.get("business_key"),
                customer_id=body.get("customer_id"),
            ),
        )
        session.commit()
        return _detail(instance)


@blp.route("/<instance_id>")
class InstanceItem(MethodView):
    @blp.response(200, InstanceDetail)
    def get(self, instance_id: str) -> dict[str, Any]:
        """An instance with its current activities, variables and open tasks."""
        return _detail(lifecycle.get(db_session(), current_actor(), instance_id))


@blp.route("/<instance_id>/history")
class InstanceHistory(MethodView):
    @blp.response(200, HistoryOut(many=True))
    def get(self, instance_id: str) -> list[Any]:
        """Who did what, and when."""
        return lifecycle.history_of(db_session(), current_actor(), instance_id)
