"""Loans (借据): drawn under a facility, serviced (balance, days overdue) and classified."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.customers import customers
from app.errors import ConflictError, InvalidInputError, PermissionDeniedError
from app.identity.actor import Actor
from app.lending import categories
from app.lending.facilities import WRITERS
from app.lending.fields import Fields
from app.lending.models import ClassificationChange, Facility, Loan

# Classification is the risk side's call (风险分类); the RM proposes, risk decides.
CLASSIFIERS = ("risk_officer", "admin")
MAX_DAYS_OVERDUE = 100_000


def draw(session: Session, actor: Actor, customer_id: str, data: Mapping[str, Any]) -> Loan:
    """Draw a loan under one of the customer's active facilities, within what is available."""
    customers.get(session, actor, customer_id)
    if not actor.in_group(*WRITERS):
        raise PermissionDeniedError("only relationship managers and administrators may add loans")
    fields = Fields(data)
    facility_id = fields.text("facility_id", max_len=36)
    contract_no = fields.text("contract_no", max_len=64)
    amount = fields.amount("amount")
    balance = fields.amount("balance", required=False, allow_zero=True)
    currency = fields.currency(default=None) if data.get("currency") is not None else None
    start = fields.day("start_date")
    maturity = fields.day("maturity_date")
    days_overdue = fields.whole("days_overdue", low=0, high=MAX_DAYS_OVERDUE, default=0)
    facility = None
    if facility_id:
        facility = session.scalars(
            select(Facility).where(Facility.id == facility_id).with_for_update()
        ).first()
        if facility is None or facility.customer_id != customer_id:
            fields.fail("facility_id", "is not a facility of this customer")
            facility = None
        elif facility.status != "active":
            fields.fail("facility_id", f"the facility is {facility.status}, not active")
    if balance is None and amount is not None:
        balance = amount
    if amount is not None and balance is not None and balance > amount:
        fields.fail("balance", "may not exceed the amount drawn")
    if start and maturity and maturity <= start:
        fields.fail("maturity_date", "must be after start_date")
    if facility is not None:
        if currency not in (None, "XXX", facility.currency):
            fields.fail("currency", f"must be the facility's currency {facility.currency}")
        if start and facility.start_date and start < facility.start_date:
            fields.fail("start_date", f"is before the facility starts ({facility.start_date})")
        if start and facility.maturity_date and start > facility.maturity_date:
            fields.fail("start_date", f"is after the facility matures ({facility.maturity_date})")
        if amount is not None:
            available = facility.amount - _drawn(session, facility.id)
            if amount > available:
                fields.fail("amount", f"exceeds what the facility has available ({available})")
    if (
        contract_no
        and session.scalars(select(Loan.id).where(Loan.contract_no == contract_no)).first()
    ):
        fields.fail("contract_no", "is already used by another loan")
    if fields.errors:
        raise InvalidInputError("invalid loan", errors=fields.errors)
    assert facility is not None and amount is not None and balance is not None
    assert start is not None and maturity is not None and contract_no and days_overdue is not None
    category = categories.floor_for(days_overdue)
    loan = Loan(
        id=str(uuid.uuid4()),
        facility_id=facility.id,
        customer_id=customer_id,
        contract_no=contract_no,
        amount=amount,
        balance=balance,
        currency=facility.currency,
        start_date=start,
        maturity_date=maturity,
        days_overdue=days_overdue,
        classification=category,
        status="settled" if balance == 0 else "active",
        created_by=actor.user_id,
    )
    session.add(loan)
    session.flush()
    _record(session, loan, None, category, "drawn", actor)
    return loan


def _drawn(session: Session, facility_id: str) -> Decimal:
    """The outstanding balance of a facility's loans: what is not available to draw."""
    total = session.scalar(
        select(func.coalesce(func.sum(Loan.balance), 0)).where(
            Loan.facility_id == facility_id, Loan.status == "active"
        )
    )
    return Decimal(total or 0)


