"""Seeding a store in bulk: consistent, realistic data that the use cases can read."""

from __future__ import annotations

from collections import Counter

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.customers import customers, seeding, uscc
from app.customers.models import Customer, CustomerChange, CustomerSource, RmAssignment
from app.customers.overview import overview
from app.errors import ConflictError
from app.identity.actor import Actor, OrgScope
from app.lending.models import Loan
from app.people.cipher import current as cipher
from app.people.identifiers import id_problem
from app.people.models import Person, Position
from app.relations.models import GroupMember, Ownership
from app.relations.owners import beneficial_owners

COUNT = 300
HEAD_OFFICE = Actor("hq_liu", frozenset({"head_office_credit"}), OrgScope(everything=True))


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> seeding.Progress:
    with sessions() as session:
        lines: list[seeding.Progress] = []
        state = seeding.seed(session, COUNT, seed_value=42, chunk=100, after_chunk=lines.append)
        session.commit()
    assert [p.customers for p in lines] == [100, 200, 300]
    assert lines[-1].rows == state.rows and state.rows_per_s > 0
    return state


def test_seeding_writes_about_ten_related_rows_per_customer(
    seeded: seeding.Progress, session: Session
) -> None:
    counts = {
        name: session.scalar(text(f'SELECT count(*) FROM "{name}"'))  # noqa: S608 - own names
        for name in seeded.tables
    }
    assert counts == dict(seeded.tables)
    assert counts["customer"] == counts["customer_source"] == COUNT
    assert counts["customer_change"] == counts["customer_rm_assignment"] == COUNT
    related = sum(counts.values()) - COUNT
    assert 8 * COUNT <= related <= 14 * COUNT, counts
    for name in ("person", "person_position", "ownership", "facility", "loan", "interaction"):
        assert counts[name] > COUNT / 4, name
    for name in ("customer_group", "customer_group_member", "guarantee", "risk_signal"):
        assert counts[name] > 0, name


def test_seeded_customers_are_valid_and_spread_over_the_demo_rms(
    seeded: seeding.Progress, session: Session
) -> None:
    rows = list(session.scalars(select(Customer)))
    for customer in rows:
        assert uscc.problems(customer.uscc) == [], customer.uscc
        assert customer.region_code == customer.uscc[2:8]
        assert customer.custom["aml_risk_level"] in ("low", "medium", "high")
    owners = Counter((c.rm_id, c.team_id, c.branch_id) for c in rows)
    assert set(owners) == {
        ("rm_li", "SH-PD-T1", "SH-PD"),
        ("rm_wu", "SH-PD-T2", "SH-PD"),
        ("rm_ma", "BJ-CY-T1", "BJ-CY"),
    }
    assert Counter(c.status for c in rows).most_common(1)[0][0] == "active"
    # Every customer has its creation row, matching the record, and its open assignment.
    change = session.scalars(select(CustomerChange).where(CustomerChange.field == "*")).first()
    assert change is not None and change.source == "sync" and change.version == 1
    customer = session.get(Customer, change.customer_id)
    assert customer is not None and change.new_value["uscc"] == customer.uscc
    assert change.new_value["rm_id"] == customer.rm_id
    assignment = session.scalars(
        select(RmAssignment).where(RmAssignment.customer_id == customer.id)
    ).one()
    assert assignment.rm_id == customer.rm_id and assignment.valid_to is None
    source = session.scalars(
        select(CustomerSource).where(CustomerSource.customer_id == customer.id)
    ).one()
    assert source.source_system == "ECIF"


def test_seeded_personal_data_is_sealed_and_opens_with_the_key(
    seeded: seeding.Progress, session: Session
) -> None:
    box = cipher()
    for person in session.scalars(select(Person).limit(50)):
        number = box.open(person.id_number_sealed, f"person:{person.id}:id_number")
        assert id_problem("resident_id", number) is None
        assert person.id_number_hash == box.lookup("resident_id", number)
        assert person.id_number_masked == number[:3] + "*" * 11 + number[-4:]
        assert number not in person.id_number_sealed
        assert person.phone_sealed is not None
        phone = box.open(person.phone_sealed, f"person:{person.id}:phone")
        assert person.phone_hash == box.lookup("phone", phone)


def test_seeded_groups_have_beneficial_owners_and_a_360_view(
    seeded: seeding.Progress, session: Session
) -> None:
    member = session.scalars(
        select(GroupMember.customer_id)
        .join(Ownership, Ownership.held_id == GroupMember.customer_id)
        .where(Ownership.holder_customer_id.is_not(None))
    ).first()
    assert member is not None, "a group member held by another company"
    owners = beneficial_owners(session, member)
    assert owners, "ownership chains reach natural persons, or a manager stands in"
    customer = session.get(Customer, member)
    assert customer is not None
    rm = Actor(str(customer.rm_id), frozenset({"relationship_manager"}))
    for reader in (rm, HEAD_OFFICE):
        view = overview(session, reader, member)
        assert view["profile"]["uscc"] == customer.uscc
        assert view["group"]["member_count"] >= 3
        assert view["relationships"]["shareholders"]
        assert view["people"], "the legal representative at least"
        assert view["beneficial_owners"]
    revealed = overview(session, rm, member, reveal_reason="KYC refresh for the annual review")
    numbers = [p["person"]["id_number"] for p in revealed["people"]]
    assert all(id_problem("resident_id", n) is None for n in numbers)
    borrower = session.scalars(select(Loan.customer_id)).first()
    assert borrower is not None
    assert overview(session, HEAD_OFFICE, borrower)["facilities"][0]["loans"]
    positions = session.scalar(select(func.count()).select_from(Position))
    assert positions and positions >= COUNT


def test_seeding_refuses_a_store_that_has_customers(
    seeded: seeding.Progress, session: Session, app: Flask
) -> None:
    with pytest.raises(ConflictError, match=f"already has {COUNT} customers"):
        seeding.seed(session, 10)
    found, total = customers.search(session, HEAD_OFFICE, customers.CustomerQuery(limit=5))
    assert total == COUNT and len(found) == 5


def test_seed_demo_cli_writes_customers_and_shows_progress(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    result = app.test_cli_runner().invoke(
        args=["seed-demo", "--customers", "120", "--seed", "5", "--chunk", "100"]
    )
    assert result.exit_code == 0, result.output
    assert "100/120 customers" in result.output and "rows/s" in result.output
    assert "Seeded 120 customers" in result.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 120
    again = app.test_cli_runner().invoke(args=["seed-demo", "--customers", "10"])
    assert again.exit_code == 1
    assert "already has 120 customers" in again.output


def test_seeding_a_large_store_adds_synthetic_rms_with_books_of_about_400(
    session: Session,
) -> None:
    owners = seeding.rm_books(session, 2000)
    assert len(owners) == 5
    assert [o.rm_id for o in owners[3:]] == ["rm_s0001", "rm_s0002"]
    assert {(o.team_id, o.branch_id) for o in owners[3:]} == {
        ("SH-PD-T2", "SH-PD"),
        ("BJ-CY-T1", "BJ-CY"),
    }
    assert len(seeding.rm_books(session, 2000)) == 5, "a second call reuses them"
    session.rollback()  # the identity tables survive between tests: leave no users behind
