"""Every `/engine-rest` request: CORS preflights, Basic/Bearer auth, `//` paths, unknown paths."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from api.auth import credentials_actor
from api.engine_rest.blueprint import PREFIX, bp, wellknown_bp
from api.engine_rest.wire import RestError, unauthorized
from app.errors import AuthenticationError
from app.identity.actor import Actor

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
ALLOW_HEADERS = "Authorization, Content-Type, Accept"
ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS"


def _allow_origin(response: Response) -> Response:
    """Permissive CORS: echo the caller's Origin (`null` and `file://` included), else `*`."""
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin") or "*"
    response.vary.add("Origin")
    return response


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
    response.headers["Access-Control-Max-Age"] = "3600"
    return response


@bp.before_request
def authenticate() -> Response | None:
    """Preflights pass without credentials; anything else needs a valid Basic or Bearer."""
    if request.method == "OPTIONS":
        return _preflight()
    try:
        actor = credentials_actor()
    except AuthenticationError:
        return unauthorized()
    if actor is None:
        return unauthorized()
    g.actor = actor
    return None


def actor() -> Actor:
    """The caller `authenticate` resolved for this request."""
    resolved: Actor = g.actor
    return resolved


bp.after_request(_allow_origin)
wellknown_bp.after_request(_allow_origin)


def _double_slash(rest: str) -> ResponseReturnValue:
    """`/engine-rest//deployment/create` (a Modeler URL ending in `/`) runs the normal view."""
    adapter = current_app.create_url_adapter(request)
    if adapter is None:  # pragma: no cover - there is always a request here
        raise NotFound()
    endpoint, args = adapter.match(f"{PREFIX}/{rest.lstrip('/')}", method=request.method)
    view: Any = current_app.view_functions[endpoint]
    return current_app.ensure_sync(view)(**args)  # type: ignore[no-any-return]


def _register_double_slash(state: BlueprintSetupState) -> None:
    # A blueprint joins `//` into `/`, so this rule goes on the app; the `engine_rest.` endpoint
    # name keeps it inside the blueprint (its auth, CORS and error handlers apply).
    state.app.add_url_rule(
        f"{PREFIX}//<path:rest>",
        f"{bp.name}.double_slash",
        _double_slash,
        methods=[*METHODS, "OPTIONS"],
        merge_slashes=False,
        provide_automatic_options=False,
    )


bp.record_once(_register_double_slash)


@bp.route("/<path:_rest>", methods=METHODS)
def unknown(_rest: str) -> ResponseReturnValue:
    """Unknown `/engine-rest` paths answer in Camunda's error format, not problem+json."""
    raise RestError(404, "RestException", f"No resource at {request.path} ({request.method})")
