"""POST /deployment/create edge cases, process-definition reads and starts, typed variables."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import STAFF
from tests.engine_rest.conftest import (
    AUTHORITY,
    CREDIT,
    DECISION_DEFINITION_KEYS,
    PROCESS_DEFINITION_KEYS,
    TINY,
    file,
    modeler_deploy,
)

ONE = TINY / "one_user_task.bpmn"
PARSE_PREFIX = "ENGINE-09005 Could not parse BPMN process."


def _pycamunda_deploy(rest: FlaskClient, content: bytes) -> Any:
    """pycamunda 0.6.1's upload: `resource-0` parts and Python-style booleans."""
    return rest.post(
        "/engine-rest/deployment/create",
        data={
            "deployment-name": "script",
            "enable-duplicate-filtering": "True",
            "deploy-changed-only": "False",
            "resource-0": (io.BytesIO(content), "resource-0"),
        },
        headers=STAFF["designer"],
        content_type="multipart/form-data",
    )


def test_bad_bpmn_is_a_parse_exception(rest: FlaskClient) -> None:
    response = modeler_deploy(rest, file(TINY / "bad_expression.bpmn"))
    assert response.status_code == 400
    body = response.get_json()
    assert body["type"] == "ParseException"
    assert body["code"] == 0
    assert body["message"].startswith(f"{PARSE_PREFIX} Errors: ")
    problems = body["details"]["bad_expression.bpmn"]
    assert problems["warnings"] == []
    first = problems["errors"][0]
    assert set(first) == {"message", "line", "column", "mainElementId", "elementIds"}
    assert first["line"] > 0
    assert first["mainElementId"] == "flow_route_notify"  # the flow with the bean call
    assert first["elementIds"] == ["flow_route_notify"]
    assert first["message"] in body["message"]


def test_malformed_xml_is_a_parse_exception(rest: FlaskClient) -> None:
    response = modeler_deploy(rest, ("broken.bpmn", b"<bpmn:definitions"))
    assert response.status_code == 400
    body = response.get_json()
    assert body["type"] == "ParseException"
    assert body["message"].startswith(PARSE_PREFIX)
    assert "broken.bpmn" in body["details"]


def test_pycamunda_resource_names_are_sniffed(rest: FlaskClient) -> None:
    response = _pycamunda_deploy(rest, ONE.read_bytes())
    assert response.status_code == 200, response.get_json()
    definitions = response.get_json()["deployedProcessDefinitions"]
    (definition,) = definitions.values()
    assert definition["key"] == "one_user_task"
    assert definition["resource"] == "resource-0"


def test_dmn_fills_decision_definitions(rest: FlaskClient) -> None:
    response = modeler_deploy(rest, file(CREDIT), file(AUTHORITY))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert len(body["deployedProcessDefinitions"]) == 1
    decisions = body["deployedDecisionDefinitions"]
    assert decisions
    for decision_id, decision in decisions.items():
        assert set(decision) >= DECISION_DEFINITION_KEYS
        assert decision["id"] == decision_id
        assert decision["resource"] == "approval_authority.dmn"


def test_camunda_forms_are_accepted_and_ignored(rest: FlaskClient) -> None:
    form = ("start.form", b'{"components": [], "type": "default"}')
    alone = modeler_deploy(rest, form)
    assert alone.status_code == 200, alone.get_json()
    assert alone.get_json()["deployedProcessDefinitions"] is None
    with_model = modeler_deploy(rest, file(ONE), form)
    assert with_model.status_code == 200
    (definition,) = with_model.get_json()["deployedProcessDefinitions"].values()
    assert definition["resource"] == "one_user_task.bpmn"
    forms_only_by_staff = modeler_deploy(rest, form, who="rm")
    assert forms_only_by_staff.status_code == 403


def test_upload_rules(rest: FlaskClient) -> None:
    no_resource = modeler_deploy(rest)
    assert no_resource.status_code == 400
    assert no_resource.get_json() == {
        "type": "InvalidRequestException",
        "message": "No deployment resources contained in the form upload.",
        "code": None,
    }
    no_filename = modeler_deploy(rest, file(ONE), **{"diagram.bpmn": "<xml/>"})
    assert no_filename.status_code == 400
    assert no_filename.get_json()["type"] == "InvalidRequestException"
    assert "diagram.bpmn" in no_filename.get_json()["message"]
    tenant = modeler_deploy(rest, file(ONE), **{"tenant-id": "bank-a"})
    assert tenant.status_code == 400
    not_multipart = rest.post("/engine-rest/deployment/create", json={}, headers=STAFF["designer"])
    assert not_multipart.status_code == 400
    assert not_multipart.get_json()["type"] == "InvalidRequestException"


