"""Facilities, loans and classification over HTTP."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import STAFF
from tests.factories import make_customer


def test_facility_loan_and_classification_through_the_api(client: FlaskClient) -> None:
    cid = make_customer(client)["id"]
    base = f"/api/v1/customers/{cid}"
    facility = client.post(
        f"{base}/facilities",
        headers=STAFF["rm"],
        json={"product": "working_capital", "amount": "2000000", "start_date": "2026-01-05",
              "maturity_date": "2027-01-05", "guarantee_type": "guarantee"},
    )  # fmt: skip
    assert facility.status_code == 201, facility.get_json()
    loan = client.post(
        f"{base}/loans",
        headers=STAFF["rm"],
        json={"facility_id": facility.get_json()["id"], "contract_no": "JJ-HTTP-1",
              "amount": "500000", "start_date": "2026-02-01", "maturity_date": "2026-08-01"},
    )  # fmt: skip
    assert loan.status_code == 201, loan.get_json()
    loan_id = loan.get_json()["id"]
    serviced = client.patch(
        f"{base}/loans/{loan_id}", headers=STAFF["rm"], json={"days_overdue": 15}
    )
    assert serviced.get_json()["classification"] == "special_mention"
    refused = client.post(
        f"{base}/loans/{loan_id}/classification",
        headers=STAFF["rm"],
        json={"classification": "substandard", "reason": "逾期"},
    )
    assert refused.status_code == 403
    done = client.post(
        f"{base}/loans/{loan_id}/classification",
        headers=STAFF["risk"],
        json={"classification": "substandard", "reason": "经营恶化"},
    )
    assert done.status_code == 200 and done.get_json()["classification"] == "substandard"
    history = client.get(f"{base}/loans/{loan_id}/classification", headers=STAFF["reviewer"])
    assert [(h["from"], h["to"]) for h in history.get_json()] == [
        (None, "normal"),
        ("normal", "special_mention"),
        ("special_mention", "substandard"),
    ]
    listed = client.get(f"{base}/facilities", headers=STAFF["reviewer"]).get_json()
    assert listed[0]["worst_classification"] == "substandard"
    assert [ln["contract_no"] for ln in listed[0]["loans"]] == ["JJ-HTTP-1"]


def test_bad_facility_is_422_with_every_field(client: FlaskClient) -> None:
    cid = make_customer(client)["id"]
    response = client.post(
        f"/api/v1/customers/{cid}/facilities",
        headers=STAFF["rm"],
        json={"product": "working_capital", "amount": "1.234", "currency": "rmb",
              "start_date": "2026-01-05", "maturity_date": "2026-01-01",
              "guarantee_type": "mortgage"},
    )  # fmt: skip
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"amount", "currency", "maturity_date"}
    assert client.get(f"/api/v1/customers/{cid}/facilities", headers=STAFF["rm"]).get_json() == []
