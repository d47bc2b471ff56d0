"""Camunda Modeler's Deploy and Start-instance clicks against /engine-rest, request by request."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.conftest import STAFF, basic
from tests.engine_rest.conftest import (
    CREDIT,
    DATE,
    DEPLOYMENT_WITH_DEFINITIONS_KEYS,
    INSTANCE_KEYS,
    PROCESS_DEFINITION_KEYS,
    TINY,
    file,
    modeler_deploy,
)

PROBE = "/engine-rest/deployment?maxResults=0"


def test_probe_without_credentials_is_a_bare_401(rest: FlaskClient) -> None:
    response = rest.get(PROBE, headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="default"'
    assert response.data == b""


def test_wrong_credentials_get_the_same_401(rest: FlaskClient) -> None:
    for headers in (
        basic("designer_zhou", "wrong"),
        basic("nobody", "x"),
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic !!!"},
    ):
        response = rest.get(PROBE, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"] == 'Basic realm="default"'
        assert response.data == b""


def test_unknown_paths_need_auth_then_answer_in_camunda_format(rest: FlaskClient) -> None:
    assert rest.get("/engine-rest/no-such-thing").status_code == 401
    response = rest.get("/engine-rest/no-such-thing", headers=STAFF["rm"])
    assert response.status_code == 404
    assert response.get_json()["type"] == "RestException"


def test_preflight_needs_no_credentials(rest: FlaskClient) -> None:
    for path in ("/engine-rest/deployment/create", "/engine-rest//deployment/create"):
        response = rest.options(
            path,
            headers={
                "Origin": "null",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert response.status_code in (200, 204), path
        assert response.headers["Access-Control-Allow-Origin"] in ("*", "null")
        assert response.headers["Access-Control-Allow-Headers"] == (
            "Authorization, Content-Type, Accept"
        )
        assert response.headers["Access-Control-Allow-Methods"] == (
            "GET, POST, PUT, DELETE, OPTIONS"
        )


def test_every_response_allows_the_origin(rest: FlaskClient) -> None:
    origin = {"Origin": "file://"}
    assert rest.get(PROBE, headers=origin).headers["Access-Control-Allow-Origin"] == "file://"
    ok = rest.get(PROBE, headers={**STAFF["designer"], **origin})
    assert ok.headers["Access-Control-Allow-Origin"] == "file://"
    assert rest.get(PROBE, headers=STAFF["designer"]).headers["Access-Control-Allow-Origin"] == "*"


def test_deploy_click_sequence(rest: FlaskClient) -> None:
    # 1. The probe, with credentials this time; 2. the version (telemetry only).
    probe = rest.get(PROBE, headers=STAFF["designer"])
    assert probe.status_code == 200
    assert probe.get_json() == []
    version = rest.get("/engine-rest/version", headers=STAFF["designer"])
    assert version.get_json() == {"version": "7.24.0"}

    # 3. The deploy itself, to a URL that ended in "/".
    first = modeler_deploy(rest, file(CREDIT), name="credit_application")
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert set(body) >= DEPLOYMENT_WITH_DEFINITIONS_KEYS
    assert body["name"] == "credit_application"
    assert body["source"] == "Camunda Modeler"
    assert re.match(DATE, body["deploymentTime"])
    assert body["links"][0]["href"] == f"http://localhost/engine-rest/deployment/{body['id']}"
    assert body["deployedCaseDefinitions"] is None
    assert body["deployedDecisionRequirementsDefinitions"] is None
    (definition_id, definition), *_ = body["deployedProcessDefinitions"].items()
    assert set(definition) >= PROCESS_DEFINITION_KEYS
    assert definition_id == definition["id"]
    assert re.match(r"^credit_application:1:[0-9a-f-]{36}$", definition_id)
    assert definition["key"] == "credit_application"
    assert definition["version"] == 1
    assert definition["resource"] == "credit_application.bpmn"
    assert definition["deploymentId"] == body["id"]

    # Deploy again (Start instance always redeploys): nothing new, but the same filled answer.
    again = modeler_deploy(rest, file(CREDIT), name="credit_application")
    assert again.status_code == 200, again.get_json()
    repeat = again.get_json()
    assert repeat["id"] == body["id"]
    assert list(repeat["deployedProcessDefinitions"]) == [definition_id]
    assert repeat["deployedProcessDefinitions"][definition_id]["version"] == 1

    # 4. The well-known document, at the host root and without credentials.
    webapps = rest.get("/.well-known/camunda-automation-platform/webapps")
    assert webapps.status_code == 200
    urls = webapps.get_json()
    assert set(urls) == {"adminUrl", "cockpitUrl", "tasklistUrl"}
    assert urls["cockpitUrl"].startswith("http://localhost/docs")

    listed = rest.get("/engine-rest/deployment", headers=STAFF["designer"]).get_json()
    assert [d["id"] for d in listed] == [body["id"]]


def test_start_instance_sequence(rest: FlaskClient) -> None:
    deployed = modeler_deploy(rest, file(TINY / "one_user_task.bpmn"), name="one_user_task")
    assert deployed.status_code == 200, deployed.get_json()
    definition_id = next(iter(deployed.get_json()["deployedProcessDefinitions"]))
    started = rest.post(
        f"/engine-rest//process-definition/{definition_id}/start",
        json={"businessKey": None, "variables": None},
        headers=STAFF["designer"],
    )
    assert started.status_code == 200, started.get_json()
    instance = started.get_json()
    assert set(instance) >= INSTANCE_KEYS
    assert instance["definitionId"] == definition_id
    assert instance["businessKey"] is None
    assert instance["ended"] is False
    assert instance["links"][0]["href"].endswith(f"/engine-rest/process-instance/{instance['id']}")


def test_only_designers_deploy(rest: FlaskClient) -> None:
    response = modeler_deploy(rest, file(TINY / "one_user_task.bpmn"), who="rm")
    assert response.status_code == 403
    body = response.get_json()
    assert body["type"] == "AuthorizationException"
    assert body["userId"] == "rm_li"
    assert "process_designer" in body["message"]


def test_credit_start_rules_come_from_the_use_case(rest: FlaskClient) -> None:
    deployed = modeler_deploy(rest, file(CREDIT))
    definition_id = next(iter(deployed.get_json()["deployedProcessDefinitions"]))
    path = f"/engine-rest/process-definition/{definition_id}/start"
    not_starter = rest.post(path, json={"variables": None}, headers=STAFF["designer"])
    assert not_starter.status_code == 403
    assert not_starter.get_json()["type"] == "AuthorizationException"
    no_form = rest.post(path, json={"businessKey": "bk", "variables": None}, headers=STAFF["rm"])
    assert no_form.status_code == 400
    body = no_form.get_json()
    assert body["type"] == "InvalidRequestException"
    assert "amount" in body["message"]
    assert "Traceback" not in no_form.get_data(as_text=True)
