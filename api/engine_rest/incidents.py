"""Open incidents in Camunda's `IncidentDto` shape: list, count, one by id."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.query import date_arg, list_arg, sorting, text_arg
from api.engine_rest.wire import RestError, camunda_date, paging
from api.session import db_session
from app.errors import NotFoundError
from app.instances import incident_queries
from app.instances.models import Incident

# A timer whose step failed is a failed job in Camunda 7 terms (timers are jobs there).
CAMUNDA_TYPES = {
    "failedTimer": "failedJob",
    "failedJob": "failedJob",
    "failedExternalTask": "failedExternalTask",
}
SORTS = {key: key for key in incident_queries.SORTS}


def incident_type(kind: str) -> str:
    return CAMUNDA_TYPES.get(kind, kind)


def incident_dto(row: Incident, definition_id: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "processDefinitionId": definition_id,
        "processInstanceId": row.instance_id,
        "executionId": row.instance_id,
        "incidentTimestamp": camunda_date(row.created_at),
        "incidentType": incident_type(row.kind),
        "activityId": row.element_id,
        "failedActivityId": row.element_id,
        "causeIncidentId": row.id,
        "rootCauseIncidentId": row.id,
        "configuration": row.task_id,
        "tenantId": None,
        "incidentMessage": row.message,
        "jobDefinitionId": None,
        "annotation": None,
    }


def _filter(first: int, limit: int) -> incident_queries.IncidentFilter:
    sort, order = sorting(SORTS, "incidentTimestamp")
    wanted = text_arg("incidentType")
    kinds: tuple[str, ...] = ()
    if wanted is not None:
        kinds = tuple(k for k, t in CAMUNDA_TYPES.items() if t == wanted) or (wanted,)
    return incident_queries.IncidentFilter(
        incident_id=text_arg("incidentId"),
        kinds=kinds,
        message=text_arg("incidentMessage"),
        message_like=text_arg("incidentMessageLike"),
        instance_id=text_arg("processInstanceId") or text_arg("executionId"),
        definition_id=text_arg("processDefinitionId"),
        process_keys=list_arg("processDefinitionKeyIn"),
        element_id=text_arg("activityId") or text_arg("failedActivityId"),
        task_id=text_arg("configuration"),
        created_before=date_arg("incidentTimestampBefore"),
        created_after=date_arg("incidentTimestampAfter"),
        sort=sort,
        order=order,
        limit=limit,
        offset=first,
    )


@bp.get("/incident")
def list_incidents() -> Response:
    first, limit = paging()
    rows, _total = incident_queries.query_incidents(db_session(), actor(), _filter(first, limit))
    return jsonify([incident_dto(row, definition_id) for row, definition_id in rows])


@bp.get("/incident/count")
def count_incidents() -> Response:
    paging()
    _rows, total = incident_queries.query_incidents(db_session(), actor(), _filter(0, 1))
    return jsonify({"count": total})


@bp.get("/incident/<incident_id>")
def get_incident(incident_id: str) -> Response:
    try:
        row, definition_id = incident_queries.get_incident(db_session(), actor(), incident_id)
    except NotFoundError as exc:
        raise RestError(404, "InvalidRequestException", exc.message) from None
    return jsonify(incident_dto(row, definition_id))
