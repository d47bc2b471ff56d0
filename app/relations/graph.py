"""A customer's direct relationships: holders, holdings, control, guarantees, group."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from app.customers.models import Customer
from app.people.models import Person
from app.relations.models import CustomerGroup, GroupMember, Guarantee, Ownership


def _party(
    customer: tuple[str | None, str | None], person: tuple[str | None, str | None]
) -> dict[str, Any]:
    if customer[0] is not None:
        return {"kind": "customer", "id": customer[0], "name": customer[1]}
    return {"kind": "person", "id": person[0], "name": person[1]}


# Built once (aliases too): constructing these costs more than running them on indexes.
_HOLDER, _HELD = aliased(Customer), aliased(Customer)
_EDGES = (
    select(
        Ownership.id,
        Ownership.kind,
        Ownership.percentage,
        Ownership.basis,
        Ownership.held_id,
        _HELD.name,
        Ownership.holder_customer_id,
        _HOLDER.name,
        Ownership.holder_person_id,
        Person.name,
    )
    .join(_HELD, _HELD.id == Ownership.held_id)
    .outerjoin(_HOLDER, _HOLDER.id == Ownership.holder_customer_id)
    .outerjoin(Person, Person.id == Ownership.holder_person_id)
    .where(
        or_(
            Ownership.held_id == bindparam("customer_id"),
            Ownership.holder_customer_id == bindparam("customer_id"),
        )
    )
    .order_by(Ownership.percentage.desc(), Ownership.id)
)
_BORROWER, _GUARANTOR = aliased(Customer), aliased(Customer)
_GUARANTEES = (
    select(
        Guarantee.id,
        Guarantee.amount,
        Guarantee.currency,
        Guarantee.facility_id,
        Guarantee.borrower_id,
        _BORROWER.name,
        Guarantee.guarantor_customer_id,
        _GUARANTOR.name,
        Guarantee.guarantor_person_id,
        Person.name,
    )
    .join(_BORROWER, _BORROWER.id == Guarantee.borrower_id)
    .outerjoin(_GUARANTOR, _GUARANTOR.id == Guarantee.guarantor_customer_id)
    .outerjoin(Person, Person.id == Guarantee.guarantor_person_id)
    .where(
        or_(
            Guarantee.borrower_id == bindparam("customer_id"),
            Guarantee.guarantor_customer_id == bindparam("customer_id"),
        )
    )
    .order_by(Guarantee.created_at, Guarantee.id)
)
_GROUP = (
    select(CustomerGroup.id, CustomerGroup.name, CustomerGroup.parent_customer_id, Customer.name)
    .join(GroupMember, GroupMember.group_id == CustomerGroup.id)
    .join(Customer, Customer.id == CustomerGroup.parent_customer_id)
    .where(GroupMember.customer_id == bindparam("customer_id"))
)


def direct(session: Session, customer_id: str) -> dict[str, Any]:
    """Three indexed queries: ownership edges, guarantees, group (customer already checked)."""
    params = {"customer_id": customer_id}
    edges = session.execute(_EDGES, params)
    result: dict[str, Any] = {
        "shareholders": [],
        "holdings": [],
        "controllers": [],
        "controlled": [],
        "guarantees_received": [],
        "guarantees_given": [],
        "group": None,
    }
    for eid, kind, pct, basis, held_id, held_name, hc_id, hc_name, hp_id, hp_name in edges:
        item: dict[str, Any] = {"id": eid, "percentage": pct, "basis": basis}
        if held_id == customer_id:
            item["party"] = _party((hc_id, hc_name), (hp_id, hp_name))
            result["shareholders" if kind == "shareholding" else "controllers"].append(item)
        else:
            item["party"] = {"kind": "customer", "id": held_id, "name": held_name}
            result["holdings" if kind == "shareholding" else "controlled"].append(item)
    guarantees = session.execute(_GUARANTEES, params)
    for (
        gid,
        amount,
        currency,
        facility_id,
        b_id,
        b_name,
        gc_id,
        gc_name,
        gp_id,
        gp_name,
    ) in guarantees:
        item = {"id": gid, "amount": amount, "currency": currency, "facility_id": facility_id}
        if b_id == customer_id:
            item["party"] = _party((gc_id, gc_name), (gp_id, gp_name))
            result["guarantees_received"].append(item)
        else:
            item["party"] = {"kind": "customer", "id": b_id, "name": b_name}
            result["guarantees_given"].append(item)
    group = session.execute(_GROUP, params).first()
    if group is not None:
        result["group"] = {
            "id": group[0],
            "name": group[1],
            "parent": {"kind": "customer", "id": group[2], "name": group[3]},
        }
    return result