def get(session: Session, actor: Actor, customer_id: str, loan_id: str) -> Loan:
    return customers.record_of(session, actor, customer_id, Loan, loan_id, "loan")


def service(
    session: Session, actor: Actor, customer_id: str, loan_id: str, data: Mapping[str, Any]
) -> Loan:
    """Update balance and days overdue; a loan overdue past a floor is downgraded to it."""
    loan = get(session, actor, customer_id, loan_id)
    if not actor.in_group(*WRITERS, *CLASSIFIERS):
        raise PermissionDeniedError("only RMs, risk officers and administrators may service loans")
    fields = Fields(data)
    balance = fields.amount("balance", required=False, allow_zero=True)
    days = loan.days_overdue
    if "days_overdue" in data:
        days = fields.whole("days_overdue", low=0, high=MAX_DAYS_OVERDUE) or 0
    if balance is not None and balance > loan.amount:
        fields.fail("balance", f"may not exceed the amount drawn ({loan.amount})")
    if not data.keys() & {"balance", "days_overdue"}:
        fields.fail("balance", "give balance, days_overdue or both")
    if fields.errors:
        raise InvalidInputError("invalid loan update", errors=fields.errors)
    if balance is not None:
        loan.balance = balance
        loan.status = "settled" if balance == 0 else "active"
    loan.days_overdue = days
    floor = categories.floor_for(days)
    if categories.rank(floor) > categories.rank(loan.classification):
        previous, loan.classification = loan.classification, floor
        _record(session, loan, previous, floor, f"{days} days overdue: at least {floor}", actor)
    session.flush()
    return loan


def reclassify(
    session: Session, actor: Actor, customer_id: str, loan_id: str, data: Mapping[str, Any]
) -> Loan:
    """Move a loan to another category with a reason; never milder than its overdue floor."""
    loan = get(session, actor, customer_id, loan_id)
    if not actor.in_group(*CLASSIFIERS):
        raise PermissionDeniedError("only risk officers and administrators may classify loans")
    fields = Fields(data)
    category = fields.choice("classification", categories.CATEGORIES)
    reason = fields.text("reason", max_len=500)
    if not fields.errors:
        floor = categories.floor_for(loan.days_overdue)
        if categories.rank(category) < categories.rank(floor):
            fields.fail(
                "classification",
                f"a loan {loan.days_overdue} days overdue must be at least {floor}",
            )
        elif category == loan.classification:
            raise ConflictError(f"the loan is already {category}", code="unchanged")
    if fields.errors:
        raise InvalidInputError("invalid classification", errors=fields.errors)
    assert reason is not None
    previous, loan.classification = loan.classification, category
    _record(session, loan, previous, category, reason, actor)
    session.flush()
    return loan


def history(
    session: Session, actor: Actor, customer_id: str, loan_id: str
) -> list[ClassificationChange]:
    loan = get(session, actor, customer_id, loan_id)
    return list(
        session.scalars(
            select(ClassificationChange)
            .where(ClassificationChange.loan_id == loan.id)
            .order_by(ClassificationChange.id)
        )
    )


def of_customer(session: Session, customer_id: str) -> list[Loan]:
    """A customer's loans (the caller has checked the customer is visible)."""
    return list(session.scalars(_OF_CUSTOMER, {"customer_id": customer_id}))


# Built once: constructing a statement costs more than running it on an index (360 view).
_OF_CUSTOMER = (
    select(Loan)
    .where(Loan.customer_id == bindparam("customer_id"))
    .order_by(Loan.start_date, Loan.id)
)


def _record(
    session: Session, loan: Loan, before: str | None, after: str, reason: str, actor: Actor
) -> None:
    session.add(
        ClassificationChange(
            loan_id=loan.id,
            from_category=before,
            to_category=after,
            reason=reason,
            changed_by=actor.user_id,
        )
    )
