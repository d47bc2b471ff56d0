"""`POST /message`: Camunda's message correlation, 204 or the list of results."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.process_instances import process_instance_dto
from api.engine_rest.variables import variables_in, variables_out
from api.engine_rest.wire import RestError, bad_request
from api.session import db_session
from app.errors import ConflictError
from app.messages import correlation

# Camunda's exception type for "no match" and "more than one match".
MISMATCH = "MismatchingMessageCorrelationException"


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{name} must be a string")
    return value or None


def _message(body: dict[str, Any]) -> correlation.Message:
    name = _text(body, "messageName")
    if name is None:
        raise bad_request("No message name supplied")
    if body.get("tenantId") is not None and body.get("withoutTenantId"):
        raise bad_request(
            "Parameter 'tenantId' cannot be used together with parameter 'withoutTenantId'."
        )
    if body.get("variablesInResultEnabled") and not body.get("resultEnabled"):
        raise bad_request(
            "Parameter 'variablesInResultEnabled' cannot be used without 'resultEnabled' set "
            "to true."
        )
    keys, _ = variables_in(body.get("correlationKeys"))
    local_keys, _ = variables_in(body.get("localCorrelationKeys"))
    values, _ = variables_in(body.get("processVariables"))
    # processVariablesLocal reach the catching task like processVariables: corpflow has no
    # separate execution-local scope for a message catcher.
    local_values, _ = variables_in(body.get("processVariablesLocal"))
    return correlation.Message(
        name=name,
        business_key=_text(body, "businessKey"),
        instance_id=_text(body, "processInstanceId"),
        correlation_keys=keys,
        local_correlation_keys=local_keys,
        variables={**values, **local_values},
        all=bool(body.get("all")),
    )


def _result(item: correlation.Correlated, with_variables: bool) -> dict[str, Any]:
    instance = item.instance
    execution = item.kind == "Execution"
    body: dict[str, Any] = {
        "resultType": item.kind,
        "processInstance": None if execution else process_instance_dto(instance),
        "execution": (
            {
                "id": instance.id,
                "processInstanceId": instance.id,
                "ended": instance.status != "running",
                "tenantId": None,
            }
            if execution
            else None
        ),
    }
    # Only when asked for: pycamunda 0.6.1 iterates a present `variables` key.
    if with_variables:
        body["variables"] = variables_out(dict(instance.variables), {})
    return body


@bp.post("/message")
def correlate_message() -> Response:
    body: Any = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object (CorrelationMessageDto)")
    message = _message(body)
    session = db_session()
    try:
        results = correlation.correlate(session, actor(), message)
    except ConflictError as exc:
        if exc.code not in ("message_not_correlated", "message_ambiguous"):
            raise
        raise RestError(400, MISMATCH, exc.message) from None
    session.commit()
    if not body.get("resultEnabled"):
        return Response(status=204)
    with_variables = bool(body.get("variablesInResultEnabled"))
    return jsonify([_result(item, with_variables) for item in results])
