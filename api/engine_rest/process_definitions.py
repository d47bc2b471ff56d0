"""Process definitions: list, read by id or key, and start instances (the Modeler's ▶)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.variables import variables_in, variables_out
from api.engine_rest.wire import (
    RestError,
    bad_request,
    bool_arg,
    instance_dto,
    paging,
    process_definition_dto,
)
from api.session import db_session
from app.deployments import definitions
from app.deployments.models import ProcessDefinition
from app.errors import NotFoundError
from app.instances import lifecycle


def _by_id(definition_id: str) -> ProcessDefinition:
    try:
        return definitions.get_process(db_session(), definition_id)
    except NotFoundError:
        raise RestError(
            404, "RestException", f"No matching definition with id {definition_id}"
        ) from None


def _by_key(key: str, tenant_id: str | None = None) -> ProcessDefinition:
    if tenant_id is not None:  # corpflow has no tenants, so no definition belongs to one
        raise RestError(
            404,
            "RestException",
            f"No matching process definition with key: {key} and tenant-id: {tenant_id}",
        )
    try:
        return definitions.latest_process(db_session(), key)
    except NotFoundError:
        raise RestError(
            404, "RestException", f"No matching process definition with key: {key} and no tenant-id"
        ) from None


@bp.get("/process-definition")
def list_definitions() -> Response:
    first, limit = paging()
    rows, _total = definitions.list_processes(
        db_session(),
        key=request.args.get("key") or None,
        latest_only=bool(bool_arg("latestVersion")),
        limit=limit,
        offset=first,
    )
    return jsonify([process_definition_dto(row) for row in rows])


@bp.get("/process-definition/<definition_id>")
def get_definition(definition_id: str) -> Response:
    return jsonify(process_definition_dto(_by_id(definition_id)))


@bp.get("/process-definition/key/<key>")
def get_definition_by_key(key: str) -> Response:
    return jsonify(process_definition_dto(_by_key(key)))


@bp.get("/process-definition/key/<key>/tenant-id/<tenant_id>")
def get_definition_by_tenant_key(key: str, tenant_id: str) -> Response:
    return jsonify(process_definition_dto(_by_key(key, tenant_id)))


def _start(definition: ProcessDefinition) -> Response:
    """`StartProcessInstanceDto` in, `ProcessInstanceWithVariablesDto` out."""
    body: Any = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object (StartProcessInstanceDto)")
    business_key = body.get("businessKey")
    if business_key is not None and not isinstance(business_key, str):
        raise bad_request("businessKey must be a string or null")
    if body.get("startInstructions"):
        raise bad_request("corpflow does not support startInstructions: start at the start event")
    values, declared = variables_in(body.get("variables"))
    session = db_session()
    instance = lifecycle.start(
        session,
        actor(),
        lifecycle.StartRequest(
            process_key=definition.key,
            variables=values,
            business_key=business_key or None,
            definition_id=definition.id,
        ),
    )
    session.commit()
    typed = None
    if body.get("withVariablesInReturn"):
        typed = variables_out(instance.variables, declared)
    return jsonify(instance_dto(instance, typed))


@bp.post("/process-definition/<definition_id>/start")
def start_by_id(definition_id: str) -> Response:
    return _start(_by_id(definition_id))


@bp.post("/process-definition/key/<key>/start")
def start_by_key(key: str) -> Response:
    return _start(_by_key(key))


@bp.post("/process-definition/key/<key>/tenant-id/<tenant_id>/start")
def start_by_tenant_key(key: str, tenant_id: str) -> Response:
    return _start(_by_key(key, tenant_id))
