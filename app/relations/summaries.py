"""The group and beneficial-owner sections as a reader sees them (360 view and own endpoints)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.identity.actor import Actor
from app.people import disclosure
from app.people.models import Person
from app.relations import exposure, owners

GROUP_MEMBERS_SHOWN = 50
_PERSONS = select(Person).where(Person.id.in_(bindparam("ids", expanding=True)))


def group(session: Session, customer_id: str, recorded: Any) -> dict[str, Any]:
    """Members (first 50 by name, and how many), exposure per currency; one query."""
    members, total, sums = exposure.members_and_exposure(session, customer_id, GROUP_MEMBERS_SHOWN)
    return {
        "recorded": recorded,
        "members": [{"id": cid, "name": name} for cid, name in members],
        "member_count": total,
        "exposure": [
            {
                "currency": e.currency,
                "facility_amount": e.facility_amount,
                "loan_balance": e.loan_balance,
                "undrawn": e.undrawn,
                "total": e.total,
                "customers": e.customers,
            }
            for e in sums
        ],
    }


def beneficial_owners(
    session: Session,
    actor: Actor,
    customer_id: str,
    *,
    reason: str | None = None,
    known: Mapping[str, Person] | None = None,
    positions: list[tuple[str, str]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The owners with their persons as the reader may see them, and every person view made.

    `known` persons (already loaded, e.g. the customer's executives) are not read again and
    are presented with the owners, so one unmask log entry covers each person once;
    `positions` ((person id, role), when loaded) spare the fallback's query.
    """
    rows = owners.beneficial_owners(session, customer_id, positions)
    persons = dict(known or {})
    missing = {o.person_id for o in rows} - persons.keys()
    if missing:
        for person in session.scalars(_PERSONS, {"ids": sorted(missing)}):
            persons[person.id] = person
    views = disclosure.present(
        session, actor, persons.values(), reason=reason, customer_id=customer_id
    )
    return [
        {
            "person": views[o.person_id],
            "bases": list(o.bases),
            "share": o.share,
            "chains": o.chains,
            "role": o.role,
        }
        for o in rows
        if o.person_id in views
    ], views
