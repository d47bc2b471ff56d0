"""Use cases recording relationships: shareholdings, actual control, guarantees, groups."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.customers import customers
from app.customers.models import Customer
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor
from app.lending.fields import Fields
from app.lending.models import Facility
from app.people.models import Person
from app.relations.models import CustomerGroup, GroupMember, Guarantee, Ownership

WRITERS = ("relationship_manager", "admin")


def _writer(actor: Actor) -> None:
    if not actor.in_group(*WRITERS):
        raise PermissionDeniedError(
            "only relationship managers and administrators may record relationships"
        )


def _party(
    session: Session, actor: Actor, fields: Fields, prefix: str
) -> tuple[str | None, str | None]:
    """The (customer id, person id) named by `<prefix>_customer_id` / `<prefix>_person_id`."""
    customer_key, person_key = f"{prefix}_customer_id", f"{prefix}_person_id"
    customer_id = fields.text(customer_key, max_len=36, required=False)
    person_id = fields.text(person_key, max_len=36, required=False)
    if (customer_id is None) == (person_id is None):
        fields.fail(customer_key, f"give exactly one of {customer_key} and {person_key}")
        return None, None
    if customer_id is not None:
        try:
            customers.get(session, actor, customer_id)
        except NotFoundError:
            fields.fail(customer_key, f"no customer {customer_id}")
    elif person_id is not None and session.get(Person, person_id) is None:
        fields.fail(person_key, f"no person {person_id}")
    return customer_id, person_id


def add_shareholder(
    session: Session, actor: Actor, held_id: str, data: Mapping[str, Any]
) -> Ownership:
    """A customer or person holds `percentage` % of `held_id`; holdings may not pass 100 %."""
    held = customers.get(session, actor, held_id)
    _writer(actor)
    fields = Fields(data)
    holder_customer, holder_person = _party(session, actor, fields, "holder")
    percentage = fields.percentage("percentage")
    if holder_customer == held.id:
        fields.fail("holder_customer_id", "a company cannot hold its own shares here")
    if percentage is not None and not fields.errors:
        held_total = session.scalar(
            select(func.coalesce(func.sum(Ownership.percentage), 0)).where(
                Ownership.held_id == held.id, Ownership.kind == "shareholding"
            )
        )
        free = Decimal(100) - Decimal(held_total or 0)
        if percentage > free:
            fields.fail("percentage", f"the shareholdings would pass 100 %: {free} % is left")
    if fields.errors:
        raise InvalidInputError("invalid shareholding", errors=fields.errors)
    return _edge(
        session, actor, "shareholding", held.id, holder_customer, holder_person, percentage
    )


def add_controller(
    session: Session, actor: Actor, held_id: str, data: Mapping[str, Any]
) -> Ownership:
    """A customer or person actually controls `held_id` (实际控制人), e.g. by agreement."""
    held = customers.get(session, actor, held_id)
    _writer(actor)
    fields = Fields(data)
    controller_customer, controller_person = _party(session, actor, fields, "controller")
    basis = fields.text("basis", max_len=200, required=False)
    if controller_customer == held.id:
        fields.fail("controller_customer_id", "a company cannot control itself")
    if fields.errors:
        raise InvalidInputError("invalid control", errors=fields.errors)
    edge = _edge(session, actor, "control", held.id, controller_customer, controller_person, None)
    edge.basis = basis
    session.flush()
    return edge


def _edge(
    session: Session,
    actor: Actor,
    kind: str,
    held_id: str,
    holder_customer: str | None,
    holder_person: str | None,
    percentage: Decimal | None,
) -> Ownership:
    holder = (
        Ownership.holder_customer_id == holder_customer
        if holder_customer
        else Ownership.holder_person_id == holder_person
    )
    query = select(Ownership.id).where(Ownership.held_id == held_id, Ownership.kind == kind)
    if session.scalars(query.where(holder)).first():
        raise ConflictError(f"this {kind} is already recorded", code="duplicate_relationship")
    edge = Ownership(
        id=str(uuid.uuid4()),
        kind=kind,
        held_id=held_id,
        holder_customer_id=holder_customer,
        holder_person_id=holder_person,
        percentage=percentage,
        created_by=actor.user_id,
    )
    session.add(edge)
    session.flush()
    return edge


def add_guarantee(
    session: Session, actor: Actor, borrower_id: str, data: Mapping[str, Any]
) -> Guarantee:
    """A customer or person guarantees the borrower's debts (optionally one facility)."""
    borrower = customers.get(session, actor, borrower_id)
    _writer(actor)
    fields = Fields(data)
    guarantor_customer, guarantor_person = _party(session, actor, fields, "guarantor")
    amount = fields.amount("amount")
    currency = fields.currency()
    facility_id = fields.text("facility_id", max_len=36, required=False)
    if guarantor_customer == borrower.id:
        fields.fail("guarantor_customer_id", "a borrower cannot guarantee itself")
    if facility_id:
        facility = session.get(Facility, facility_id)
        if facility is None or facility.customer_id != borrower.id:
            fields.fail("facility_id", "is not a facility of the borrower")
    if fields.errors:
        raise InvalidInputError("invalid guarantee", errors=fields.errors)
    assert amount is not None
    guarantee = Guarantee(
        id=str(uuid.uuid4()),
        borrower_id=borrower.id,
        guarantor_customer_id=guarantor_customer,
        guarantor_person_id=guarantor_person,
        facility_id=facility_id,
        amount=amount,
        currency=currency,
        created_by=actor.user_id,
    )
    session.add(guarantee)
    session.flush()
    return guarantee


