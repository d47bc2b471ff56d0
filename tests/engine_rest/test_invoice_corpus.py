"""Camunda 7's invoice demo, files unchanged, driven only through /engine-rest."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.instances.models import HistoryEvent, ProcessInstance
from tests.conftest import ROOT, STAFF
from tests.engine_rest.conftest import DATE, file, modeler_deploy
from tests.factories import make_user

INVOICE = ROOT.parent / "shared" / "corpus" / "camunda7-invoice"
FILES = ("invoice.v2.bpmn", "reviewInvoice.bpmn", "invoiceBusinessDecisions.dmn")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of the demo's files: the test reads what users upload, and never edits it."""
    if not INVOICE.is_dir():
        pytest.skip(f"the invoice corpus is not in {INVOICE}")
    for name in (*FILES, "invoice.v1.bpmn"):
        shutil.copy(INVOICE / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def deployed(rest: FlaskClient, corpus: Path) -> dict[str, Any]:
    response = modeler_deploy(rest, *(file(corpus / name) for name in FILES), name="invoice")
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def people(rest_sessions: sessionmaker[Session]) -> dict[str, dict[str, str]]:
    return {
        "clerk": make_user(rest_sessions, "inv_clerk", ("team_assistant",)),
        "accountant": make_user(rest_sessions, "inv_accountant", ("accounting",)),
        "sales": make_user(rest_sessions, "inv_sales", ("sales",)),
        "demo": make_user(rest_sessions, "demo", ("team_assistant",)),
        "reviewer": make_user(rest_sessions, "inv_reviewer", ("reviewers",)),
    }


def _start(rest: FlaskClient, who: dict[str, str], number: str) -> dict[str, Any]:
    response = rest.post(
        "/engine-rest/process-definition/key/invoice/start",
        json={
            "businessKey": number,
            "variables": {
                "creditor": {"value": "Great Pizza for Everyone Inc.", "type": "String"},
                "amount": {"value": 30.0, "type": "Double"},
                "invoiceCategory": {"value": "Travel Expenses", "type": "String"},
                "invoiceNumber": {"value": number, "type": "String"},
            },
        },
        headers=who,
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _tasks(rest: FlaskClient, who: dict[str, str], instance_id: str) -> list[dict[str, Any]]:
    response = rest.get(f"/engine-rest/task?processInstanceId={instance_id}", headers=who)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _work(
    rest: FlaskClient,
    who: dict[str, str],
    user: str,
    instance_id: str,
    element: str,
    variables: dict[str, Any],
) -> dict[str, Any]:
    """The one open task `element` of the instance: claimed by `user` if needed, completed."""
    (task,) = [t for t in _tasks(rest, who, instance_id) if t["taskDefinitionKey"] == element]
    if task["assignee"] is None:
        claimed = rest.post(
            f"/engine-rest/task/{task['id']}/claim", json={"userId": user}, headers=who
        )
        assert claimed.status_code == 204, claimed.get_json()
    done = rest.post(
        f"/engine-rest/task/{task['id']}/complete", json={"variables": variables}, headers=who
    )
    assert done.status_code == 204, done.get_json()
    return task


def _instance(sessions: sessionmaker[Session], instance_id: str) -> ProcessInstance:
    with sessions() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        return row


def _history(sessions: sessionmaker[Session], instance_id: str) -> list[tuple[str, str | None]]:
    with sessions() as session:
        rows = session.scalars(
            select(HistoryEvent)
            .where(HistoryEvent.instance_id == instance_id)
            .order_by(HistoryEvent.at, HistoryEvent.id)
        )
        return [(r.kind, r.element_id) for r in rows]


def test_invoice_deploys_unchanged_with_warnings_naming_elements(
    rest: FlaskClient, corpus: Path
) -> None:
    response = modeler_deploy(rest, *(file(corpus / name) for name in FILES), name="invoice")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    keys = {d["key"] for d in body["deployedProcessDefinitions"].values()}
    assert keys == {"invoice", "ReviewInvoice"}
    decisions = {d["key"] for d in body["deployedDecisionDefinitions"].values()}
    assert decisions == {"invoiceClassification", "invoice-assign-approver"}
    # The native API shows the lint warnings: the JavaScript task listeners, by element.
    listing = rest.get("/api/v1/deployments", headers=STAFF["designer"]).get_json()
    report = listing["items"][0]["report"]["invoice.v2.bpmn"]
    listeners = [w for w in report if "taskListener" in w["message"]]
    assert {w["element_id"] for w in listeners} == {"approveInvoice"}
    assert len(listeners) == 2
    assert all("javascript script" in w["message"] for w in listeners)
    assert any(w["element_id"] == "DataStoreReference_1" for w in report)
    assert not any(w["element_id"] == "reviewInvoice" for w in report)  # it is in the upload


def test_invoice_v1_deploys_too(rest: FlaskClient, corpus: Path) -> None:
    response = modeler_deploy(
        rest,
        file(corpus / "invoice.v1.bpmn"),
        file(corpus / "invoiceBusinessDecisions.dmn"),
        name="invoice-v1",
    )
    assert response.status_code == 200, response.get_json()
    listing = rest.get("/api/v1/deployments", headers=STAFF["designer"]).get_json()
    report = listing["items"][0]["report"]["invoice.v1.bpmn"]
    # ReviewInvoice is not part of this upload nor deployed: a warning, not a rejection.
    (missing,) = [w for w in report if w["element_id"] == "reviewInvoice"]
    assert "'ReviewInvoice' is not deployed" in missing["message"]


def test_invoice_approved_runs_to_archive(
    rest: FlaskClient,
    rest_sessions: sessionmaker[Session],
    deployed: dict[str, Any],
    people: dict[str, dict[str, str]],
) -> None:
    instance = _start(rest, people["clerk"], "INV-001")
    pid = instance["id"]
    (approve,) = _tasks(rest, people["accountant"], pid)
    assert approve["taskDefinitionKey"] == "approveInvoice"
    assert re.fullmatch(DATE, approve["due"])  # ${dateTime().plusWeeks(1).toDate()}
    # ${approverGroups} is the collection the decision returned (collectEntries).
    links = rest.get(
        f"/engine-rest/task/{approve['id']}/identity-links?type=candidate",
        headers=people["accountant"],
    ).get_json()
    assert sorted(link["groupId"] for link in links) == ["accounting", "sales"]
    assert _instance(rest_sessions, pid).variables["approverGroups"] == ["accounting", "sales"]

    _work(rest, people["sales"], "inv_sales", pid, "approveInvoice", {"approved": {"value": True}})
    prepare = _work(rest, people["accountant"], "inv_accountant", pid, "prepareBankTransfer", {})
    assert prepare["name"] == "Prepare\nBank\nTransfer"

    row = _instance(rest_sessions, pid)
    assert row.status == "completed", row.active_elements
    assert row.end_element == "invoiceProcessed"
    assert row.variables["archived"] is True
    assert row.variables["archiveReference"] == "ARCHIVE-INV-001"
    assert ("service_task_completed", "ServiceTask_1") in _history(rest_sessions, pid)
    ended = rest.get(f"/engine-rest/process-instance/{pid}", headers=STAFF["admin"])
    assert ended.status_code == 404 or ended.get_json()["ended"] is True


def test_invoice_review_loop_through_the_called_process(
    rest: FlaskClient,
    rest_sessions: sessionmaker[Session],
    deployed: dict[str, Any],
    people: dict[str, dict[str, str]],
) -> None:
    review_definition = next(
        d for d in deployed["deployedProcessDefinitions"].values() if d["key"] == "ReviewInvoice"
    )
    instance = _start(rest, people["clerk"], "INV-002")
    pid = instance["id"]
    _work(rest, people["sales"], "inv_sales", pid, "approveInvoice", {"approved": {"value": False}})

    # The called process's tasks belong to the same instance, listed under its own key.
    (assign,) = _tasks(rest, people["demo"], pid)
    assert assign["taskDefinitionKey"] == "assignReviewer"
    assert assign["assignee"] == "demo"
    assert assign["processDefinitionId"] == review_definition["id"]
    by_key = rest.get(
        "/engine-rest/task?processDefinitionKey=ReviewInvoice", headers=people["demo"]
    ).get_json()
    assert [t["id"] for t in by_key] == [assign["id"]]
    with rest_sessions() as session:
        assert session.scalar(select(ProcessInstance.id).where(ProcessInstance.id != pid)) is None

    _work(
        rest,
        people["demo"],
        "demo",
        pid,
        "assignReviewer",
        {"reviewer": {"value": "inv_reviewer", "type": "String"}},
    )
    (review,) = _tasks(rest, people["reviewer"], pid)
    assert review["taskDefinitionKey"] == "reviewInvoice"
    assert review["assignee"] == "inv_reviewer"
    assert "reviewer" not in _instance(rest_sessions, pid).variables  # the called process's
    assert re.fullmatch(DATE, review["due"])
    _work(
        rest,
        people["reviewer"],
        "inv_reviewer",
        pid,
        "reviewInvoice",
        {"clarified": {"value": True, "type": "Boolean"}, "notes": {"value": "called the shop"}},
    )

    # camunda:out brought `clarified` back (and nothing else); approval starts over.
    row = _instance(rest_sessions, pid)
    assert row.variables["clarified"] is True
    assert "notes" not in row.variables and "reviewer" not in row.variables
    _work(rest, people["sales"], "inv_sales", pid, "approveInvoice", {"approved": {"value": True}})
    _work(rest, people["accountant"], "inv_accountant", pid, "prepareBankTransfer", {})
    row = _instance(rest_sessions, pid)
    assert row.status == "completed"
    assert row.end_element == "invoiceProcessed"
    assert row.variables["archiveReference"] == "ARCHIVE-INV-002"


def test_invoice_review_not_clarified_ends_unprocessed(
    rest: FlaskClient,
    rest_sessions: sessionmaker[Session],
    deployed: dict[str, Any],
    people: dict[str, dict[str, str]],
) -> None:
    pid = _start(rest, people["clerk"], "INV-003")["id"]
    _work(rest, people["sales"], "inv_sales", pid, "approveInvoice", {"approved": {"value": False}})
    _work(rest, people["demo"], "demo", pid, "assignReviewer", {"reviewer": {"value": "demo"}})
    _work(rest, people["demo"], "demo", pid, "reviewInvoice", {"clarified": {"value": False}})
    row = _instance(rest_sessions, pid)
    assert row.status == "completed"
    assert row.end_element == "invoiceNotProcessed"
