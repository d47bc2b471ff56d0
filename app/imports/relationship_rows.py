"""Relationship rows (持股, 实际控制, 担保, 集团成员): parties by USCC or ID number, each row
recorded through app.relations.links inside its own savepoint, so the store's rules apply."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers import scope, uscc
from app.customers.models import Customer
from app.errors import DomainError, InvalidInputError
from app.identity.actor import Actor
from app.imports.customer_rows import RowCheck
from app.people import identifiers
from app.people.cipher import current as cipher
from app.people.models import Person
from app.relations import links
from app.relations.models import CustomerGroup, GroupMember, Guarantee, Ownership

Row = tuple[int, Mapping[str, Any], Mapping[str, str]]
Party = tuple[str, str]  # ("customer" | "person", id)
_IN_CHUNK = 1000
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
# The use cases' field names back to the file's.
_FIELD = {
    "customer_id": "held",
    "parent_customer_id": "holder",
    "name": "group_name",
}


def _load(session: Session, rows: Sequence[Row]) -> tuple[dict[str, Customer], dict[str, str]]:
    """Customers by USCC and person ids by the hash of their resident ID number."""
    codes: set[str] = set()
    hashes: set[str] = set()
    for _, data, _ in rows:
        if data.get("holder_person_hash"):
            hashes.add(str(data["holder_person_hash"]))
        for name in ("holder", "held"):
            value = str(data.get(name) or "")
            code = uscc.normalize(value)
            if uscc.is_valid(code):
                codes.add(code)
            if _is_id_number(value):
                hashes.add(_person_hash(value))
    customers: dict[str, Customer] = {}
    persons: dict[str, str] = {}
    for part in _chunks(codes):
        customers.update(
            {c.uscc: c for c in session.scalars(select(Customer).where(Customer.uscc.in_(part)))}
        )
    for part in _chunks(hashes):
        query = select(Person.id_number_hash, Person.id).where(Person.id_number_hash.in_(part))
        persons.update({h: i for h, i in session.execute(query)})
    return customers, persons


def _chunks(values: set[str]) -> list[list[str]]:
    ordered = sorted(values)
    return [ordered[i : i + _IN_CHUNK] for i in range(0, len(ordered), _IN_CHUNK)]


def _is_id_number(value: str) -> bool:
    return identifiers.id_problem("resident_id", identifiers.normalize_id(value)) is None


def _person_hash(value: str) -> str:
    return cipher().lookup("resident_id", identifiers.normalize_id(value))


def seal(data: Mapping[str, Any]) -> dict[str, Any]:
    """The row as it may be stored: a holder's ID number replaced by its mask and keyed hash
    (personal data is never kept in clear, PIPL)."""
    out = dict(data)
    raw = identifiers.normalize_id(str(out.get("holder") or ""))
    if not _ID_SHAPE.match(raw) or uscc.is_valid(raw):
        return out
    out["holder"] = identifiers.mask(raw)
    problem = identifiers.id_problem("resident_id", raw)
    if problem:
        out["holder_id_problem"] = f"resident ID number {identifiers.mask(raw)}: {problem}"
    else:
        out["holder_person_hash"] = _person_hash(raw)
    return out


def _party(
    actor: Actor,
    value: Any,
    customers: Mapping[str, Customer],
    persons: Mapping[str, str],
    *,
    person_ok: bool,
    person_hash: Any = None,
) -> tuple[Party | None, str | None]:
    """The party a cell names, or why it names none (without details of hidden customers)."""
    raw = str(value or "").strip()
    if person_hash and person_ok:
        person = persons.get(str(person_hash))
        if person is None:
            return None, "no registered person with this ID number: register the person first"
        return ("person", person), None
    if not raw:
        return None, "is required"
    code = uscc.normalize(raw)
    customer = customers.get(code)
    if customer is not None:
        if not scope.can_see(actor, customer):
            return None, f"{code} belongs to a customer outside your scope"
        return ("customer", customer.id), None
    # A resident ID number may pass the USCC check by chance (1 in 31): persons second.
    if person_ok and _is_id_number(raw):
        person = persons.get(_person_hash(raw))
        if person is None:
            return None, "no registered person with this ID number: register the person first"
        return ("person", person), None
    if uscc.is_valid(code):
        return None, f"no customer with USCC {code}"
    what = "a USCC or a resident ID number" if person_ok else "the USCC of a stored customer"
    return None, f"must be {what}: {'; '.join(uscc.problems(code))}"


def evaluate(
    session: Session,
    actor: Actor,
    rows: Sequence[Row],
    progress: Callable[[int], None] | None = None,
) -> list[RowCheck]:
    """Record every good row (the caller's savepoint decides whether any of it is kept)."""
    customers, persons = _load(session, rows)
    seen: dict[tuple[Any, ...], int] = {}
    results: list[RowCheck] = []
    for done, (row_no, data, problems) in enumerate(rows, 1):
        results.append(_row(session, actor, row_no, data, dict(problems), customers, persons, seen))
        if progress is not None:
            progress(done)
    return results


def _row(
    session: Session,
    actor: Actor,
    row_no: int,
    data: Mapping[str, Any],
    problems: dict[str, str],
    customers: Mapping[str, Customer],
    persons: Mapping[str, str],
    seen: dict[tuple[Any, ...], int],
) -> RowCheck:
    result = RowCheck(row_no)
    kind = data.get("relation_type")
    if kind is None and "relation_type" not in problems:
        problems["relation_type"] = "is required"
    held, problem = _party(actor, data.get("held"), customers, persons, person_ok=False)
    if problem:
        problems.setdefault("held", problem)
    if data.get("holder_id_problem"):
        problems.setdefault("holder", str(data["holder_id_problem"]))
    holder, problem = _party(
        actor,
        data.get("holder"),
        customers,
        persons,
        person_ok=kind != "group_member",
        person_hash=data.get("holder_person_hash"),
    )
    if problem:
        problems.setdefault("holder", problem)
    if problems or held is None or holder is None:
        result.problems = problems
        return result
    key: tuple[Any, ...] = (kind, holder, held[1])
    if kind == "guarantee":
        key += (data.get("amount"), data.get("currency") or "CNY")
    if key in seen:
        result.problems = {"held": f"the same relationship is also in row {seen[key]}"}
        return result
    seen[key] = row_no
    stored = _stored(session, str(kind), holder, held[1], data)
    if stored is not None:
        result.problems, result.status = stored, ("error" if stored else "unchanged")
        return result
    try:
        with session.begin_nested():
            result.target_id = _record(session, actor, str(kind), holder, held[1], data)
    except InvalidInputError as exc:
        result.problems = {_field(k): str(v) for k, v in exc.errors.items()} or {
            "holder": exc.message
        }
        return result
    except DomainError as exc:
        result.problems = {"held" if kind == "group_member" else "holder": exc.message}
        return result
    result.status, result.changed = "ok", [str(kind)]
    return result


def _field(name: str) -> str:
    for prefix in ("holder", "controller", "guarantor"):
        if name.startswith(f"{prefix}_"):
            return "holder"
    return _FIELD.get(name, name)


def _stored(
    session: Session, kind: str, holder: Party, held_id: str, data: Mapping[str, Any]
) -> dict[str, str] | None:
    """{} when the relationship is stored as the row says (unchanged), problems when it is
    stored differently, None when it is not stored."""
    holder_kind, holder_id = holder
    if kind in ("shareholding", "control"):
        column = (
            Ownership.holder_customer_id
            if holder_kind == "customer"
            else Ownership.holder_person_id
        )
        edge = session.scalars(
            select(Ownership).where(
                Ownership.held_id == held_id, Ownership.kind == kind, column == holder_id
            )
        ).first()
        if edge is None:
            return None
        given = data.get("percentage")
        if kind == "shareholding" and given is not None and Decimal(given) != edge.percentage:
            return {"percentage": f"recorded as {Decimal(edge.percentage or 0).normalize():f} %"}
        return {}
    if kind == "guarantee":
        column = (
            Guarantee.guarantor_customer_id
            if holder_kind == "customer"
            else Guarantee.guarantor_person_id
        )
        amount = data.get("amount")
        if amount is None:
            return None
        same = select(Guarantee.id).where(
            Guarantee.borrower_id == held_id,
            column == holder_id,
            Guarantee.amount == Decimal(amount),
            Guarantee.currency == (data.get("currency") or "CNY"),
            Guarantee.facility_id.is_(None),
        )
        return {} if session.scalars(same).first() else None
    member = session.get(GroupMember, held_id)
    group = session.scalars(
        select(CustomerGroup).where(CustomerGroup.parent_customer_id == holder_id)
    ).first()
    if group is not None and (held_id == holder_id or (member and member.group_id == group.id)):
        return {}
    return None


def _record(
    session: Session, actor: Actor, kind: str, holder: Party, held_id: str, data: Mapping[str, Any]
) -> str:
    holder_kind, holder_id = holder
    if kind == "shareholding":
        body = {f"holder_{holder_kind}_id": holder_id, "percentage": data.get("percentage")}
        return links.add_shareholder(session, actor, held_id, body).id
    if kind == "control":
        body = {f"controller_{holder_kind}_id": holder_id, "basis": data.get("basis")}
        return links.add_controller(session, actor, held_id, body).id
    if kind == "guarantee":
        body = {
            f"guarantor_{holder_kind}_id": holder_id,
            "amount": data.get("amount"),
            "currency": data.get("currency") or "CNY",
        }
        return links.add_guarantee(session, actor, held_id, body).id
    group = session.scalars(
        select(CustomerGroup).where(CustomerGroup.parent_customer_id == holder_id)
    ).first()
    if group is None:
        if not data.get("group_name"):
            raise InvalidInputError(
                "no group", errors={"group_name": "the parent heads no group yet: name it"}
            )
        group = links.create_group(
            session, actor, {"name": data["group_name"], "parent_customer_id": holder_id}
        )
        if held_id == holder_id:
            return group.id
    return links.add_member(session, actor, group.id, {"customer_id": held_id}).customer_id
