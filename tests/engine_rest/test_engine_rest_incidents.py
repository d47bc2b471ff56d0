"""/engine-rest incidents: a failed service job seen as Camunda's IncidentDto."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import STAFF
from tests.engine_rest.conftest import DATE, TINY, modeler_deploy
from tests.factories import make_user

ADMIN = STAFF["admin"]
INCIDENT_KEYS = {
    "id", "processDefinitionId", "processInstanceId", "executionId", "incidentTimestamp",
    "incidentType", "activityId", "failedActivityId", "causeIncidentId", "rootCauseIncidentId",
    "configuration", "tenantId", "incidentMessage", "jobDefinitionId", "annotation",
}  # fmt: skip


def test_incidents_list_count_and_read(
    rest: FlaskClient, rest_sessions: sessionmaker[Session]
) -> None:
    source = (TINY / "service_task.bpmn").read_bytes().replace(b"corpflow.Echo", b"missing.Handler")
    assert modeler_deploy(rest, ("service_task.bpmn", source)).status_code == 200
    staff = make_user(rest_sessions, "in_staff", ("staff",))
    started = rest.post(
        "/engine-rest/process-definition/key/service_task/start", json={}, headers=staff
    ).get_json()

    listed = rest.get("/engine-rest/incident", headers=ADMIN)
    assert listed.status_code == 200
    [incident] = listed.get_json()
    assert set(incident) == INCIDENT_KEYS
    assert incident["incidentType"] == "failedJob"
    assert incident["processInstanceId"] == started["id"]
    assert incident["processDefinitionId"] == started["definitionId"]
    assert incident["activityId"] == "call_echo"
    assert "missing.Handler" in incident["incidentMessage"]
    assert incident["configuration"]  # the failed job
    assert re.fullmatch(DATE, incident["incidentTimestamp"])

    assert rest.get("/engine-rest/incident/count", headers=ADMIN).get_json() == {"count": 1}
    for query, expected in (
        ("incidentType=failedJob", 1),
        ("incidentType=failedExternalTask", 0),
        (f"processInstanceId={started['id']}", 1),
        ("processInstanceId=nope", 0),
        ("activityId=call_echo", 1),
        ("incidentMessageLike=%25missing.Handler%25", 1),
        ("processDefinitionKeyIn=service_task,other", 1),
        (f"configuration={incident['configuration']}", 1),
    ):
        count = rest.get(f"/engine-rest/incident/count?{query}", headers=ADMIN)
        assert count.get_json() == {"count": expected}, query
    one = rest.get(f"/engine-rest/incident/{incident['id']}", headers=ADMIN)
    assert one.get_json() == incident
    missing = rest.get("/engine-rest/incident/nope", headers=ADMIN)
    assert missing.status_code == 404 and missing.get_json()["type"] == "InvalidRequestException"
    # Incidents are for administrators.
    refused = rest.get("/engine-rest/incident", headers=staff)
    assert refused.status_code == 403 and refused.get_json()["type"] == "AuthorizationException"
