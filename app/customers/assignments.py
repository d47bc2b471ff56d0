"""Who owns a customer: RM, team and branch, derived from the org tree, and the dated history
of RM assignments."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers.models import Customer, RmAssignment
from app.db import utcnow
from app.identity.actor import Actor
from app.identity.models import User
from app.org.models import OrgPlacement, OrgUnit
from app.org.units import BRANCH_KINDS

# Who may give a customer to another RM (an RM cannot hand customers over or take them).
ASSIGNERS = ("relationship_manager_lead", "branch_manager", "admin")


class OrgLookup:
    """Users, placements and units by id: preloaded for a batch, else read through the
    session (a plain dict lookup is much cheaper than Session.get per record)."""

    def __init__(
        self,
        session: Session,
        users: list[User] = [],  # noqa: B006 - read only
        placements: list[OrgPlacement] = [],  # noqa: B006 - read only
        units: list[OrgUnit] = [],  # noqa: B006 - read only
    ) -> None:
        self.session = session
        self.users: dict[str, User | None] = {u.id: u for u in users}
        self.placements: dict[str, OrgPlacement | None] = {p.user_id: p for p in placements}
        self.units: dict[str, OrgUnit | None] = {u.id: u for u in units}

    def user(self, user_id: str) -> User | None:
        if user_id not in self.users:
            self.users[user_id] = self.session.get(User, user_id)
        return self.users[user_id]

    def placement(self, user_id: str) -> OrgPlacement | None:
        if user_id not in self.placements:
            self.placements[user_id] = self.session.get(OrgPlacement, user_id)
        return self.placements[user_id]

    def unit(self, unit_id: str) -> OrgUnit | None:
        if unit_id not in self.units:
            self.units[unit_id] = self.session.get(OrgUnit, unit_id)
        return self.units[unit_id]

    def branch_of(self, unit: OrgUnit) -> OrgUnit | None:
        """The nearest branch or sub-branch at or above `unit`."""
        for unit_id in reversed([part for part in unit.path.split("/") if part]):
            found = self.unit(unit_id)
            if found is not None and found.kind in BRANCH_KINDS:
                return found
        return None


def _unit_owner(org: OrgLookup, unit: OrgUnit) -> tuple[str | None, str | None]:
    """(team id, branch id) for a unit: a team and its branch, a branch, or nothing (HO)."""
    if unit.kind == "team":
        branch = org.branch_of(unit)
        return unit.id, branch.id if branch else None
    if unit.kind in BRANCH_KINDS:
        return None, unit.id
    return None, None


def resolve(
    session: Session,
    data: Mapping[str, Any],
    current: Customer | None,
    creator: Actor | None,
    org: OrgLookup | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The new rm_id/team_id/branch_id for the org fields given in `data`, and errors.

    Explicit team/branch win; otherwise they follow the RM's placement (a new RM brings their
    team and branch), and for a new customer with neither, the creator's placement.
    """
    given = {k: data[k] for k in ("rm_id", "team_id", "branch_id") if k in data}
    if current is not None and not given:
        return {}, {}
    org = org or OrgLookup(session)
    errors: dict[str, str] = {}
    rm_id = given.get("rm_id", current.rm_id if current else None)
    if rm_id is not None and (not isinstance(rm_id, str) or org.user(rm_id) is None):
        errors["rm_id"] = f"user {rm_id} not found"
    team = _unit(org, given.get("team_id"), ("team",), "team_id", errors)
    branch = _unit(org, given.get("branch_id"), BRANCH_KINDS, "branch_id", errors)
    if errors:
        return {}, errors
    if team is not None and branch is not None and not team.path.startswith(branch.path):
        errors["team_id"] = f"team {team.id} is not part of {branch.id}"
        return {}, errors
    team_id: str | None
    branch_id: str | None
    if team is not None:
        team_id, derived = _unit_owner(org, team)
        branch_id = branch.id if branch is not None else derived
    elif branch is not None:
        team_id, branch_id = None, branch.id
    elif "team_id" in given or "branch_id" in given:
        team_id, branch_id = None, None
    else:
        team_id, branch_id = _from_placement(org, rm_id, current, creator)
    return {"rm_id": rm_id, "team_id": team_id, "branch_id": branch_id}, {}


def _unit(
    org: OrgLookup, unit_id: Any, kinds: tuple[str, ...], name: str, errors: dict[str, str]
) -> OrgUnit | None:
    if unit_id is None or unit_id == "":
        return None
    unit = org.unit(unit_id) if isinstance(unit_id, str) else None
    if unit is None:
        errors[name] = f"org unit {unit_id} not found"
    elif unit.kind not in kinds:
        errors[name] = f"{unit_id} is a {unit.kind}, not a {' or '.join(kinds)}"
    return unit


def _from_placement(
    org: OrgLookup, rm_id: str | None, current: Customer | None, creator: Actor | None
) -> tuple[str | None, str | None]:
    for user_id in (rm_id, creator.user_id if creator and current is None else None):
        placement = org.placement(user_id) if user_id else None
        unit = org.unit(placement.unit_id) if placement else None
        if unit is not None:
            return _unit_owner(org, unit)
    if current is not None:
        return current.team_id, current.branch_id
    return None, None


def open_assignment(session: Session, customer: Customer, by: str | None, at: datetime) -> None:
    """Close the customer's open assignment (if any) and open one for its current owner."""
    previous = session.scalars(
        select(RmAssignment).where(
            RmAssignment.customer_id == customer.id, RmAssignment.valid_to.is_(None)
        )
    ).first()
    if previous is not None:
        previous.valid_to = at
    session.add(
        RmAssignment(
            customer_id=customer.id,
            rm_id=customer.rm_id,
            team_id=customer.team_id,
            branch_id=customer.branch_id,
            valid_from=at,
            assigned_by=by,
        )
    )


def history(session: Session, customer_id: str) -> list[RmAssignment]:
    return list(
        session.scalars(
            select(RmAssignment)
            .where(RmAssignment.customer_id == customer_id)
            .order_by(RmAssignment.valid_from, RmAssignment.id)
        )
    )


def rm_at(session: Session, customer_id: str, at: datetime | None = None) -> str | None:
    """The RM who managed the customer at `at` (now when None)."""
    when = at or utcnow()
    row = session.scalars(
        select(RmAssignment)
        .where(
            RmAssignment.customer_id == customer_id,
            RmAssignment.valid_from <= when,
            (RmAssignment.valid_to.is_(None)) | (RmAssignment.valid_to > when),
        )
        .order_by(RmAssignment.valid_from.desc())
    ).first()
    return row.rm_id if row else None
