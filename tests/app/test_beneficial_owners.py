"""Beneficial owners from the ownership graph: chains, diamonds, cycles, control, fallback."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from app.people import people
from app.relations.owners import beneficial_owners
from tests.party_factories import RM, controls, holds, make_company, make_person


def _owners(session: Session, customer_id: str) -> dict[str, tuple[Decimal, tuple[str, ...]]]:
    return {o.person_id: (o.share, o.bases) for o in beneficial_owners(session, customer_id)}


def test_owners_multiply_along_a_chain(session: Session) -> None:
    target, parent = make_company(session, "目标"), make_company(session, "母公司")
    major, minor, direct = make_person(session), make_person(session), make_person(session)
    holds(session, major, parent, "60", person=True)
    holds(session, minor, parent, "40", person=True)
    holds(session, parent, target, "50")
    holds(session, direct, target, "10", person=True)
    owners = _owners(session, target)
    # 60 % x 50 % = 30 %: an owner; 40 % x 50 % = 20 % and a direct 10 % are not.
    assert owners == {major: (Decimal("30.0000"), ("ownership",))}


def test_owner_at_exactly_25_percent_qualifies(session: Session) -> None:
    target, parent = make_company(session), make_company(session)
    owner = make_person(session)
    holds(session, owner, parent, "50", person=True)
    holds(session, parent, target, "50")
    assert _owners(session, target) == {owner: (Decimal("25.0000"), ("ownership",))}


def test_owners_sum_both_sides_of_a_diamond(session: Session) -> None:
    target = make_company(session, "目标")
    top, left, right = make_company(session), make_company(session), make_company(session)
    owner = make_person(session)
    holds(session, owner, top, "100", person=True)
    holds(session, top, left, "50")
    holds(session, top, right, "50")
    holds(session, left, target, "30")
    holds(session, right, target, "30")
    rows = beneficial_owners(session, target)
    # Each side alone is 15 %; the two chains together make 30 %.
    assert [(o.person_id, o.share, o.chains) for o in rows] == [(owner, Decimal("30.0000"), 2)]


def test_owners_end_on_a_cross_holding_cycle(session: Session) -> None:
    target, holding = make_company(session, "目标"), make_company(session, "控股")
    owner, other = make_person(session), make_person(session)
    holds(session, holding, target, "60")
    holds(session, target, holding, "40")  # cross-holding: target -> holding -> target
    holds(session, owner, holding, "50", person=True)
    holds(session, other, holding, "10", person=True)
    owners = _owners(session, target)
    # Simple chains only: 60 % x 50 % = 30 %; the loop back through target is not compounded.
    assert owners == {owner: (Decimal("30.0000"), ("ownership",))}


def test_owners_of_a_company_cycle_without_persons_fall_back(session: Session) -> None:
    a, b = make_company(session), make_company(session)
    holds(session, a, b, "50")
    holds(session, b, a, "50")
    manager = make_person(session)
    people.appoint(session, RM, a, {"person_id": manager, "role": "general_manager"})
    assert _owners(session, a) == {manager: (Decimal(0), ("senior_manager",))}


def test_owners_include_actual_controllers_directly_and_through_a_parent(
    session: Session,
) -> None:
    target, parent = make_company(session), make_company(session)
    direct, indirect, holder = make_person(session), make_person(session), make_person(session)
    controls(session, direct, target, person=True)
    controls(session, indirect, parent, person=True)
    holds(session, parent, target, "60")  # a majority: whoever controls parent controls target
    holds(session, holder, target, "40", person=True)
    owners = _owners(session, target)
    assert owners[direct] == (Decimal(0), ("control",))
    assert owners[indirect] == (Decimal(0), ("control",))
    assert owners[holder] == (Decimal("40.0000"), ("ownership",))


def test_majority_holder_is_owner_by_ownership_and_control(session: Session) -> None:
    target = make_company(session)
    owner = make_person(session)
    holds(session, owner, target, "80", person=True)
    assert _owners(session, target) == {owner: (Decimal("80.0000"), ("ownership", "control"))}


def test_fallback_prefers_the_general_manager_then_the_legal_representative(
    session: Session,
) -> None:
    target = make_company(session)
    small, manager, legal = make_person(session), make_person(session), make_person(session)
    holds(session, small, target, "20", person=True)
    people.appoint(session, RM, target, {"person_id": legal, "role": "legal_representative"})
    assert _owners(session, target) == {legal: (Decimal(0), ("senior_manager",))}
    people.appoint(session, RM, target, {"person_id": manager, "role": "general_manager"})
    rows = beneficial_owners(session, target)
    assert [(o.person_id, o.bases, o.role) for o in rows] == [
        (manager, ("senior_manager",), "general_manager")
    ]


def test_no_owner_and_no_manager_gives_nobody(session: Session) -> None:
    assert beneficial_owners(session, make_company(session)) == []
