"""The credit application end to end through the HTTP API."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import STAFF
from tests.factories import do_task, instance, make_application, make_customer, open_task


def _through_risk(
    client: FlaskClient, *, amount: int, guarantee: str, rating: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    customer = make_customer(client)
    app = make_application(client, customer["id"], amount=amount, guarantee_type=guarantee)
    do_task(
        client,
        app["id"],
        "reviewer",
        "review_credit",
        {"review_decision": "approve", "review_comment": "材料齐全"},
    )
    do_task(client, app["id"], "risk", "assess_risk", {"risk_rating": rating})
    return customer, app


def test_credit_application_approved_creates_facility(
    client: FlaskClient, credit_models: Any
) -> None:
    customer, app = _through_risk(client, amount=5_000_000, guarantee="mortgage", rating="A")
    task = open_task(client, app["id"], "branch", "approve_credit")
    assert task["candidate_groups"] == ["branch_manager"]
    do_task(client, app["id"], "branch", "approve_credit", {"approval_decision": "approve"})
    final = instance(client, app["id"])
    assert final["status"] == "completed"
    assert final["end_element"] == "credit_approved"
    assert final["variables"]["facility_id"]
    facilities = client.get(
        f"/api/v1/customers/{customer['id']}/facilities", headers=STAFF["rm"]
    ).get_json()
    assert [f["id"] for f in facilities] == [final["variables"]["facility_id"]]
    assert facilities[0]["amount"] == "5000000.00"
    assert facilities[0]["term_months"] == 12
    assert facilities[0]["maturity_date"] > facilities[0]["start_date"]
    assert facilities[0]["loans"] == []


def test_credit_application_rejected_keeps_reason(client: FlaskClient, credit_models: Any) -> None:
    customer, app = _through_risk(client, amount=5_000_000, guarantee="mortgage", rating="A")
    do_task(
        client,
        app["id"],
        "branch",
        "approve_credit",
        {"approval_decision": "reject", "rejection_reason": "现金流不足"},
    )
    final = instance(client, app["id"])
    assert final["end_element"] == "credit_rejected"
    assert final["variables"]["rejection_reason"] == "现金流不足"
    facilities = client.get(
        f"/api/v1/customers/{customer['id']}/facilities", headers=STAFF["rm"]
    ).get_json()
    assert facilities == []


def test_credit_application_return_loop_goes_back_to_review(
    client: FlaskClient, credit_models: Any
) -> None:
    customer = make_customer(client)
    app = make_application(client, customer["id"])
    do_task(client, app["id"], "reviewer", "review_credit", {"review_decision": "return"})
    supplement = open_task(client, app["id"], "rm", "supplement_material")
    assert supplement["assignee"] == "rm_li"
    done = client.post(
        f"/api/v1/tasks/{supplement['id']}/complete",
        headers=STAFF["rm"],
        json={"values": {"supplement_note": "补充了审计报告"}},
    )
    assert done.status_code == 200, done.get_json()
    second = open_task(client, app["id"], "reviewer", "review_credit")
    assert second["id"] != supplement["id"]
    do_task(client, app["id"], "reviewer", "review_credit", {"review_decision": "approve"})
    assert "assess_risk" in instance(client, app["id"])["active_elements"]
    kinds = [
        e["element_id"]
        for e in client.get(
            f"/api/v1/process-instances/{app['id']}/history", headers=STAFF["admin"]
        ).get_json()
        if e["kind"] == "task_completed"
    ]
    assert kinds == ["review_credit", "supplement_material", "review_credit"]


@pytest.mark.parametrize(
    ("amount", "guarantee", "rating", "who", "group"),
    [
        (30_000_000, "low_risk", "BB", "branch", "branch_manager"),
        (10_000_000, "pledge", "AA", "branch", "branch_manager"),
        (10_000_001, "pledge", "AA", "hq", "head_office_credit"),
        (50_000_000, "credit", "BBB", "hq", "head_office_credit"),
        (50_000_001, "credit", "AAA", "committee", "credit_committee"),
        (1_000_000, "mortgage", "BB", "committee", "credit_committee"),
    ],
)
def test_credit_application_routes_to_approval_authority(
    client: FlaskClient,
    credit_models: Any,
    amount: int,
    guarantee: str,
    rating: str,
    who: str,
    group: str,
) -> None:
    _customer, app = _through_risk(client, amount=amount, guarantee=guarantee, rating=rating)
    task = open_task(client, app["id"], who, "approve_credit")
    assert task["candidate_groups"] == [group]
    assert instance(client, app["id"])["variables"]["approver_group"] == group
