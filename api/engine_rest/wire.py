"""Camunda 7 wire conventions: dates, error bodies, paging and DTOs with every key present."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify, request

from api.engine_rest.blueprint import PREFIX
from app.deployments.models import DecisionDefinition, Deployment, ProcessDefinition
from app.instances.models import ProcessInstance

CAMUNDA_VERSION = "7.24.0"
DEFAULT_MAX_RESULTS = 1000
REALM = 'Basic realm="default"'
# Exceptions of the REST layer itself; every other type is an engine exception with a code.
_REST_TYPES = frozenset({"RestException", "InvalidRequestException"})


class RestError(Exception):
    """A Camunda error body raised from a view: status, exception type name and message."""

    def __init__(self, status: int, type_: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.extra = extra


def bad_request(message: str) -> RestError:
    return RestError(400, "InvalidRequestException", message)


def camunda_date(value: datetime | None) -> str | None:
    """`yyyy-MM-dd'T'HH:mm:ss.SSSZ`: always milliseconds and a `+hhmm` offset."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    millis = f"{value.microsecond // 1000:03d}"
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + millis + value.strftime("%z")


def error_body(status: int, type_: str, message: str, **extra: Any) -> Response:
    """`{"type", "message", "code"}`: `code` is 0 for engine exceptions, null for REST ones."""
    code = extra.pop("code", None if type_ in _REST_TYPES else 0)
    body: dict[str, Any] = {"type": type_, "message": message, "code": code, **extra}
    response = jsonify(body)
    response.status_code = status
    return response


def unauthorized() -> Response:
    """Camunda's answer without (valid) credentials: 401, empty body, a Basic challenge."""
    return Response(b"", status=401, headers={"WWW-Authenticate": REALM})


def base_url() -> str:
    return request.host_url.rstrip("/") + PREFIX


def links(path: str) -> list[dict[str, str]]:
    return [{"method": "GET", "href": f"{base_url()}{path}", "rel": "self"}]


def int_arg(name: str, default: int | None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(
            f"Cannot set query parameter '{name}' to value '{raw}': "
            "Cannot convert value to java type java.lang.Integer"
        ) from None
    if value < 0:
        raise bad_request(f"Cannot set query parameter '{name}' to value '{raw}': negative")
    return value


def bool_arg(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    return raw.strip().lower() == "true"


def paging() -> tuple[int, int]:
    """`firstResult` and `maxResults`, with Camunda's rule that sorting needs both keys."""
    if bool(request.args.get("sortBy")) != bool(request.args.get("sortOrder")):
        raise bad_request(
            "Only a single sorting parameter specified. sortBy and sortOrder required"
        )
    first = int_arg("firstResult", 0) or 0
    limit = int_arg("maxResults", DEFAULT_MAX_RESULTS)
    return first, DEFAULT_MAX_RESULTS if limit is None else limit


def deployment_dto(row: Deployment) -> dict[str, Any]:
    return {
        "links": links(f"/deployment/{row.id}"),
        "id": row.id,
        "name": row.name,
        "source": row.source,
        "tenantId": None,
        "deploymentTime": camunda_date(row.deployed_at),
    }


def process_definition_dto(row: ProcessDefinition) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "category": None,
        "description": None,
        "name": row.name,
        "version": row.version,
        "resource": row.resource_name,
        "deploymentId": row.deployment_id,
        "diagram": None,
        "suspended": False,
        "tenantId": None,
        "versionTag": None,
        "historyTimeToLive": None,
        "startableInTasklist": True,
    }


def decision_definition_dto(row: DecisionDefinition) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "category": None,
        "name": row.name,
        "version": row.version,
        "resource": row.resource_name,
        "deploymentId": row.deployment_id,
        "decisionRequirementsDefinitionId": None,
        "decisionRequirementsDefinitionKey": None,
        "tenantId": None,
        "versionTag": None,
        "historyTimeToLive": None,
    }


def deployment_with_definitions(
    deployment: Deployment | None,
    definitions: Iterable[ProcessDefinition | DecisionDefinition],
    *,
    name: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """`DeploymentWithDefinitionsDto`; maps are null when empty, as Camunda sends them."""
    if deployment is not None:
        body = deployment_dto(deployment)
    else:  # nothing deployable was uploaded (Camunda Forms only): there is no deployment row
        body = {
            "links": [],
            "id": None,
            "name": name,
            "source": source,
            "tenantId": None,
            "deploymentTime": camunda_date(datetime.now(UTC)),
        }
    processes: dict[str, Any] = {}
    decisions: dict[str, Any] = {}
    for row in definitions:
        if isinstance(row, ProcessDefinition):
            processes[row.id] = process_definition_dto(row)
        else:
            decisions[row.id] = decision_definition_dto(row)
    body["deployedProcessDefinitions"] = processes or None
    body["deployedCaseDefinitions"] = None
    body["deployedDecisionDefinitions"] = decisions or None
    body["deployedDecisionRequirementsDefinitions"] = None
    return body


def instance_dto(
    instance: ProcessInstance, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`ProcessInstanceWithVariablesDto`; `variables` only when the caller asked for them, as
    Camunda does (pycamunda 0.6.1 reads a present `variables` key as a map: null breaks it)."""
    body: dict[str, Any] = {
        "links": links(f"/process-instance/{instance.id}"),
        "id": instance.id,
        "definitionId": instance.definition_id,
        "definitionKey": instance.process_key,
        "businessKey": instance.business_key,
        "caseInstanceId": None,
        "ended": instance.status == "completed",
        "suspended": False,
        "tenantId": None,
    }
    if variables is not None:
        body["variables"] = variables
    return body
