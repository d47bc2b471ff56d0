"""Deployments one by one (read, delete, their resources) and process definition XML/count."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.process_definitions import _by_id, _by_key
from api.engine_rest.query import true_arg
from api.engine_rest.tasks import no_content
from api.engine_rest.wire import RestError, deployment_dto
from api.session import db_session
from app.deployments import definitions, removal, resources
from app.deployments.models import Deployment
from app.errors import NotFoundError

XML_SUFFIXES = (".bpmn", ".dmn", ".xml")


def _deployment(deployment_id: str) -> Deployment:
    try:
        row, _created = definitions.get_deployment(db_session(), deployment_id)
    except NotFoundError:
        raise RestError(
            404, "InvalidRequestException", f"Deployment with id '{deployment_id}' does not exist"
        ) from None
    return row


def resource_dto(item: resources.Resource) -> dict[str, Any]:
    return {"id": item.id, "name": item.name, "deploymentId": item.deployment_id}


@bp.get("/deployment/count")
def count_deployments() -> Response:
    _rows, total = definitions.list_deployments(db_session(), limit=1, offset=0)
    return jsonify({"count": total})


@bp.get("/deployment/<deployment_id>")
def get_deployment(deployment_id: str) -> Response:
    return jsonify(deployment_dto(_deployment(deployment_id)))


@bp.delete("/deployment/<deployment_id>")
def delete_deployment(deployment_id: str) -> Response:
    """Refused while instances of its definitions exist, unless `cascade=true`."""
    _deployment(deployment_id)
    session = db_session()
    removal.delete_deployment(session, actor(), deployment_id, cascade=true_arg("cascade"))
    session.commit()
    return no_content()


@bp.get("/deployment/<deployment_id>/resources")
def list_resources(deployment_id: str) -> Response:
    _deployment(deployment_id)
    return jsonify([resource_dto(r) for r in resources.list_resources(db_session(), deployment_id)])


def _resource_missing(deployment_id: str, resource_id: str) -> RestError:
    return RestError(
        404,
        "InvalidRequestException",
        f"Deployment resource with resource id '{resource_id}' for deployment id "
        f"'{deployment_id}' does not exist.",
    )


@bp.get("/deployment/<deployment_id>/resources/<resource_id>")
def get_resource(deployment_id: str, resource_id: str) -> Response:
    _deployment(deployment_id)
    try:
        item = resources.resource(db_session(), deployment_id, resource_id)
    except NotFoundError:
        raise _resource_missing(deployment_id, resource_id) from None
    return jsonify(resource_dto(item))


@bp.get("/deployment/<deployment_id>/resources/<resource_id>/data")
def get_resource_data(deployment_id: str, resource_id: str) -> Response:
    """The file exactly as uploaded."""
    _deployment(deployment_id)
    try:
        name, content = resources.resource_data(db_session(), deployment_id, resource_id)
    except NotFoundError:
        raise _resource_missing(deployment_id, resource_id) from None
    xml = name.lower().endswith(XML_SUFFIXES) or content.lstrip().startswith(b"<")
    response = Response(content, mimetype="application/xml" if xml else "application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/process-definition/count")
def count_definitions() -> Response:
    _rows, total = definitions.list_processes(
        db_session(),
        key=request.args.get("key") or None,
        latest_only=true_arg("latestVersion"),
        limit=1,
        offset=0,
    )
    return jsonify({"count": total})


def _xml(definition: Any) -> Response:
    text = bytes(definition.content).decode("utf-8", errors="replace")
    return jsonify({"id": definition.id, "bpmn20Xml": text})


@bp.get("/process-definition/<definition_id>/xml")
def definition_xml(definition_id: str) -> Response:
    return _xml(_by_id(definition_id))


@bp.get("/process-definition/key/<key>/xml")
def definition_xml_by_key(key: str) -> Response:
    return _xml(_by_key(key))
