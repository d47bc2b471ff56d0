"""Interactions, complaints with their SLA, and risk signals over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask.testing import FlaskClient

from tests.conftest import STAFF, basic
from tests.factories import make_customer

SUPERVISOR = basic("supervisor_qian", "supervisor-pass")


def test_interactions_are_recorded_and_listed_newest_first(client: FlaskClient) -> None:
    cid = make_customer(client)["id"]
    url = f"/api/v1/customers/{cid}/interactions"
    for day, summary in (("2026-03-02", "上门走访"), ("2026-03-05", "电话回访")):
        body = {"kind": "visit", "summary": summary, "occurred_at": f"{day}T10:00:00+08:00"}
        assert client.post(url, headers=STAFF["rm"], json=body).status_code == 201
    listed = client.get(url, headers=STAFF["reviewer"]).get_json()
    assert [i["summary"] for i in listed["items"]] == ["电话回访", "上门走访"]
    assert listed["total"] == 2
    bad = client.post(
        url,
        headers=STAFF["rm"],
        json={"kind": "visit", "summary": "x", "occurred_at": "2099-01-01T00:00:00+08:00",
              "next_action_due": "2026-01-01"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"occurred_at", "next_action"}
    assert client.get(url, headers=STAFF["rm"]).get_json()["total"] == 2


def test_complaint_is_due_in_15_days_or_30_when_complex_and_extends_once(
    client: FlaskClient,
) -> None:
    cid = make_customer(client)["id"]
    url = f"/api/v1/customers/{cid}/complaints"
    received = "2026-03-02T09:00:00+08:00"
    simple = client.post(
        url,
        headers=STAFF["rm"],
        json={"channel": "branch", "category": "fees", "summary": "多收手续费",
              "received_at": received},
    ).get_json()  # fmt: skip
    start = datetime.fromisoformat(received)
    assert datetime.fromisoformat(simple["due_at"]) == start + timedelta(days=15)
    complex_ = client.post(
        url,
        headers=STAFF["rm"],
        json={"channel": "regulator", "category": "credit", "summary": "授信拒绝",
              "complexity": "complex", "received_at": received},
    ).get_json()  # fmt: skip
    assert datetime.fromisoformat(complex_["due_at"]) == start + timedelta(days=30)
    extend = f"{url}/{complex_['id']}/extension"
    assert (
        client.post(extend, headers=STAFF["rm"], json={"reason": "需外部鉴定"}).status_code == 403
    )
    extended = client.post(extend, headers=SUPERVISOR, json={"reason": "需外部鉴定"})
    assert extended.status_code == 200, extended.get_json()
    assert datetime.fromisoformat(extended.get_json()["due_at"]) == start + timedelta(days=60)
    again = client.post(extend, headers=SUPERVISOR, json={"reason": "再延期"})
    assert again.status_code == 409
    resolved = client.post(
        f"{url}/{simple['id']}/resolution", headers=STAFF["rm"], json={"resolution": "已退费"}
    )
    assert resolved.get_json()["status"] == "resolved"
    listed = client.get(url, headers=STAFF["rm"]).get_json()["items"]
    assert [c["status"] for c in listed] == ["open", "resolved"]


def test_risk_signal_deadlines_and_transitions(client: FlaskClient) -> None:
    cid = make_customer(client)["id"]
    url = f"/api/v1/customers/{cid}/risk-signals"
    body = {"source": "court", "category": "lawsuit", "headline": "被列为被告",
            "detected_at": "2026-03-02T09:00:00+08:00"}  # fmt: skip
    red = client.post(url, headers=STAFF["risk"], json={**body, "severity": "red"}).get_json()
    # Monday 2 March 2026 + 3 working days = Thursday 5 March, same time of day.
    assert datetime.fromisoformat(red["verify_due"]) == datetime.fromisoformat(
        "2026-03-05T09:00:00+08:00"
    )
    blue = client.post(url, headers=STAFF["risk"], json={**body, "severity": "blue"}).get_json()
    assert blue["verify_due"] is None
    move = f"{url}/{red['id']}/status"
    skip = client.post(move, headers=STAFF["risk"], json={"status": "handling"})
    assert skip.status_code == 409 and skip.get_json()["code"] == "invalid_transition"
    assert client.post(move, headers=STAFF["risk"], json={"status": "verifying"}).status_code == 200
    no_reason = client.post(move, headers=STAFF["branch"], json={"status": "dismissed"})
    assert no_reason.status_code == 422
    by_risk = client.post(
        move, headers=STAFF["risk"], json={"status": "dismissed", "disposition": "同名企业"}
    )
    assert by_risk.status_code == 403  # a red signal is closed by the department head
    closed = client.post(
        move, headers=STAFF["branch"], json={"status": "dismissed", "disposition": "同名企业"}
    )
    assert closed.status_code == 200 and closed.get_json()["status"] == "dismissed"
    bad = client.post(url, headers=STAFF["risk"], json={**body, "severity": "purple"})
    assert bad.status_code == 422 and "severity" in bad.get_json()["errors"]
    assert client.get(url, headers=STAFF["rm"]).get_json()["total"] == 2


def test_servicing_of_an_unknown_customer_is_404(client: FlaskClient) -> None:
    for path in ("interactions", "complaints", "risk-signals"):
        response = client.get(f"/api/v1/customers/nope/{path}", headers=STAFF["rm"])
        assert response.status_code == 404
