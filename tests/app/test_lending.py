"""Facilities and loans: validation that changes nothing, drawing limits, classification history."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import ConflictError, InvalidInputError, PermissionDeniedError
from app.lending import facilities, loans
from app.lending.models import ClassificationChange, Facility, Loan
from tests.party_factories import RISK, RM, make_company, make_facility


def _loan(facility_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "facility_id": facility_id,
        "contract_no": overrides.pop("contract_no", "JJ-2026-001"),
        "amount": Decimal("400"),
        "start_date": "2026-02-01",
        "maturity_date": "2026-08-01",
        **overrides,
    }


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_facility_with_bad_fields_names_each_and_creates_nothing(session: Session) -> None:
    customer = make_company(session)
    with pytest.raises(InvalidInputError) as caught:
        facilities.create(
            session,
            RM,
            customer,
            {
                "product": "magic",
                "amount": "-5",
                "currency": "yuan",
                "start_date": "2026-03-01",
                "maturity_date": "2026-02-01",
                "guarantee_type": "mortgage",
            },
        )
    assert set(caught.value.errors) == {"product", "amount", "currency", "maturity_date"}
    assert "must be one of" in caught.value.errors["product"]
    assert _count(session, Facility) == 0


def test_facility_term_follows_its_dates(session: Session) -> None:
    facility_id = make_facility(session, make_company(session))
    facility = session.get(Facility, facility_id)
    assert facility is not None and facility.term_months == 12
    assert facility.created_by == "rm_li"


def test_loan_may_not_exceed_what_the_facility_has_available(session: Session) -> None:
    customer = make_company(session)
    facility_id = make_facility(session, customer, "1000")
    loans.draw(session, RM, customer, _loan(facility_id, amount=Decimal("700")))
    with pytest.raises(InvalidInputError) as caught:
        loans.draw(session, RM, customer, _loan(facility_id, contract_no="JJ-2", currency="USD"))
    assert caught.value.errors["amount"] == "exceeds what the facility has available (300.00)"
    assert caught.value.errors["currency"] == "must be the facility's currency CNY"
    assert _count(session, Loan) == 1


def test_loan_validation_names_every_bad_field(session: Session) -> None:
    customer, other = make_company(session), make_company(session)
    foreign = make_facility(session, other)
    with pytest.raises(InvalidInputError) as caught:
        loans.draw(
            session,
            RM,
            customer,
            _loan(
                foreign,
                amount="12.345",
                balance="1",
                start_date="2026-13-01",
                maturity_date="2025-01-01",
                days_overdue=-1,
            ),
        )
    assert set(caught.value.errors) == {
        "facility_id",
        "amount",
        "start_date",
        "days_overdue",
    }
    assert caught.value.errors["amount"] == "must have at most 2 decimal places"
    assert _count(session, Loan) == 0 and _count(session, ClassificationChange) == 0


def test_classification_history_records_who_when_from_to_and_why(session: Session) -> None:
    customer = make_company(session)
    loan = loans.draw(session, RM, customer, _loan(make_facility(session, customer)))
    loans.reclassify(
        session,
        RISK,
        customer,
        loan.id,
        {"classification": "special_mention", "reason": "销售收入下降 35%"},
    )
    loans.service(session, RM, customer, loan.id, {"days_overdue": 120})
    history = loans.history(session, RM, customer, loan.id)
    assert [(h.from_category, h.to_category, h.changed_by) for h in history] == [
        (None, "normal", "rm_li"),
        ("normal", "special_mention", "risk_zhao"),
        ("special_mention", "substandard", "rm_li"),
    ]
    assert history[1].reason == "销售收入下降 35%"
    assert history[2].reason == "120 days overdue: at least substandard"
    assert all(h.changed_at is not None for h in history)
    assert loan.classification == "substandard"


def test_reclassification_below_the_overdue_floor_is_refused_and_changes_nothing(
    session: Session,
) -> None:
    customer = make_company(session)
    loan = loans.draw(
        session, RM, customer, _loan(make_facility(session, customer), days_overdue=300)
    )
    assert loan.classification == "doubtful"
    with pytest.raises(InvalidInputError) as caught:
        loans.reclassify(
            session, RISK, customer, loan.id, {"classification": "normal", "reason": "已还款"}
        )
    assert caught.value.errors == {
        "classification": "a loan 300 days overdue must be at least doubtful"
    }
    assert loan.classification == "doubtful"
    assert len(loans.history(session, RISK, customer, loan.id)) == 1


def test_only_risk_officers_classify_and_unchanged_is_a_conflict(session: Session) -> None:
    customer = make_company(session)
    loan = loans.draw(session, RM, customer, _loan(make_facility(session, customer)))
    change = {"classification": "loss", "reason": "企业破产清算"}
    with pytest.raises(PermissionDeniedError):
        loans.reclassify(session, RM, customer, loan.id, change)
    with pytest.raises(ConflictError):
        loans.reclassify(session, RISK, customer, loan.id, {**change, "classification": "normal"})
    with pytest.raises(InvalidInputError) as caught:
        loans.reclassify(session, RISK, customer, loan.id, {"classification": "loss"})
    assert caught.value.errors == {"reason": "is required"}


def test_repaid_loan_is_settled_and_frees_the_facility(session: Session) -> None:
    customer = make_company(session)
    facility_id = make_facility(session, customer, "1000")
    loan = loans.draw(session, RM, customer, _loan(facility_id, amount=Decimal("1000")))
    loans.service(session, RM, customer, loan.id, {"balance": Decimal("0")})
    assert loan.status == "settled"
    again = loans.draw(
        session, RM, customer, _loan(facility_id, contract_no="JJ-3", amount=Decimal("1000"))
    )
    assert again.balance == Decimal("1000.00")