def create_group(session: Session, actor: Actor, data: Mapping[str, Any]) -> CustomerGroup:
    """A group headed by its parent customer, who becomes its first member."""
    _writer(actor)
    fields = Fields(data)
    name = fields.text("name", max_len=200)
    parent_id = fields.text("parent_customer_id", max_len=36)
    if parent_id:
        try:
            customers.get(session, actor, parent_id)
        except NotFoundError:
            fields.fail("parent_customer_id", f"no customer {parent_id}")
        else:
            if session.get(GroupMember, parent_id) is not None:
                fields.fail("parent_customer_id", "the customer already belongs to a group")
    if fields.errors:
        raise InvalidInputError("invalid group", errors=fields.errors)
    assert name is not None and parent_id is not None
    group = CustomerGroup(
        id=str(uuid.uuid4()), name=name, parent_customer_id=parent_id, created_by=actor.user_id
    )
    session.add(group)
    session.flush()
    session.add(GroupMember(customer_id=parent_id, group_id=group.id, created_by=actor.user_id))
    session.flush()
    return group


def get_group(session: Session, actor: Actor, group_id: str) -> CustomerGroup:
    group = session.get(CustomerGroup, group_id)
    if group is None:
        raise NotFoundError(f"group {group_id} not found")
    customers.get(session, actor, group.parent_customer_id)  # visible through its parent
    return group


def add_member(
    session: Session, actor: Actor, group_id: str, data: Mapping[str, Any]
) -> GroupMember:
    group = get_group(session, actor, group_id)
    _writer(actor)
    fields = Fields(data)
    customer_id = fields.text("customer_id", max_len=36)
    if customer_id:
        try:
            customers.get(session, actor, customer_id)
        except NotFoundError:
            fields.fail("customer_id", f"no customer {customer_id}")
    if fields.errors:
        raise InvalidInputError("invalid group member", errors=fields.errors)
    assert customer_id is not None
    current = session.get(GroupMember, customer_id)
    if current is not None:
        raise ConflictError(
            "the customer already belongs to a group",
            code="already_in_group",
            group_id=current.group_id,
        )
    member = GroupMember(customer_id=customer_id, group_id=group.id, created_by=actor.user_id)
    session.add(member)
    session.flush()
    return member


def members_of(session: Session, group_id: str) -> list[tuple[str, str]]:
    """(customer id, name) of a group's recorded members, by name."""
    rows = session.execute(
        select(Customer.id, Customer.name)
        .join(GroupMember, GroupMember.customer_id == Customer.id)
        .where(GroupMember.group_id == group_id)
        .order_by(Customer.name, Customer.id)
    )
    return [(cid, name) for cid, name in rows]
