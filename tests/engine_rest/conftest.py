"""An app with the /engine-rest blueprints registered before its first request."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import ROOT, STAFF, _wipe

TINY = ROOT / "tests" / "bpmn"
CREDIT = ROOT / "bpmn" / "credit_application.bpmn"
AUTHORITY = ROOT / "dmn" / "approval_authority.dmn"

# Appendix A of the reference: the keys pycamunda 0.6.1 reads with data['key'].
DEPLOYMENT_KEYS = {"id", "name", "source", "tenantId", "deploymentTime"}
DEPLOYMENT_WITH_DEFINITIONS_KEYS = DEPLOYMENT_KEYS | {
    "links",
    "deployedProcessDefinitions",
    "deployedCaseDefinitions",
    "deployedDecisionDefinitions",
    "deployedDecisionRequirementsDefinitions",
}
PROCESS_DEFINITION_KEYS = {
    "id",
    "key",
    "category",
    "description",
    "name",
    "version",
    "resource",
    "deploymentId",
    "diagram",
    "suspended",
    "tenantId",
    "versionTag",
    "historyTimeToLive",
    "startableInTasklist",
}
DECISION_DEFINITION_KEYS = {
    "id",
    "key",
    "category",
    "name",
    "version",
    "resource",
    "deploymentId",
    "decisionRequirementsDefinitionId",
    "decisionRequirementsDefinitionKey",
    "tenantId",
    "versionTag",
    "historyTimeToLive",
}
INSTANCE_KEYS = {
    "id",
    "definitionId",
    "businessKey",
    "caseInstanceId",
    "tenantId",
    "suspended",
    "links",
    "ended",
}
DATE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$"


@pytest.fixture(scope="session")
def rest_app(database_url: str) -> Iterator[Flask]:
    """Its own app: blueprints cannot be added to the shared `app` once it served requests."""
    from api import create_app
    from api.engine_rest import bp, wellknown_bp
    from app.config import Settings
    from app.db import transaction
    from app.identity.users import seed_demo_staff

    settings = Settings(
        database_url=database_url, job_mode="eager", deploy_on_startup=False, auth_cache_seconds=300
    )
    flask_app = create_app(settings, TESTING=True)
    for blueprint in (bp, wellknown_bp):
        if blueprint.name not in flask_app.blueprints:
            flask_app.register_blueprint(blueprint)
    services = flask_app.extensions["corpflow"]
    with transaction(services.sessions) as session:
        seed_demo_staff(session)
    yield flask_app
    services.sessions.kw["bind"].dispose()


@pytest.fixture
def rest_sessions(rest_app: Flask) -> Iterator[sessionmaker[Session]]:
    factory: sessionmaker[Session] = rest_app.extensions["corpflow"].sessions
    yield factory
    _wipe(factory)


@pytest.fixture
def rest(rest_app: Flask, rest_sessions: sessionmaker[Session]) -> FlaskClient:
    return rest_app.test_client()


def modeler_deploy(
    client: FlaskClient,
    *files: tuple[str, bytes],
    who: str = "designer",
    path: str = "/engine-rest//deployment/create",
    **fields: str,
) -> Any:
    """The Modeler's multipart body: reserved fields, then each file under its own name."""
    data: dict[str, Any] = {
        "deployment-name": fields.pop("name", "diagram"),
        "deployment-source": "Camunda Modeler",
        "enable-duplicate-filtering": "true",
        **fields,
    }
    for filename, content in files:
        data[filename] = (io.BytesIO(content), filename, "text/xml")
    return client.post(
        path,
        data=data,
        headers={**STAFF[who], "Accept": "application/json"},
        content_type="multipart/form-data",
    )


def file(path: Path) -> tuple[str, bytes]:
    return path.name, path.read_bytes()
