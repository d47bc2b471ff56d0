"""The customer record over HTTP: registration, transitions, stale writes, history, RMs."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import STAFF
from tests.factories import make_customer, make_uscc


def patch(client: FlaskClient, customer: dict[str, Any], who: str = "rm", **body: Any) -> Any:
    return client.patch(f"/api/v1/customers/{customer['id']}", json=body, headers=STAFF[who])


def test_create_customer_full_record_and_org_owner(client: FlaskClient) -> None:
    body = {
        "uscc": make_uscc("310115"),
        "name": "上海示例新能源科技有限公司",
        "legal_representative": "张示例",
        "registered_capital": "50000000",
        "capital_currency": "CNY",
        "industry_code": "C3612",
        "establishment_date": "2016-05-20",
        "size_class": "medium",
        "custom": {},
    }
    response = client.post("/api/v1/customers", json=body, headers=STAFF["rm"])
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["region_code"] == "310115"
    assert made["registered_capital"] == "50000000.00"
    assert (made["rm_id"], made["team_id"], made["branch_id"]) == ("rm_li", "SH-PD-T1", "SH-PD")
    assert made["status"] == "prospect" and made["version"] == 1
    assert made["warnings"] == []
    assert response.headers["ETag"] == '"1"'


def test_create_customer_org_code_warning_is_returned(client: FlaskClient) -> None:
    first17 = "9131011512345678" + "0"
    from app.customers.uscc import check_char

    response = client.post(
        "/api/v1/customers",
        json={"uscc": first17 + check_char(first17), "name": "示例公司"},
        headers=STAFF["rm"],
    )
    assert response.status_code == 201
    assert response.get_json()["warnings"] == [
        "uscc: organisation code check character is 0, expected 8"
    ]


def test_create_customer_bad_fields_are_all_named_and_nothing_is_stored(
    client: FlaskClient,
) -> None:
    response = client.post(
        "/api/v1/customers",
        json={
            "uscc": "91350100M000100Y44",
            "name": "x",
            "industry_code": "I3612",
            "status": "active",
        },
        headers=STAFF["rm"],
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors["uscc"] == "check character is 4, expected 3"
    assert errors["industry_code"] == "division 36 belongs to section C, not I"
    assert errors["status"] == "a new customer starts as one of prospect, onboarding"
    listed = client.get("/api/v1/customers", headers=STAFF["admin"]).get_json()
    assert listed["total"] == 0


def test_create_customer_duplicate_uscc_is_409(client: FlaskClient) -> None:
    made = make_customer(client)
    again = client.post(
        "/api/v1/customers", json={"uscc": made["uscc"], "name": "又一个"}, headers=STAFF["rm"]
    )
    assert again.status_code == 409
    assert again.get_json()["code"] == "duplicate_uscc"


def test_status_transitions_allowed_and_refused(client: FlaskClient) -> None:
    customer = make_customer(client)
    for status in ("onboarding", "active", "dormant", "active", "exited"):
        response = patch(client, customer, status=status)
        assert response.status_code == 200, (status, response.get_json())
    refused = patch(client, customer, status="active")
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["status"] == (
        "cannot go from exited to active; allowed from exited: prospect"
    )
    skip = make_customer(client)
    jumped = patch(client, skip, status="dormant")
    assert jumped.status_code == 422
    assert "allowed from prospect: onboarding, exited" in jumped.get_json()["errors"]["status"]


def test_stale_write_is_409_naming_the_fields_changed_since(client: FlaskClient) -> None:
    customer = make_customer(client)
    first = patch(client, customer, version=1, name="上海示例（集团）有限公司", status="onboarding")
    assert first.status_code == 200 and first.get_json()["version"] == 2
    second = patch(client, customer, "branch", version=2, risk_rating="A")
    assert second.status_code == 200 and second.get_json()["version"] == 3
    stale = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"legal_representative": "李四"},
        headers={**STAFF["rm"], "If-Match": '"1"'},
    )
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["code"] == "stale_version"
    assert set(body["errors"]) == {"name", "status", "risk_rating"}
    assert "last by branch_chen in version 3" in body["errors"]["risk_rating"]
    # Nothing was written by the refused request.
    current = client.get(f"/api/v1/customers/{customer['id']}", headers=STAFF["rm"]).get_json()
    assert current["legal_representative"] is None and current["version"] == 3
    fresh = patch(client, customer, version=3, legal_representative="李四")
    assert fresh.status_code == 200 and fresh.get_json()["changed"] == ["legal_representative"]


def test_write_without_change_keeps_version_and_writes_no_history(client: FlaskClient) -> None:
    customer = make_customer(client)
    same = patch(client, customer, name=customer["name"], version=1)
    assert same.status_code == 200
    assert same.get_json()["version"] == 1 and same.get_json()["changed"] == []
    history = client.get(f"/api/v1/customers/{customer['id']}/history", headers=STAFF["rm"])
    assert history.get_json()["total"] == 1


def test_history_lists_each_change_with_old_and_new_values(client: FlaskClient) -> None:
    customer = make_customer(client)
    patch(client, customer, name="新名称有限公司", registered_capital=1000000)
    patch(client, customer, status="onboarding")
    response = client.get(f"/api/v1/customers/{customer['id']}/history", headers=STAFF["rm"])
    assert response.status_code == 200
    rows = response.get_json()["items"]
    assert [(r["version"], r["field"]) for r in rows] == [
        (3, "status"),
        (2, "registered_capital"),
        (2, "name"),
        (1, "*"),
    ]
    by_field = {r["field"]: r for r in rows}
    assert by_field["name"]["old_value"] == customer["name"]
    assert by_field["name"]["new_value"] == "新名称有限公司"
    assert by_field["registered_capital"]["new_value"] == "1000000.00"
    assert by_field["status"]["changed_by"] == "rm_li" and by_field["status"]["source"] == "api"
    assert by_field["*"]["new_value"]["uscc"] == customer["uscc"]


def test_rm_reassignment_closes_the_old_assignment_and_keeps_history(
    client: FlaskClient,
) -> None:
    customer = make_customer(client)
    refused = patch(client, customer, rm_id="rm_wu")
    assert refused.status_code == 403
    moved = patch(client, customer, "branch", rm_id="rm_wu")
    assert moved.status_code == 200, moved.get_json()
    body = moved.get_json()
    assert (body["rm_id"], body["team_id"], body["branch_id"]) == ("rm_wu", "SH-PD-T2", "SH-PD")
    assert set(body["changed"]) == {"rm_id", "team_id"}
    rows = client.get(
        f"/api/v1/customers/{customer['id']}/rm-assignments", headers=STAFF["branch"]
    ).get_json()
    assert [(r["rm_id"], r["team_id"]) for r in rows] == [
        ("rm_li", "SH-PD-T1"),
        ("rm_wu", "SH-PD-T2"),
    ]
    assert rows[0]["valid_to"] == rows[1]["valid_from"] and rows[1]["valid_to"] is None
    # The RM of the time is kept; the former RM no longer sees the customer.
    gone = client.get(f"/api/v1/customers/{customer['id']}", headers=STAFF["rm"])
    assert gone.status_code == 404


def test_rm_at_answers_the_rm_of_the_time(client: FlaskClient, session: Any) -> None:
    from datetime import datetime

    from app.customers.assignments import rm_at

    customer = make_customer(client)
    before = datetime.fromisoformat(
        client.get(
            f"/api/v1/customers/{customer['id']}/rm-assignments", headers=STAFF["rm"]
        ).get_json()[0]["valid_from"]
    )
    patch(client, customer, "admin", rm_id="rm_ma")
    assert rm_at(session, customer["id"], before) == "rm_li"
    assert rm_at(session, customer["id"]) == "rm_ma"


def test_team_or_branch_given_explicitly_must_fit_the_tree(client: FlaskClient) -> None:
    customer = make_customer(client)
    wrong = patch(client, customer, "admin", team_id="BJ-CY-T1", branch_id="SH-PD")
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"]["team_id"] == "team BJ-CY-T1 is not part of SH-PD"
    kind = patch(client, customer, "admin", branch_id="SH-PD-T1")
    assert (
        kind.get_json()["errors"]["branch_id"] == "SH-PD-T1 is a team, not a branch or sub_branch"
    )
    team_only = patch(client, customer, "admin", team_id="BJ-CY-T1")
    assert team_only.status_code == 200
    assert team_only.get_json()["branch_id"] == "BJ-CY"


def test_unknown_field_in_patch_is_422(client: FlaskClient) -> None:
    customer = make_customer(client)
    response = patch(client, customer, colour="blue")
    assert response.status_code == 422
    assert "colour" in response.get_json()["errors"]
