"""Persons over HTTP: masked by default, in clear for RMs and risk officers with a logged reason."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.people.models import PersonalDataAccess
from tests.conftest import STAFF
from tests.factories import make_customer
from tests.party_factories import resident_id


def _with_legal_rep(client: FlaskClient) -> tuple[str, str, str]:
    customer = make_customer(client)
    number = resident_id()
    created = client.post(
        "/api/v1/people",
        headers=STAFF["rm"],
        json={"name": "张示例", "id_number": number, "phone": "13812345678"},
    )
    assert created.status_code == 201, created.get_json()
    person = created.get_json()
    assert person["id_number"] == number[:3] + "*" * 11 + number[-4:]
    assert person["masked"] is True
    appointed = client.post(
        f"/api/v1/customers/{customer['id']}/people",
        headers=STAFF["rm"],
        json={"person_id": person["id"], "role": "legal_representative"},
    )
    assert appointed.status_code == 201, appointed.get_json()
    return customer["id"], person["id"], number


def _people(client: FlaskClient, customer_id: str, who: str, reason: str | None = None) -> Any:
    query = f"?reveal_reason={reason}" if reason else ""
    return client.get(f"/api/v1/customers/{customer_id}/people{query}", headers=STAFF[who])


def test_everyone_reads_masks_by_default(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    customer_id, _, number = _with_legal_rep(client)
    for who in ("rm", "reviewer", "risk", "admin", "branch"):
        response = _people(client, customer_id, who)
        assert response.status_code == 200, response.get_json()
        (row,) = response.get_json()
        assert row["role"] == "legal_representative"
        assert row["person"]["id_number"] == number[:3] + "***********" + number[-4:]
        assert row["person"]["phone"] == "138****5678"
    with sessions() as session:
        assert session.scalars(select(PersonalDataAccess)).all() == []


def test_rm_and_risk_see_numbers_with_a_reason_and_each_read_is_logged(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    customer_id, person_id, number = _with_legal_rep(client)
    for who in ("rm", "risk"):
        response = _people(client, customer_id, who, "反洗钱名单筛查")
        assert response.status_code == 200, response.get_json()
        person = response.get_json()[0]["person"]
        assert (person["id_number"], person["phone"], person["masked"]) == (
            number,
            "13812345678",
            False,
        )
    with sessions() as session:
        log = session.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.id)).all()
        assert [(a.user_id, a.person_id, a.reason, a.customer_id) for a in log] == [
            ("rm_li", person_id, "反洗钱名单筛查", customer_id),
            ("risk_zhao", person_id, "反洗钱名单筛查", customer_id),
        ]


def test_other_roles_may_not_unmask_and_a_reason_is_required(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    customer_id, _, _ = _with_legal_rep(client)
    for who in ("reviewer", "admin", "branch"):
        response = _people(client, customer_id, who, "想看一下号码")
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
    short = _people(client, customer_id, "rm", "why")
    assert short.status_code == 422
    assert "reveal_reason" in short.get_json()["errors"]
    with sessions() as session:
        assert session.scalars(select(PersonalDataAccess)).all() == []


def test_search_by_exact_number_over_http(client: FlaskClient) -> None:
    _, person_id, number = _with_legal_rep(client)
    found = client.get(f"/api/v1/people?id_number={number}", headers=STAFF["risk"])
    assert [p["id"] for p in found.get_json()] == [person_id]
    assert found.get_json()[0]["masked"] is True
    by_phone = client.get("/api/v1/people?phone=13812345678", headers=STAFF["rm"])
    assert [p["id"] for p in by_phone.get_json()] == [person_id]
    assert (
        client.get("/api/v1/people?phone=13812345678", headers=STAFF["reviewer"]).status_code == 403
    )
    assert client.get("/api/v1/people", headers=STAFF["rm"]).status_code == 422


def test_bad_person_is_422_and_duplicate_is_409(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/people", headers=STAFF["rm"], json={"name": "甲", "id_number": "123"}
    )
    assert response.status_code == 422
    assert "id_number" in response.get_json()["errors"]
    number = resident_id()
    body = {"name": "甲", "id_number": number}
    assert client.post("/api/v1/people", headers=STAFF["rm"], json=body).status_code == 201
    duplicate = client.post("/api/v1/people", headers=STAFF["rm"], json=body)
    assert duplicate.status_code == 409
    assert duplicate.get_json()["code"] == "duplicate_person"
