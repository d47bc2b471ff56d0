"""Process instances (runtime): list, read, and read variables. Ended instances are gone."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.variables import variables_out
from api.engine_rest.wire import RestError, links, paging
from api.session import db_session
from app.errors import NotFoundError, PermissionDeniedError
from app.instances import lifecycle
from app.instances.models import ProcessInstance

RUNNING = "running"


def process_instance_dto(instance: ProcessInstance) -> dict[str, Any]:
    """`ProcessInstanceDto`: every key pycamunda reads, plus `definitionKey` and `ended`."""
    return {
        "links": links(f"/process-instance/{instance.id}"),
        "id": instance.id,
        "definitionId": instance.definition_id,
        "definitionKey": instance.process_key,
        "businessKey": instance.business_key,
        "caseInstanceId": None,
        "ended": instance.status != RUNNING,
        "suspended": False,
        "tenantId": None,
    }


def _missing(instance_id: str) -> RestError:
    return RestError(404, "RestException", f"Process instance with id {instance_id} does not exist")


def running_instance(instance_id: str) -> ProcessInstance:
    """A running instance the caller may see. Like Camunda's runtime API, an ended instance
    (and one the caller may not see) is a 404: it lives on only in history."""
    try:
        instance = lifecycle.get(db_session(), actor(), instance_id)
    except (NotFoundError, PermissionDeniedError):
        raise _missing(instance_id) from None
    if instance.status != RUNNING:
        raise _missing(instance_id)
    return instance


def _ids() -> list[str]:
    """`processInstanceIds`: a comma list, or repeated parameters (pycamunda's style)."""
    ids: list[str] = []
    for raw in request.args.getlist("processInstanceIds"):
        ids.extend(part.strip() for part in raw.split(",") if part.strip())
    return list(dict.fromkeys(ids))


def _matching() -> tuple[list[ProcessInstance], int]:
    first, limit = paging()
    key = request.args.get("processDefinitionKey") or None
    business_key = request.args.get("businessKey") or None
    ids = _ids()
    if not ids:
        return lifecycle.list_instances(
            db_session(),
            actor(),
            process_key=key,
            status=RUNNING,
            business_key=business_key,
            limit=limit,
            offset=first,
        )
    found: list[ProcessInstance] = []
    for instance_id in ids:
        try:
            instance = running_instance(instance_id)
        except RestError:
            continue
        if key is not None and instance.process_key != key:
            continue
        if business_key is not None and instance.business_key != business_key:
            continue
        found.append(instance)
    return found[first : first + limit], len(found)


@bp.get("/process-instance")
def list_instances() -> Response:
    rows, _total = _matching()
    return jsonify([process_instance_dto(row) for row in rows])


@bp.get("/process-instance/count")
def count_instances() -> Response:
    _rows, total = _matching()
    return jsonify({"count": total})


@bp.get("/process-instance/<instance_id>")
def get_instance(instance_id: str) -> Response:
    return jsonify(process_instance_dto(running_instance(instance_id)))


@bp.get("/process-instance/<instance_id>/variables")
def get_variables(instance_id: str) -> Response:
    """`{name: VariableValueDto}`; corpflow stores plain values, so types are inferred."""
    instance = running_instance(instance_id)
    return jsonify(variables_out(dict(instance.variables), {}))
