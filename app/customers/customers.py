"""Use cases on customers (create, get, list)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.customers import uscc
from app.customers.models import Customer
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor

_WRITERS = ("relationship_manager", "admin")


def create(session: Session, actor: Actor, data: Mapping[str, Any]) -> Customer:
    if not actor.in_group(*_WRITERS):
        raise PermissionDeniedError(
            "only relationship managers and administrators may create customers"
        )
    code = uscc.normalize(str(data.get("uscc", "")))
    errors: dict[str, str] = {}
    problems = uscc.problems(code)
    if problems:
        errors["uscc"] = "; ".join(problems)
    name = str(data.get("name", "")).strip()
    if not name:
        errors["name"] = "is required"
    if errors:
        raise InvalidInputError("invalid customer", errors=errors)
    if session.scalars(select(Customer.id).where(Customer.uscc == code)).first():
        raise ConflictError(f"a customer with USCC {code} already exists", code="duplicate_uscc")
    customer = Customer(
        id=str(uuid.uuid4()),
        uscc=code,
        name=name,
        region_code=code[2:8],
        legal_representative=data.get("legal_representative"),
        industry_code=data.get("industry_code"),
        rm_id=data.get("rm_id") or actor.user_id,
        created_by=actor.user_id,
    )
    session.add(customer)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise ConflictError(
            f"a customer with USCC {code} already exists", code="duplicate_uscc"
        ) from None
    return customer


def get(session: Session, actor: Actor, customer_id: str) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFoundError(f"customer {customer_id} not found")
    return customer


def list_customers(
    session: Session,
    actor: Actor,
    *,
    name: str | None = None,
    uscc_code: str | None = None,
    rm_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Customer], int]:
    query = select(Customer)
    if name:
        query = query.where(Customer.name.contains(name))
    if uscc_code:
        query = query.where(Customer.uscc == uscc.normalize(uscc_code))
    if rm_id:
        query = query.where(Customer.rm_id == rm_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Customer.name, Customer.id).limit(limit).offset(offset))
    return list(rows), total


def summary(session: Session, customer_id: str | None) -> dict[str, Any] | None:
    if not customer_id:
        return None
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    return {
        "id": customer.id,
        "uscc": customer.uscc,
        "name": customer.name,
        "status": customer.status,
        "risk_rating": customer.risk_rating,
        "rm_id": customer.rm_id,
    }
