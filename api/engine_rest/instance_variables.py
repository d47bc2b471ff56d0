"""Process instances: cancel (DELETE), and read, write and delete their variables."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.process_instances import running_instance
from api.engine_rest.query import json_body
from api.engine_rest.tasks import no_content
from api.engine_rest.variables import to_plain, to_typed, variables_in
from api.engine_rest.wire import RestError, bad_request
from api.session import db_session
from app.errors import NotFoundError
from app.instances import lifecycle, variables


def modifications() -> tuple[dict[str, Any], list[str]]:
    """`{"modifications": {name: VariableValueDto}, "deletions": [names]}` as plain values."""
    body = json_body()
    values, _declared = variables_in(body.get("modifications"))
    deletions = body.get("deletions") or []
    if not isinstance(deletions, list) or not all(isinstance(d, str) for d in deletions):
        raise bad_request("deletions must be a list of variable names")
    return values, deletions


def one_value(name: str) -> Any:
    """The body of `PUT …/variables/{name}`: one VariableValueDto."""
    value, _declared = to_plain(name, json_body())
    return value


def variable_dto(found: dict[str, Any], name: str, what: str) -> Response:
    if name not in found:
        raise RestError(
            404, "InvalidRequestException", f"{what} variable with name {name} does not exist"
        )
    return jsonify(to_typed(found[name]))


@bp.delete("/process-instance/<instance_id>")
def delete_instance(instance_id: str) -> Response:
    """Cancel the instance (its history is kept); `failIfNotExists=false` makes a missing
    instance a success, as in Camunda."""
    fail = request.args.get("failIfNotExists", "true").strip().lower() != "false"
    session = db_session()
    try:
        running_instance(instance_id)
        lifecycle.cancel(
            session, actor(), instance_id, reason=request.args.get("deleteReason") or None
        )
    except (RestError, NotFoundError):
        if fail:
            raise RestError(
                404,
                "InvalidRequestException",
                f"Process instance with id {instance_id} does not exist",
            ) from None
        return no_content()
    session.commit()
    return no_content()


@bp.post("/process-instance/<instance_id>/variables")
def modify_variables(instance_id: str) -> Response:
    values, deletions = modifications()
    running_instance(instance_id)
    session = db_session()
    variables.set_variables(session, actor(), instance_id, values, deletions)
    session.commit()
    return no_content()


@bp.get("/process-instance/<instance_id>/variables/<name>")
def get_variable(instance_id: str, name: str) -> Response:
    found = dict(running_instance(instance_id).variables)
    return variable_dto(found, name, "process instance")


@bp.put("/process-instance/<instance_id>/variables/<name>")
def put_variable(instance_id: str, name: str) -> Response:
    value = one_value(name)
    running_instance(instance_id)
    session = db_session()
    variables.set_variables(session, actor(), instance_id, {name: value})
    session.commit()
    return no_content()


@bp.delete("/process-instance/<instance_id>/variables/<name>")
def delete_variable(instance_id: str, name: str) -> Response:
    running_instance(instance_id)
    session = db_session()
    variables.set_variables(session, actor(), instance_id, {}, [name])
    session.commit()
    return no_content()
