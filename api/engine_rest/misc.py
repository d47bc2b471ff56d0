"""`GET /version` and the Modeler's well-known webapps document at the host root."""

from __future__ import annotations

from flask import Response, jsonify, request

from api.engine_rest.blueprint import bp, wellknown_bp
from api.engine_rest.wire import CAMUNDA_VERSION

WELL_KNOWN = "/.well-known/camunda-automation-platform/webapps"


@bp.get("/version")
def version() -> Response:
    return jsonify({"version": CAMUNDA_VERSION})


@bp.get("/engine")
def engines() -> Response:
    return jsonify([{"name": "default"}])


@wellknown_bp.get(WELL_KNOWN)
def webapps() -> Response:
    """No auth. The Modeler appends `repository?…` / `process-instance/<id>` to `cockpitUrl`;
    the `#/` keeps those links on corpflow's own `/docs` page."""
    docs = request.host_url.rstrip("/") + "/docs#/"
    return jsonify({"adminUrl": docs, "cockpitUrl": docs, "tasklistUrl": docs})
