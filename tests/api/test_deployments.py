"""Deploying models: versioning, lint reports, and hostile or broken uploads."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import ROOT, STAFF, deploy_files
from tests.factories import make_user

TINY = ROOT / "tests" / "bpmn"


def _upload(client: FlaskClient, name: str, content: bytes, who: str = "designer") -> Any:
    return client.post(
        "/api/v1/deployments",
        headers=STAFF[who],
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(content), name)},
    )


def _definitions(client: FlaskClient) -> list[dict[str, Any]]:
    body = client.get("/api/v1/process-definitions?limit=500", headers=STAFF["admin"]).get_json()
    return list(body["items"])


def test_deploy_versions_only_on_change(client: FlaskClient, tmp_path: Path) -> None:
    source = (TINY / "one_user_task.bpmn").read_bytes()
    first = _upload(client, "one_user_task.bpmn", source)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["created"] is True
    again = _upload(client, "one_user_task.bpmn", source)
    assert again.status_code == 201
    assert again.get_json()["created"] is False
    assert again.get_json()["files"][0]["definitions"][0]["version"] == 1
    changed = source.replace(b'name="Do work"', b'name="Do the work"')
    assert changed != source
    third = _upload(client, "one_user_task.bpmn", changed)
    assert third.get_json()["files"][0]["definitions"][0]["version"] == 2
    versions = sorted(d["version"] for d in _definitions(client) if d["key"] == "one_user_task")
    assert versions == [1, 2]


def test_running_instance_keeps_its_version(client: FlaskClient, sessions: Any) -> None:
    source = (TINY / "one_user_task.bpmn").read_bytes()
    _upload(client, "one_user_task.bpmn", source)
    worker = make_user(sessions, "staff_worker", ("staff",))
    started = client.post(
        "/api/v1/process-instances",
        headers=worker,
        json={"process_key": "one_user_task", "variables": {}},
    )
    assert started.status_code == 201, started.get_json()
    v1 = started.get_json()["definition_id"]
    _upload(client, "one_user_task.bpmn", source.replace(b'name="Do work"', b'name="Other"'))
    task_id = started.get_json()["open_tasks"][0]["id"]
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=worker).status_code == 200
    done = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=worker, json={"values": {"note": "ok"}}
    )
    assert done.status_code == 200, done.get_json()
    final = client.get(
        f"/api/v1/process-instances/{started.get_json()['id']}", headers=STAFF["admin"]
    ).get_json()
    assert final["definition_id"] == v1
    assert final["status"] == "completed"


def test_deploy_xml_download_is_verbatim(client: FlaskClient) -> None:
    source = (TINY / "one_user_task.bpmn").read_bytes()
    created = _upload(client, "one_user_task.bpmn", source).get_json()
    definition_id = created["files"][0]["definitions"][0]["id"]
    xml = client.get(f"/api/v1/process-definitions/{definition_id}/xml", headers=STAFF["rm"])
    assert xml.status_code == 200
    assert xml.data == source


def test_deploy_needs_designer_role(client: FlaskClient) -> None:
    response = _upload(
        client, "one_user_task.bpmn", (TINY / "one_user_task.bpmn").read_bytes(), who="rm"
    )
    assert response.status_code == 403
    assert _definitions(client) == []


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("broken.bpmn", b"<definitions><process id='x'></definitions>", "line 1"),
        (
            "xxe.bpmn",
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<d>&x;</d>",
            "DOCTYPE",
        ),
        (
            "laughs.bpmn",
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>',
            "DOCTYPE",
        ),
        ("notbpmn.bpmn", b"<root xmlns='urn:other'/>", "neither BPMN"),
        ("empty.bpmn", b"", "empty"),
    ],
)
def test_deploy_rejects_bad_files_and_stores_nothing(
    client: FlaskClient, name: str, content: bytes, needle: str
) -> None:
    response = _upload(client, name, content)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert name in body["detail"]
    assert needle in body["detail"]
    assert _definitions(client) == []


def test_deploy_rejects_oversize_file(client: FlaskClient, app: Any) -> None:
    limit = app.extensions["corpflow"].settings.max_model_bytes
    padding = b"<!--" + b"x" * limit + b"-->"
    source = (TINY / "one_user_task.bpmn").read_bytes().replace(b"?>", b"?>" + padding, 1)
    # A hand-built multipart body: the test client would spool this upload to a temp file
    # that it never closes.
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.bpmn"\r\n'
        b"Content-Type: text/xml\r\n\r\n" + source + b"\r\n--B--\r\n"
    )
    response = client.post(
        "/api/v1/deployments",
        headers=STAFF["designer"],
        data=body,
        content_type="multipart/form-data; boundary=B",
    )
    assert response.status_code == 422
    assert "larger than the limit" in response.get_json()["detail"]
    assert _definitions(client) == []


def test_deploy_rejects_untranslatable_expression_with_element(client: FlaskClient) -> None:
    response = deploy_files(client, TINY / "bad_expression.bpmn")
    assert response.status_code == 422
    body = response.get_json()
    message = " ".join(body["errors"]["bad_expression.bpmn"])
    assert "notifier.send(execution)" in message
    assert "line" in message
    assert _definitions(client) == []


def test_deploy_rejects_script_task_naming_element(client: FlaskClient) -> None:
    response = deploy_files(client, TINY / "script_task.bpmn")
    assert response.status_code == 422
    assert "'calc'" in " ".join(response.get_json()["errors"]["script_task.bpmn"])


def test_deploy_one_bad_file_rejects_the_whole_upload(client: FlaskClient) -> None:
    response = deploy_files(client, TINY / "one_user_task.bpmn", TINY / "bad_expression.bpmn")
    assert response.status_code == 422
    assert _definitions(client) == []


def test_deploy_reports_unbound_handler_as_warning(client: FlaskClient) -> None:
    source = (TINY / "service_task.bpmn").read_bytes().replace(b"corpflow.Echo", b"no.Such")
    response = _upload(client, "service_task.bpmn", source)
    assert response.status_code == 201, response.get_json()
    warnings = response.get_json()["files"][0]["warnings"]
    assert any("no.Such" in w["message"] and w["element_id"] == "call_echo" for w in warnings)


def test_reserved_ids_are_rejected(client: FlaskClient) -> None:
    source = (TINY / "one_user_task.bpmn").read_bytes().replace(b'"do_work"', b'"End"')
    response = _upload(client, "one_user_task.bpmn", source)
    assert response.status_code == 422
    assert "reserved" in response.get_json()["detail"]
