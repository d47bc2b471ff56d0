"""The two blueprints: `/engine-rest` itself and the Modeler's well-known document at the root."""

from __future__ import annotations

from flask import Blueprint

PREFIX = "/engine-rest"

bp = Blueprint("engine_rest", __name__, url_prefix=PREFIX)
wellknown_bp = Blueprint("engine_rest_wellknown", __name__)
