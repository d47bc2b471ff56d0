"""The customer 360 over HTTP: its contents, masking, scope, and a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from app.customers import overview
from app.db import utcnow
from app.lending import loans
from app.people import people
from app.servicing import complaints, interactions, signals
from tests.conftest import STAFF
from tests.factories import make_application, make_customer
from tests.party_factories import RISK, RM, holds, make_company, make_facility, make_person


def _rich_customer(session: Session, customer_id: str, scale: int = 1) -> None:
    """Relationships, people, lending and servicing; `scale` multiplies the rows."""
    parent = make_company(session, "示例控股有限公司")
    holds(session, parent, customer_id, "60")
    for i in range(scale):
        owner = make_person(session, f"股东{i}", phone="13812345678")
        holds(session, owner, parent, str(round(50 / scale, 4)), person=True)
        people.appoint(session, RM, customer_id, {"person_id": owner, "role": "director"})
        facility = make_facility(session, customer_id, "1000")
        loans.draw(
            session,
            RM,
            customer_id,
            {
                "facility_id": facility,
                "contract_no": f"JJ-{customer_id[:8]}-{i}",
                "amount": "400",
                "start_date": "2026-02-01",
                "maturity_date": "2026-08-01",
            },
        )
        interactions.record(
            session, RM, customer_id, {"kind": "visit", "purpose": "post_loan", "summary": "贷后"}
        )
        complaints.record(
            session,
            RM,
            customer_id,
            {
                "channel": "phone",
                "category": "fees",
                "summary": "收费",
                "received_at": (utcnow() - timedelta(days=14, hours=1)).isoformat(),
            },
        )
        signals.raise_signal(
            session,
            RISK,
            customer_id,
            {"source": "court", "category": "lawsuit", "severity": "red", "headline": "被诉"},
        )
    session.commit()


def test_360_holds_everything_about_the_customer(
    client: FlaskClient, sessions: sessionmaker[Session], credit_models: Any
) -> None:
    customer = make_customer(client)
    application = make_application(client, customer["id"])
    with sessions() as session:
        _rich_customer(session, customer["id"])
    response = client.get(f"/api/v1/customers/{customer['id']}/360", headers=STAFF["rm"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["profile"]["uscc"] == customer["uscc"]
    assert body["profile"]["custom"] == {}
    assert [s["party"]["name"] for s in body["relationships"]["shareholders"]] == [
        "示例控股有限公司"
    ]
    assert body["group"]["member_count"] == 2
    (cny,) = body["group"]["exposure"]
    assert (cny["facility_amount"], cny["loan_balance"], cny["total"]) == (
        "1000.00",
        "400.00",
        "1000.00",
    )
    (owner,) = body["beneficial_owners"]
    assert owner["bases"] == ["ownership"] and owner["share"] == "30.0000"
    assert owner["person"]["phone"] == "138****5678" and owner["person"]["masked"] is True
    assert [p["role"] for p in body["people"]] == ["director"]
    (facility,) = body["facilities"]
    assert facility["loans"][0]["classification"] == "normal"
    assert facility["worst_classification"] == "normal"
    assert [t["element_id"] for t in body["open_tasks"]] == ["review_credit"]
    assert [p["id"] for p in body["running_processes"]] == [application["id"]]
    assert len(body["interactions"]) == len(body["complaints"]) == len(body["risk_signals"]) == 1
    at_risk = {(item["kind"], item["state"]) for item in body["sla_at_risk"]}
    # The complaint is 14 days old (due on day 15); the red signal is due in 3 working days.
    # The review task is due in 2 working days: neither it nor the signal is at risk yet.
    assert at_risk == {("complaint", "due_soon")}


def test_360_reveals_numbers_only_with_a_reason_for_authorised_roles(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    customer = make_customer(client)
    with sessions() as session:
        _rich_customer(session, customer["id"])
    url = f"/api/v1/customers/{customer['id']}/360"
    revealed = client.get(f"{url}?reveal_reason=贷后走访联系", headers=STAFF["rm"]).get_json()
    assert revealed["beneficial_owners"][0]["person"]["phone"] == "13812345678"
    assert revealed["people"][0]["person"]["masked"] is False
    assert (
        client.get(f"{url}?reveal_reason=贷后走访联系", headers=STAFF["reviewer"]).status_code
        == 403
    )
    masked = client.get(url, headers=STAFF["reviewer"]).get_json()
    assert masked["people"][0]["person"]["phone"] == "138****5678"


def test_360_of_an_unknown_customer_is_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/customers/nope/360", headers=STAFF["rm"])
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    engine = app.extensions["corpflow"].sessions.kw["bind"]
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_360_runs_the_same_number_of_queries_however_much_data(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    counts = []
    for scale in (1, 6):
        with sessions() as session:
            customer_id = make_company(session)
            _rich_customer(session, customer_id, scale)
        with sessions() as session, _statements(app) as seen:
            view = overview.overview(session, RM, customer_id)
            assert len(view["facilities"]) == scale
            counts.append(len(seen))
    assert counts[0] == counts[1]
    assert counts[0] <= 17, counts
