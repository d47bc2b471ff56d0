"""Processes move customers along their lifecycle through the activateCustomer handler."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import ROOT, STAFF, deploy_files
from tests.factories import make_customer


def _activate(client: FlaskClient, customer_id: str) -> dict[str, Any]:
    started = client.post(
        "/api/v1/process-instances",
        headers=STAFF["rm"],
        json={"process_key": "customer_activation", "variables": {"customer_id": customer_id}},
    )
    assert started.status_code == 201, started.get_json()
    response = client.get(
        f"/api/v1/process-instances/{started.get_json()['id']}", headers=STAFF["admin"]
    )
    return dict(response.get_json())


def _customer(client: FlaskClient, customer_id: str) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/customers/{customer_id}", headers=STAFF["rm"]).get_json())


@pytest.fixture
def activation_model(client: FlaskClient) -> None:
    bpmn = ROOT / "tests" / "bpmn" / "customer_activation.bpmn"
    assert deploy_files(client, bpmn).status_code == 201


def test_onboarding_activates_the_customer_once(
    client: FlaskClient, activation_model: None
) -> None:
    customer = make_customer(client, "开户完成有限公司", status="onboarding")
    done = _activate(client, customer["id"])
    assert (done["status"], done["end_element"]) == ("completed", "customer_active")
    assert done["variables"]["customer_status"] == "active"
    stored = _customer(client, customer["id"])
    assert (stored["status"], stored["version"]) == ("active", 2)
    history = client.get(
        f"/api/v1/customers/{customer['id']}/history", headers=STAFF["rm"]
    ).get_json()
    change = history["items"][0]
    assert (change["field"], change["old_value"], change["new_value"]) == (
        "status",
        "onboarding",
        "active",
    )
    assert change["source"] == "process"
    assert change["changed_by"] == f"process:{done['id']}"
    again = _activate(client, customer["id"])  # already active: nothing changes
    assert again["end_element"] == "customer_active"
    assert _customer(client, customer["id"])["version"] == 2


def test_a_move_the_lifecycle_forbids_is_a_bpmn_error(
    client: FlaskClient, activation_model: None
) -> None:
    prospect = make_customer(client, "尚未准入有限公司", status="prospect")
    refused = _activate(client, prospect["id"])
    assert (refused["status"], refused["end_element"]) == ("completed", "activation_refused")
    stored = _customer(client, prospect["id"])
    assert (stored["status"], stored["version"]) == ("prospect", 1)
