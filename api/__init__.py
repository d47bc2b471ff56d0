"""HTTP interface: the Flask app factory, blueprints, errors and CLI commands."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_smorest import Api

from app.bootstrap import build_services
from app.config import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """config → services (db, queue) → blueprints → errors → CLI; deploy models if asked."""
    from api import calendar_cli, cli, engine_rest, errors, health, session
    from api.v1 import (
        calendar,
        custom_fields,
        customer_export,
        customers,
        deployments,
        imports,
        incidents,
        instances,
        lending,
        notifications,
        org,
        overview,
        people,
        relations,
        servicing,
        tasks,
        timers,
        tokens,
        users,
    )

    settings = settings or Settings.from_env()
    app = Flask("corpflow")
    app.config.update(
        API_TITLE="corpflow",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        JSON_SORT_KEYS=False,
        **overrides,
    )
    services = build_services(settings)
    app.extensions["corpflow"] = services
    session.init_app(app)
    api = Api(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {
                    "basic": {"type": "http", "scheme": "basic"},
                    "bearer": {"type": "http", "scheme": "bearer"},
                }
            },
            "security": [{"basic": []}, {"bearer": []}],
        },
    )
    for blp in (
        tokens.blp,
        users.blp,
        deployments.blp,
        instances.blp,
        tasks.blp,
        customer_export.blp,
        customers.blp,
        imports.blp,
        lending.blp,
        relations.blp,
        people.blp,
        servicing.blp,
        overview.blp,
        custom_fields.blp,
        org.blp,
        calendar.blp,
        notifications.blp,
        timers.blp,
        incidents.blp,
    ):
        api.register_blueprint(blp)
    app.register_blueprint(health.bp)
    # The Camunda 7 REST face (/engine-rest) of the same use cases, and the Modeler's
    # well-known document at the host root; neither is in the native OpenAPI document.
    app.register_blueprint(engine_rest.bp)
    app.register_blueprint(engine_rest.wellknown_bp)
    errors.register(app)
    cli.register(app)
    calendar_cli.register(app)
    if settings.deploy_on_startup:
        cli.deploy_models(services)
    if settings.job_mode == "thread":
        services.queue.start_background(settings.dispatch_interval_seconds)
    return app
