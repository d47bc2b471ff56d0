"""Small make_* factories for customers' surroundings, working on a session as use cases do."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.customers import customers
from app.identity.actor import Actor
from app.lending import facilities
from app.people import people
from app.people.identifiers import resident_check_char
from app.relations import links
from tests.factories import make_uscc

RM = Actor("rm_li", frozenset({"relationship_manager"}))
RISK = Actor("risk_zhao", frozenset({"risk_officer"}))
REVIEWER = Actor("reviewer_wang", frozenset({"credit_reviewer"}))
ADMIN = Actor("admin", frozenset({"admin"}))
_serial = itertools.count(1)


def resident_id(serial: int | None = None) -> str:
    """A checksum-valid synthetic resident ID number (GB 11643)."""
    n = next(_serial) if serial is None else serial
    body = f"110105{1960 + n % 40:04d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + resident_check_char(body)


def make_company(session: Session, name: str = "示例有限公司") -> str:
    return customers.create(session, RM, {"uscc": make_uscc(), "name": name}).customer.id


def make_person(session: Session, name: str = "张示例", **extra: Any) -> str:
    data = {"name": name, "id_number": resident_id(), **extra}
    return people.register(session, RM, data).id


def holds(
    session: Session, holder: str, held: str, percentage: str, *, person: bool = False
) -> None:
    key = "holder_person_id" if person else "holder_customer_id"
    links.add_shareholder(session, RM, held, {key: holder, "percentage": Decimal(percentage)})


def controls(session: Session, controller: str, held: str, *, person: bool = False) -> None:
    key = "controller_person_id" if person else "controller_customer_id"
    links.add_controller(session, RM, held, {key: controller})


def make_facility(
    session: Session, customer_id: str, amount: str = "1000000", currency: str = "CNY"
) -> str:
    return facilities.create(
        session,
        RM,
        customer_id,
        {
            "product": "working_capital",
            "amount": Decimal(amount),
            "currency": currency,
            "start_date": "2026-01-05",
            "maturity_date": "2027-01-05",
            "guarantee_type": "mortgage",
        },
    ).id