def test_process_definition_reads(rest: FlaskClient) -> None:
    first = modeler_deploy(rest, file(ONE)).get_json()
    changed = ONE.read_bytes().replace(b'name="Do work"', b'name="Do the work"')
    second = modeler_deploy(rest, ("one_user_task.bpmn", changed)).get_json()
    assert second["id"] != first["id"]
    v1 = next(iter(first["deployedProcessDefinitions"]))
    v2 = next(iter(second["deployedProcessDefinitions"]))
    auth = STAFF["rm"]

    listed = rest.get("/engine-rest/process-definition?key=one_user_task", headers=auth)
    assert [d["id"] for d in listed.get_json()] == [v2, v1]
    for item in listed.get_json():
        assert set(item) >= PROCESS_DEFINITION_KEYS
    latest = rest.get("/engine-rest/process-definition?latestVersion=true", headers=auth)
    assert [d["id"] for d in latest.get_json()] == [v2]
    paged = rest.get("/engine-rest/process-definition?firstResult=1&maxResults=1", headers=auth)
    assert [d["id"] for d in paged.get_json()] == [v1]
    assert rest.get("/engine-rest/process-definition?maxResults=0", headers=auth).get_json() == []
    bad_page = rest.get("/engine-rest/process-definition?maxResults=abc", headers=auth)
    assert bad_page.status_code == 400
    sort_half = rest.get("/engine-rest/process-definition?sortBy=key", headers=auth)
    assert sort_half.status_code == 400

    by_id = rest.get(f"/engine-rest/process-definition/{v1}", headers=auth)
    assert by_id.get_json()["version"] == 1
    by_key = rest.get("/engine-rest/process-definition/key/one_user_task", headers=auth)
    assert by_key.get_json()["id"] == v2
    missing = rest.get("/engine-rest/process-definition/key/foo", headers=auth)
    assert missing.status_code == 404
    assert missing.get_json()["type"] == "RestException"
    assert missing.get_json()["message"] == (
        "No matching process definition with key: foo and no tenant-id"
    )
    unknown_id = rest.get("/engine-rest/process-definition/foo:1:x", headers=auth)
    assert unknown_id.status_code == 404
    assert unknown_id.get_json()["message"] == "No matching definition with id foo:1:x"


def test_start_by_key_with_typed_variables(rest: FlaskClient) -> None:
    modeler_deploy(rest, file(ONE))
    started = rest.post(
        "/engine-rest/process-definition/key/one_user_task/start",
        json={
            "businessKey": "order-7",
            "variables": {
                "amount": {"value": "42", "type": "Integer"},
                "big": {"value": 5_000_000_000, "type": "Long"},
                "rate": {"value": 5, "type": "Double"},
                "urgent": {"value": "TRUE", "type": "boolean"},
                "due": {"value": "2024-05-01T10:00:00.000+0200", "type": "Date"},
                "meta": {"value": '{"a": [1, 2]}', "type": "Json"},
                "nothing": {"value": None, "type": "Null"},
                "note": {"value": "hi", "type": None, "valueInfo": None},
                "untyped": {"value": {"x": 1}},
            },
            "withVariablesInReturn": True,
            "startInstructions": [],
            "skipCustomListeners": False,
        },
        headers=STAFF["rm"],
    )
    assert started.status_code == 200, started.get_json()
    body = started.get_json()
    assert body["businessKey"] == "order-7"
    variables = body["variables"]
    assert variables["amount"] == {"type": "Integer", "value": 42, "valueInfo": {}}
    assert variables["big"] == {"type": "Long", "value": 5_000_000_000, "valueInfo": {}}
    assert variables["rate"] == {"type": "Double", "value": 5.0, "valueInfo": {}}
    assert variables["urgent"]["value"] is True
    assert variables["due"] == {
        "type": "Date",
        "value": "2024-05-01T10:00:00.000+0200",
        "valueInfo": {},
    }
    assert variables["meta"] == {"type": "Json", "value": '{"a": [1, 2]}', "valueInfo": {}}
    assert variables["nothing"]["type"] == "Null"
    assert variables["note"]["type"] == "String"
    assert variables["untyped"]["type"] == "Object"
    assert variables["untyped"]["value"] == {"x": 1}


def test_start_errors(rest: FlaskClient) -> None:
    modeler_deploy(rest, file(ONE))
    auth = STAFF["rm"]
    path = "/engine-rest/process-definition/key/one_user_task/start"
    bad = rest.post(
        path, json={"variables": {"n": {"value": "abc", "type": "Integer"}}}, headers=auth
    )
    assert bad.status_code == 400
    assert bad.get_json() == {
        "type": "InvalidRequestException",
        "message": "Cannot convert value 'abc' of type 'Integer' to java type java.lang.Integer",
        "code": None,
    }
    too_big = rest.post(
        path, json={"variables": {"n": {"value": 2**31, "type": "Integer"}}}, headers=auth
    )
    assert too_big.status_code == 400
    upper = rest.post(
        path, json={"variables": {"n": {"value": "x", "type": "STRING"}}}, headers=auth
    )
    assert upper.get_json()["message"] == "Unsupported value type 'STRING'"
    unknown = rest.post("/engine-rest/process-definition/key/foo/start", json={}, headers=auth)
    assert unknown.status_code == 404
    assert unknown.get_json() == {
        "type": "RestException",
        "message": "No matching process definition with key: foo and no tenant-id",
        "code": None,
    }
    tenant = rest.post(
        "/engine-rest/process-definition/key/one_user_task/tenant-id/t1/start",
        json={},
        headers=auth,
    )
    assert tenant.status_code == 404
    not_json = rest.post(path, data="nope", content_type="application/json", headers=auth)
    assert not_json.status_code == 400
    no_body = rest.post(path, headers=auth)
    assert no_body.status_code == 200, no_body.get_json()
    assert "variables" not in no_body.get_json()
