"""Use cases on natural persons: register, exact search by number, positions in customers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.customers import customers
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor
from app.lending.fields import Fields
from app.people import identifiers
from app.people.cipher import current as cipher
from app.people.models import Person, Position

# Who registers and searches persons: the RM at onboarding, risk for AML screening.
KEEPERS = ("relationship_manager", "risk_officer", "admin")
ROLES = (
    "legal_representative",  # 法定代表人
    "chairman",  # 董事长
    "general_manager",  # 总经理
    "finance_head",  # 财务负责人
    "director",  # 董事
    "supervisor",  # 监事
    "executive",  # other senior manager
)


def _keeper(actor: Actor, what: str) -> None:
    if not actor.in_group(*KEEPERS):
        raise PermissionDeniedError(f"only RMs, risk officers and administrators may {what}")


def register(session: Session, actor: Actor, data: Mapping[str, Any]) -> Person:
    """Register a person; the same ID number twice is a conflict naming the existing person."""
    _keeper(actor, "register persons")
    fields = Fields(data)
    name = fields.text("name", max_len=100)
    id_type = fields.choice("id_type", identifiers.ID_TYPES, default="resident_id")
    raw_id = fields.text("id_number", max_len=40)
    raw_phone = fields.text("phone", max_len=30, required=False)
    nationality = fields.text("nationality", max_len=3, required=False) or "CHN"
    id_number = identifiers.normalize_id(raw_id) if raw_id else ""
    phone = identifiers.normalize_phone(raw_phone) if raw_phone else None
    if raw_id and not fields.errors.get("id_type"):
        problem = identifiers.id_problem(id_type, id_number)
        if problem:
            fields.fail("id_number", problem)
    if phone is not None:
        problem = identifiers.phone_problem(phone)
        if problem:
            fields.fail("phone", problem)
    if not nationality.isalpha() or len(nationality) != 3 or not nationality.isupper():
        fields.fail("nationality", "must be an ISO 3166 alpha-3 code, e.g. CHN")
    if fields.errors:
        raise InvalidInputError("invalid person", errors=fields.errors)
    assert name is not None
    box = cipher()
    id_hash = box.lookup(id_type, id_number)
    existing = session.scalars(select(Person.id).where(Person.id_number_hash == id_hash)).first()
    if existing:
        raise ConflictError(
            f"a person with this ID number is already registered: {existing}",
            code="duplicate_person",
            person_id=existing,
        )
    person_id = str(uuid.uuid4())
    person = Person(
        id=person_id,
        name=name,
        id_type=id_type,
        id_number_sealed=box.seal(id_number, f"person:{person_id}:id_number"),
        id_number_hash=id_hash,
        id_number_masked=identifiers.mask(id_number),
        phone_sealed=box.seal(phone, f"person:{person_id}:phone") if phone else None,
        phone_hash=box.lookup("phone", phone) if phone else None,
        phone_masked=identifiers.mask(phone) if phone else None,
        nationality=nationality,
        created_by=actor.user_id,
    )
    session.add(person)
    session.flush()
    return person


def search(
    session: Session,
    actor: Actor,
    *,
    id_number: str | None = None,
    id_type: str = "resident_id",
    phone: str | None = None,
) -> list[Person]:
    """Persons whose ID or mobile number is exactly this (compared by keyed hash)."""
    _keeper(actor, "search persons")
    if not id_number and not phone:
        raise InvalidInputError(
            "give id_number or phone", errors={"id_number": "give id_number or phone"}
        )
    if id_type not in identifiers.ID_TYPES:
        raise InvalidInputError(
            "invalid search",
            errors={"id_type": f"must be one of {', '.join(identifiers.ID_TYPES)}"},
        )
    query = select(Person)
    if id_number:
        normalized = identifiers.normalize_id(id_number)
        query = query.where(Person.id_number_hash == cipher().lookup(id_type, normalized))
    if phone:
        normalized = identifiers.normalize_phone(phone)
        query = query.where(Person.phone_hash == cipher().lookup("phone", normalized))
    return list(session.scalars(query.order_by(Person.name, Person.id).limit(50)))


def get(session: Session, actor: Actor, person_id: str) -> Person:
    _keeper(actor, "read persons")
    person = session.get(Person, person_id)
    if person is None:
        raise NotFoundError(f"person {person_id} not found")
    return person


def appoint(session: Session, actor: Actor, customer_id: str, data: Mapping[str, Any]) -> Position:
    """Record that a person holds a role in a customer (法定代表人, 总经理 ...)."""
    customer = customers.get(session, actor, customer_id)
    _keeper(actor, "record positions")
    fields = Fields(data)
    person_id = fields.text("person_id", max_len=36)
    role = fields.choice("role", ROLES)
    appointed_on = fields.day("appointed_on", required=False)
    if person_id and session.get(Person, person_id) is None:
        fields.fail("person_id", f"no person {person_id}")
    if fields.errors:
        raise InvalidInputError("invalid position", errors=fields.errors)
    assert person_id is not None
    duplicate = session.scalars(
        select(Position.id).where(
            Position.customer_id == customer.id,
            Position.person_id == person_id,
            Position.role == role,
        )
    ).first()
    if duplicate:
        raise ConflictError(f"the person already holds {role} in this customer")
    position = Position(
        customer_id=customer.id,
        person_id=person_id,
        role=role,
        appointed_on=appointed_on,
        created_by=actor.user_id,
    )
    session.add(position)
    session.flush()
    return position


def positions_of(session: Session, customer_id: str) -> list[tuple[Position, Person]]:
    """A customer's positions with their persons (the caller has checked the customer)."""
    rows = session.execute(_POSITIONS, {"customer_id": customer_id})
    return [(position, person) for position, person in rows]


# Built once: constructing a statement costs more than running it on an index (360 view).
_POSITIONS = (
    select(Position, Person)
    .join(Person, Person.id == Position.person_id)
    .where(Position.customer_id == bindparam("customer_id"))
    .order_by(Position.role, Person.name)
)
