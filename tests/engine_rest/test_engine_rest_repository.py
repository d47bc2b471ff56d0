"""/engine-rest deployments one by one (read, resources, delete) and process definition XML."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.instances.models import HistoryEvent, ProcessInstance
from tests.conftest import STAFF
from tests.engine_rest.conftest import (
    DEPLOYMENT_KEYS,
    PROCESS_DEFINITION_KEYS,
    TINY,
    file,
    modeler_deploy,
)
from tests.factories import make_user

DESIGNER = STAFF["designer"]


def _deploy(rest: FlaskClient) -> tuple[str, str, bytes]:
    """(deployment id, definition id, the BPMN bytes) of one_user_task."""
    name, content = file(TINY / "one_user_task.bpmn")
    deployed = modeler_deploy(rest, (name, content), name="tiny")
    assert deployed.status_code == 200, deployed.get_json()
    body = deployed.get_json()
    [definition_id] = body["deployedProcessDefinitions"]
    return body["id"], definition_id, content


def test_deployment_read_and_resources(rest: FlaskClient) -> None:
    deployment_id, definition_id, content = _deploy(rest)
    one = rest.get(f"/engine-rest/deployment/{deployment_id}", headers=DESIGNER)
    assert one.status_code == 200
    body = one.get_json()
    assert set(body) >= DEPLOYMENT_KEYS | {"links"}
    assert (body["id"], body["name"], body["source"]) == (deployment_id, "tiny", "Camunda Modeler")
    assert rest.get("/engine-rest/deployment/count", headers=DESIGNER).get_json() == {"count": 1}
    missing = rest.get("/engine-rest/deployment/nope", headers=DESIGNER)
    assert missing.status_code == 404
    assert missing.get_json()["message"] == "Deployment with id 'nope' does not exist"

    resources = rest.get(f"/engine-rest/deployment/{deployment_id}/resources", headers=DESIGNER)
    [resource] = resources.get_json()
    assert set(resource) == {"id", "name", "deploymentId"}
    assert (resource["name"], resource["deploymentId"]) == ("one_user_task.bpmn", deployment_id)
    single = rest.get(
        f"/engine-rest/deployment/{deployment_id}/resources/{resource['id']}", headers=DESIGNER
    )
    assert single.get_json() == resource
    data = rest.get(
        f"/engine-rest/deployment/{deployment_id}/resources/{resource['id']}/data",
        headers=DESIGNER,
    )
    assert data.status_code == 200 and data.data == content
    assert data.mimetype == "application/xml"
    unknown = rest.get(
        f"/engine-rest/deployment/{deployment_id}/resources/nope/data", headers=DESIGNER
    )
    assert unknown.status_code == 404

    assert rest.get("/engine-rest/process-definition/count", headers=DESIGNER).get_json() == {
        "count": 1
    }
    assert rest.get(
        "/engine-rest/process-definition/count?key=nope", headers=DESIGNER
    ).get_json() == {"count": 0}
    for path in (
        f"/engine-rest/process-definition/{definition_id}/xml",
        "/engine-rest/process-definition/key/one_user_task/xml",
    ):
        xml = rest.get(path, headers=DESIGNER).get_json()
        assert xml == {"id": definition_id, "bpmn20Xml": content.decode()}
    assert (
        rest.get("/engine-rest/process-definition/key/nope/xml", headers=DESIGNER).status_code
        == 404
    )
    definition = rest.get(f"/engine-rest/process-definition/{definition_id}", headers=DESIGNER)
    assert set(definition.get_json()) == PROCESS_DEFINITION_KEYS


def test_deployment_delete_refused_while_in_use_unless_cascade(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    deployment_id, definition_id, _content = _deploy(rest)
    staff = make_user(rest_sessions, "rp_staff", ("staff",))
    started = rest.post(
        f"/engine-rest/process-definition/{definition_id}/start", json={}, headers=staff
    ).get_json()

    assert rest.delete(f"/engine-rest/deployment/{deployment_id}", headers=staff).status_code == 403
    refused = rest.delete(f"/engine-rest/deployment/{deployment_id}", headers=DESIGNER)
    assert refused.status_code == 500
    body = refused.get_json()
    assert body["type"] == "ProcessEngineException"
    assert body["message"].startswith("Deletion of process definition without cascading failed.")
    assert started["id"] in body["message"]
    assert rest.get(f"/engine-rest/deployment/{deployment_id}", headers=DESIGNER).status_code == 200

    # Ended instances keep the deployment too: their history depends on it.
    [task] = rest.get(
        f"/engine-rest/task?processInstanceId={started['id']}", headers=staff
    ).get_json()
    rest.post(f"/engine-rest/task/{task['id']}/claim", json={}, headers=staff)
    assert (
        rest.post(f"/engine-rest/task/{task['id']}/complete", json={}, headers=staff).status_code
        == 204
    )
    history_kept = rest.delete(f"/engine-rest/deployment/{deployment_id}", headers=DESIGNER)
    assert history_kept.status_code == 500 and "cascade=true" in history_kept.get_json()["message"]

    rest.post(f"/engine-rest/process-definition/{definition_id}/start", json={}, headers=staff)
    deleted = rest.delete(f"/engine-rest/deployment/{deployment_id}?cascade=true", headers=DESIGNER)
    assert deleted.status_code == 204, deleted.get_json()
    assert rest.get(f"/engine-rest/deployment/{deployment_id}", headers=DESIGNER).status_code == 404
    assert (
        rest.get(f"/engine-rest/process-definition/{definition_id}", headers=DESIGNER).status_code
        == 404
    )
    with rest_sessions() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert session.scalar(select(func.count()).select_from(HistoryEvent)) == 0
    assert (
        rest.delete(f"/engine-rest/deployment/{deployment_id}", headers=DESIGNER).status_code == 404
    )

    # The key is free to deploy again.
    again = modeler_deploy(rest, file(TINY / "one_user_task.bpmn"))
    assert again.status_code == 200 and again.get_json()["deployedProcessDefinitions"]


def test_deployment_delete_without_instances(rest: FlaskClient) -> None:
    deployment_id, _definition_id, _content = _deploy(rest)
    assert (
        rest.delete(f"/engine-rest/deployment/{deployment_id}", headers=DESIGNER).status_code == 204
    )
    assert rest.get("/engine-rest/process-definition/count", headers=DESIGNER).get_json() == {
        "count": 0
    }
