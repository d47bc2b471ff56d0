"""Camunda's error bodies for `/engine-rest`: domain errors mapped per the reference, §3."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Response, g
from werkzeug.exceptions import HTTPException

from api.engine_rest.blueprint import bp
from api.engine_rest.wire import RestError, error_body, unauthorized
from api.errors import request_id
from app.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    EngineError,
    InvalidInputError,
    ModelError,
    NotFoundError,
    PermissionDeniedError,
)

log = logging.getLogger(__name__)

PARSE_PREFIX = "ENGINE-09005 Could not parse BPMN process."
_LINE = re.compile(r"\bline (\d+)")
_ELEMENT = re.compile(r"\belement '([^']+)'")
_DECISION = re.compile(r"\bdecision '([^']+)'")


def _with_errors(message: str, errors: dict[str, Any]) -> str:
    """The summary plus each field's reason, so clients that show only `message` say why."""
    if not errors:
        return message
    reasons = "; ".join(f"{field}: {reason}" for field, reason in errors.items())
    return f"{message}: {reasons}"


def _issue(message: str) -> dict[str, Any]:
    """One `ProblemDto`. Line and element come out of corpflow's lint text for now."""
    line = _LINE.search(message)
    element = _ELEMENT.search(message) or _DECISION.search(message)
    element_id = element.group(1) if element else None
    return {
        "message": message,
        "line": int(line.group(1)) if line else 0,
        "column": 0,
        "mainElementId": element_id,
        "elementIds": [element_id] if element_id else [],
    }


def _structured(issue: dict[str, Any]) -> dict[str, Any]:
    element_id = issue.get("element_id")
    return {
        "message": issue.get("message", ""),
        "line": issue.get("line") or 0,
        "column": 0,
        "mainElementId": element_id,
        "elementIds": [element_id] if element_id else [],
    }


def parse_exception(exc: ModelError) -> Response:
    """400 `ParseException` with per-resource details; the Modeler shows "could not parse"."""
    details: dict[str, Any] = {}
    structured = exc.details.get("issues") or {}
    for filename, messages in (exc.errors or {}).items():
        if filename in structured:
            found = [_structured(issue) for issue in structured[filename]]
        else:  # a ModelError raised without structured issues: read line/element from text
            items = messages if isinstance(messages, list) else [messages]
            found = [_issue(str(m)) for m in items]
        details[filename] = {"errors": found, "warnings": []}
    first = next(
        (entry["errors"][0]["message"] for entry in details.values() if entry["errors"]),
        exc.message,
    )
    return error_body(400, "ParseException", f"{PARSE_PREFIX} Errors: {first}", details=details)


def domain_error(exc: DomainError) -> Response:
    if isinstance(exc, AuthenticationError):
        return unauthorized()
    if isinstance(exc, ModelError):
        return parse_exception(exc)
    if isinstance(exc, PermissionDeniedError):
        user = getattr(g, "actor", None)
        return error_body(
            403,
            "AuthorizationException",
            exc.message,
            userId=user.user_id if user is not None else None,
            missingAuthorizations=[],
        )
    if isinstance(exc, NotFoundError):
        return error_body(404, "RestException", exc.message)
    if isinstance(exc, InvalidInputError):
        return error_body(400, "InvalidRequestException", _with_errors(exc.message, exc.errors))
    if isinstance(exc, ConflictError | EngineError):
        return error_body(500, "ProcessEngineException", exc.message)
    return error_body(400, "InvalidRequestException", exc.message)


def rest_error(exc: RestError) -> Response:
    return error_body(exc.status, exc.type, exc.message, **exc.extra)


def http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    kind = "InvalidRequestException" if status in (400, 413, 415) else "RestException"
    return error_body(status, kind, exc.description or exc.name or "error")


def unexpected(exc: Exception) -> Response:
    rid = request_id()
    log.exception("unhandled error in /engine-rest, request_id=%s", rid)
    return error_body(
        500,
        "ProcessEngineException",
        f"An unexpected error occurred; quote request id {rid}",
    )


bp.register_error_handler(DomainError, domain_error)
bp.register_error_handler(RestError, rest_error)
bp.register_error_handler(HTTPException, http_error)
bp.register_error_handler(Exception, unexpected)
