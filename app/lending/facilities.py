"""Facilities (授信): created by the credit process or entered by staff, listed per customer."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.customers import customers
from app.customers.models import Customer
from app.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor
from app.lending import categories
from app.lending.fields import Fields
from app.lending.models import Facility, Loan
from app.workdays.store import current_calendar

WRITERS = ("relationship_manager", "admin")
PRODUCTS = (
    "working_capital",
    "fixed_asset",
    "project_finance",
    "trade_finance",
    "bank_acceptance",
    "letter_of_guarantee",
    "letter_of_credit",
    "comprehensive",
)
GUARANTEE_TYPES = ("credit", "guarantee", "mortgage", "pledge", "low_risk")
MAX_TERM_MONTHS = 360


def today() -> date:
    """Today in the bank's time zone."""
    return datetime.now(ZoneInfo(current_calendar().timezone)).date()


def create(session: Session, actor: Actor, customer_id: str, data: Mapping[str, Any]) -> Facility:
    """Record a facility granted outside a process (core-system backfill, manual entry)."""
    customer = customers.get(session, actor, customer_id)
    if not actor.in_group(*WRITERS):
        raise PermissionDeniedError(
            "only relationship managers and administrators may add facilities"
        )
    fields = Fields(data)
    product = fields.choice("product", PRODUCTS)
    amount = fields.amount("amount")
    currency = fields.currency()
    start = fields.day("start_date")
    maturity = fields.day("maturity_date")
    guarantee_type = fields.choice("guarantee_type", GUARANTEE_TYPES)
    term = 0
    if start and maturity:
        if maturity <= start:
            fields.fail("maturity_date", "must be after start_date")
        else:
            delta = relativedelta(maturity, start)
            term = max(1, delta.years * 12 + delta.months + (1 if delta.days else 0))
            if term > MAX_TERM_MONTHS:
                fields.fail("maturity_date", f"the term may be at most {MAX_TERM_MONTHS} months")
    if fields.errors:
        raise InvalidInputError("invalid facility", errors=fields.errors)
    assert amount is not None
    facility = Facility(
        id=str(uuid.uuid4()),
        customer_id=customer.id,
        product=product,
        amount=amount,
        currency=currency,
        term_months=term,
        start_date=start,
        maturity_date=maturity,
        guarantee_type=guarantee_type,
        status="active",
        created_by=actor.user_id,
    )
    session.add(facility)
    session.flush()
    return facility


def of_customer(session: Session, customer_id: str) -> list[Facility]:
    """A customer's facilities, oldest first (the caller has checked the customer is visible)."""
    return list(session.scalars(_OF_CUSTOMER, {"customer_id": customer_id}))


# Built once: constructing a statement costs more than running it on an index (360 view).
_OF_CUSTOMER = (
    select(Facility)
    .where(Facility.customer_id == bindparam("customer_id"))
    .order_by(Facility.created_at, Facility.id)
)


def with_loans(facility_rows: list[Facility], loan_rows: list[Loan]) -> list[dict[str, Any]]:
    """Each facility's columns with its loans and the worst category of its active loans."""
    columns = [c.key for c in Facility.__table__.columns]
    result = []
    for facility in facility_rows:
        own = [loan for loan in loan_rows if loan.facility_id == facility.id]
        body = {name: getattr(facility, name) for name in columns}
        body["loans"] = own
        body["worst_classification"] = categories.worst(
            loan.classification for loan in own if loan.status == "active"
        )
        result.append(body)
    return result


def get(session: Session, actor: Actor, customer_id: str, facility_id: str) -> Facility:
    return customers.record_of(session, actor, customer_id, Facility, facility_id, "facility")


@dataclass
class FacilityStore:
    """The handlers' door to facilities, bound to the job's session (same transaction)."""

    session: Session
    instance_id: str

    def create_facility(
        self,
        *,
        idempotency_key: str,
        customer_id: str,
        product: str,
        amount: Decimal,
        currency: str,
        term_months: int,
        guarantee_type: str,
        approver_group: str | None,
    ) -> str:
        existing = self.session.scalars(
            select(Facility).where(Facility.source_key == idempotency_key)
        ).first()
        if existing is not None:
            return existing.id
        if self.session.get(Customer, customer_id) is None:
            raise NotFoundError(f"customer {customer_id} not found")
        start = today()
        facility = Facility(
            id=str(uuid.uuid4()),
            customer_id=customer_id,
            source_key=idempotency_key,
            product=product,
            amount=amount,
            currency=currency,
            term_months=term_months,
            start_date=start,
            maturity_date=start + relativedelta(months=term_months),
            guarantee_type=guarantee_type,
            approver_group=approver_group,
            status="active",
            created_by=f"process:{self.instance_id}",
        )
        self.session.add(facility)
        self.session.flush()
        return facility.id
