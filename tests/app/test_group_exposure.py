"""Group members and exposure: control chains, cycles, diamonds, recorded groups, each once."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from app.lending import loans
from app.relations import links
from app.relations.exposure import Exposure, exposure, members
from tests.party_factories import RM, controls, holds, make_company, make_facility, make_person


def _ids(session: Session, customer_id: str) -> set[str]:
    rows, total = members(session, customer_id)
    assert total == len(rows)
    return {cid for cid, _ in rows}


def _cny(session: Session, customer_id: str) -> Exposure:
    (row,) = [e for e in exposure(session, customer_id) if e.currency == "CNY"]
    return row


def test_group_follows_majority_chains_both_ways(session: Session) -> None:
    top, middle, bottom = make_company(session), make_company(session), make_company(session)
    minority, outsider = make_company(session), make_company(session)
    holds(session, top, middle, "60")
    holds(session, middle, bottom, "70")
    holds(session, minority, bottom, "30")  # not control: not in the group
    links.add_guarantee(  # a guarantee is contagion, not group membership
        session, RM, bottom, {"guarantor_customer_id": outsider, "amount": Decimal("5")}
    )
    assert _ids(session, bottom) == {top, middle, bottom}
    assert _ids(session, top) == {top, middle, bottom}


def test_group_exposure_sums_facilities_and_loans_once_per_company(session: Session) -> None:
    top, middle, bottom = make_company(session), make_company(session), make_company(session)
    holds(session, top, middle, "60")
    holds(session, middle, bottom, "70")
    make_facility(session, top, "100")
    drawn_under = make_facility(session, middle, "200")
    make_facility(session, bottom, "300")
    make_facility(session, bottom, "7", currency="USD")
    loans.draw(
        session,
        RM,
        middle,
        {
            "facility_id": drawn_under,
            "contract_no": "JJ-1",
            "amount": Decimal("50"),
            "start_date": "2026-02-01",
            "maturity_date": "2026-08-01",
        },
    )
    cny = _cny(session, bottom)
    assert (cny.facility_amount, cny.loan_balance, cny.undrawn) == (
        Decimal("600.00"),
        Decimal("50.00"),
        Decimal("550.00"),
    )
    assert cny.total == Decimal("600.00")  # drawn + undrawn: the loan is not counted twice
    assert cny.customers == 3
    (usd,) = [e for e in exposure(session, top) if e.currency == "USD"]
    assert (usd.facility_amount, usd.customers) == (Decimal("7.00"), 1)


def test_group_walk_ends_on_cycles_and_counts_each_company_once(session: Session) -> None:
    a, b, c = make_company(session), make_company(session), make_company(session)
    holds(session, a, b, "60")
    holds(session, b, c, "60")
    holds(session, c, a, "60")  # a -> b -> c -> a
    controls(session, a, c)  # and a shortcut
    for company, amount in ((a, "1"), (b, "10"), (c, "100")):
        make_facility(session, company, amount)
    assert _ids(session, b) == {a, b, c}
    assert _cny(session, b).facility_amount == Decimal("111.00")


def test_group_diamond_counts_the_shared_company_once(session: Session) -> None:
    owner = make_person(session)
    left, right, bottom = make_company(session), make_company(session), make_company(session)
    holds(session, owner, left, "60", person=True)  # common control by a natural person
    holds(session, owner, right, "60", person=True)
    controls(session, left, bottom)
    holds(session, right, bottom, "60")
    for company, amount in ((left, "1"), (right, "10"), (bottom, "100")):
        make_facility(session, company, amount)
    assert _ids(session, left) == {left, right, bottom}  # the person links, but is no member
    assert _cny(session, left).facility_amount == Decimal("111.00")


def test_recorded_group_members_are_in_the_group(session: Session) -> None:
    parent, member, subsidiary = make_company(session), make_company(session), make_company(session)
    group = links.create_group(session, RM, {"name": "示例集团", "parent_customer_id": parent})
    links.add_member(session, RM, group.id, {"customer_id": member})
    holds(session, member, subsidiary, "51")
    make_facility(session, subsidiary, "5")
    assert _ids(session, parent) == {parent, member, subsidiary}
    assert _cny(session, parent).facility_amount == Decimal("5.00")


def test_a_lone_customer_is_its_own_group(session: Session) -> None:
    alone = make_company(session)
    assert _ids(session, alone) == {alone}
    assert exposure(session, alone) == []
