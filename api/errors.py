"""The one problem+json error body for /api/v1 and the health endpoints."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from app.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    EngineError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)

log = logging.getLogger(__name__)

STATUS: dict[type[DomainError], int] = {
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    InvalidInputError: 422,
    # The model cannot go on (no gateway condition matched, an expression failed): the request
    # changed nothing and the caller needs to know why, but it is not the caller's input.
    EngineError: 409,
}


def request_id() -> str:
    rid = getattr(g, "request_id", None)
    if rid is None:
        rid = request.headers.get("X-Request-Id") or str(uuid.uuid4())
        g.request_id = rid
    return str(rid)


def problem(
    status: int, title: str, detail: str, code: str, errors: dict[str, Any] | None = None
) -> Response:
    body: dict[str, Any] = {
        "type": f"https://corpflow.dev/problems/{code.replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id(),
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="corpflow", Bearer'
    return response


def _status_of(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 400


def handle_domain_error(exc: DomainError) -> Response:
    status = _status_of(exc)
    errors = getattr(exc, "errors", None)
    return problem(status, _TITLES.get(status, "Error"), exc.message, exc.code, errors)


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if status == 422 and messages:
        # marshmallow errors arrive grouped by location (json, query, files ...): flatten them.
        errors: dict[str, Any] = {}
        for location in messages.values():
            errors.update(location)
        return problem(
            422, "Unprocessable Entity", "the request has invalid fields", "invalid_input", errors
        )
    code = (exc.name or "error").lower().replace(" ", "_")
    return problem(status, exc.name or "Error", exc.description or exc.name or "error", code)


def handle_unexpected(exc: Exception) -> Response:
    rid = request_id()
    log.exception("unhandled error, request_id=%s", rid)
    return problem(
        500,
        "Internal Server Error",
        f"an unexpected error occurred; quote request id {rid}",
        "internal_error",
    )


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
}


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
