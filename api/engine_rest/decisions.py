"""Decision definitions: query, read, XML, and evaluate with typed variables."""

from __future__ import annotations

from flask import Response, jsonify

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.query import json_body, list_arg, sorting, text_arg, true_arg
from api.engine_rest.variables import to_typed, variables_in
from api.engine_rest.wire import RestError, decision_definition_dto, int_arg, paging
from api.session import db_session
from app.deployments import decisions, definitions
from app.deployments.models import DecisionDefinition
from app.errors import EngineError, NotFoundError

SORTS = {"id", "key", "name", "version", "deploymentId", "deployTime"}


def _filter(first: int, limit: int) -> decisions.DecisionFilter:
    sort, order = sorting(SORTS, "key")
    return decisions.DecisionFilter(
        id=text_arg("decisionDefinitionId"),
        ids=list_arg("decisionDefinitionIdIn"),
        key=text_arg("key"),
        keys=list_arg("keyIn"),
        key_like=text_arg("keyLike"),
        name=text_arg("name"),
        name_like=text_arg("nameLike"),
        deployment_id=text_arg("deploymentId"),
        resource_name=text_arg("resourceName"),
        version=int_arg("version", None),
        latest_only=true_arg("latestVersion"),
        sort=sort,
        order=order,
        limit=limit,
        offset=first,
    )


def _by_id(definition_id: str) -> DecisionDefinition:
    try:
        return definitions.get_decision(db_session(), definition_id)
    except NotFoundError:
        raise RestError(
            404,
            "InvalidRequestException",
            f"No matching decision definition with id: {definition_id}",
        ) from None


def _by_key(key: str) -> DecisionDefinition:
    try:
        return definitions.latest_decision(db_session(), key)
    except NotFoundError:
        raise RestError(
            404,
            "InvalidRequestException",
            f"No matching decision definition with key: {key} and no tenant-id",
        ) from None


@bp.get("/decision-definition")
def list_decisions() -> Response:
    first, limit = paging()
    rows, _total = decisions.list_decisions(db_session(), _filter(first, limit))
    return jsonify([decision_definition_dto(row) for row in rows])


@bp.get("/decision-definition/count")
def count_decisions() -> Response:
    paging()
    _rows, total = decisions.list_decisions(db_session(), _filter(0, 1))
    return jsonify({"count": total})


@bp.get("/decision-definition/<definition_id>")
def get_decision(definition_id: str) -> Response:
    return jsonify(decision_definition_dto(_by_id(definition_id)))


@bp.get("/decision-definition/key/<key>")
def get_decision_by_key(key: str) -> Response:
    return jsonify(decision_definition_dto(_by_key(key)))


def _xml(row: DecisionDefinition) -> Response:
    return jsonify({"id": row.id, "dmnXml": bytes(row.content).decode("utf-8", errors="replace")})


@bp.get("/decision-definition/<definition_id>/xml")
def decision_xml(definition_id: str) -> Response:
    return _xml(_by_id(definition_id))


@bp.get("/decision-definition/key/<key>/xml")
def decision_xml_by_key(key: str) -> Response:
    return _xml(_by_key(key))


def _evaluate(row: DecisionDefinition) -> Response:
    """`{"variables": {…}}` in; one map of typed outputs per matched rule out."""
    values, _declared = variables_in(json_body().get("variables"))
    try:
        results = decisions.evaluate(db_session(), actor(), row, values)
    except EngineError as exc:
        raise RestError(
            500, "RestException", f"Cannot evaluate decision {row.id}: {exc.message}"
        ) from None
    return jsonify([{name: to_typed(value) for name, value in r.items()} for r in results])


@bp.post("/decision-definition/<definition_id>/evaluate")
def evaluate(definition_id: str) -> Response:
    return _evaluate(_by_id(definition_id))


@bp.post("/decision-definition/key/<key>/evaluate")
def evaluate_by_key(key: str) -> Response:
    return _evaluate(_by_key(key))


@bp.post("/decision-definition/key/<key>/tenant-id/<tenant_id>/evaluate")
def evaluate_by_tenant_key(key: str, tenant_id: str) -> Response:
    raise RestError(
        404,
        "InvalidRequestException",
        f"No matching decision definition with key: {key} and tenant-id: {tenant_id} "
        "(corpflow has no tenants)",
    )
