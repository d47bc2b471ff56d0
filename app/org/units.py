"""Use cases on the org tree: units, placements, subtrees and the scope a placement opens."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor, OrgScope
from app.identity.models import User
from app.org.models import KINDS, ROLES, OrgPlacement, OrgUnit

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Which kinds may sit directly under which: a team under a branch or sub-branch, etc.
_PARENTS: dict[str, tuple[str | None, ...]] = {
    "head_office": (None,),
    "branch": ("head_office",),
    "sub_branch": ("branch", "sub_branch"),
    "team": ("head_office", "branch", "sub_branch"),
}
BRANCH_KINDS = ("branch", "sub_branch")


def create_unit(
    session: Session, actor: Actor, unit_id: str, kind: str, name: str, parent_id: str | None
) -> OrgUnit:
    if not actor.is_admin:
        raise PermissionDeniedError("only administrators may change the org tree")
    errors: dict[str, str] = {}
    if not _ID.match(unit_id or ""):
        errors["id"] = "1-64 letters, digits, '_' or '-', starting with a letter or digit"
    elif session.get(OrgUnit, unit_id) is not None:
        errors["id"] = f"unit {unit_id} already exists"
    if kind not in KINDS:
        errors["kind"] = f"one of {', '.join(KINDS)}"
    if not name.strip():
        errors["name"] = "is required"
    parent = session.get(OrgUnit, parent_id) if parent_id else None
    if parent_id and parent is None:
        errors["parent_id"] = f"unit {parent_id} not found"
    elif kind in KINDS and (parent.kind if parent else None) not in _PARENTS[kind]:
        allowed = ", ".join(k or "no parent" for k in _PARENTS[kind])
        errors["parent_id"] = f"a {kind} sits under: {allowed}"
    if errors:
        raise InvalidInputError("invalid org unit", errors=errors)
    unit = OrgUnit(
        id=unit_id,
        parent_id=parent.id if parent else None,
        kind=kind,
        name=name.strip(),
        path=f"{parent.path if parent else '/'}{unit_id}/",
    )
    session.add(unit)
    session.flush()
    return unit


def get_unit(session: Session, unit_id: str) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFoundError(f"org unit {unit_id} not found")
    return unit


def list_units(session: Session) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).order_by(OrgUnit.path)))


def subtree_ids(session: Session, unit: OrgUnit) -> list[str]:
    return list(
        session.scalars(
            select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))
        )
    )


def branch_of(session: Session, unit: OrgUnit) -> OrgUnit | None:
    """The nearest branch or sub-branch at or above `unit`."""
    for unit_id in reversed([part for part in unit.path.split("/") if part]):
        found = session.get(OrgUnit, unit_id)  # a handful of primary keys, usually cached
        if found is not None and found.kind in BRANCH_KINDS:
            return found
    return None


def place(session: Session, actor: Actor, user_id: str, unit_id: str, role: str) -> OrgPlacement:
    """Put a user in a unit with a role (replacing any earlier placement)."""
    if not actor.is_admin:
        raise PermissionDeniedError("only administrators may place staff")
    errors: dict[str, str] = {}
    if session.get(User, user_id) is None:
        errors["user_id"] = f"user {user_id} not found"
    if session.get(OrgUnit, unit_id) is None:
        errors["unit_id"] = f"unit {unit_id} not found"
    if role not in ROLES:
        errors["role"] = f"one of {', '.join(ROLES)}"
    if errors:
        raise InvalidInputError("invalid placement", errors=errors)
    placement = session.get(OrgPlacement, user_id)
    if placement is None:
        placement = OrgPlacement(user_id=user_id, unit_id=unit_id, role=role)
        session.add(placement)
    else:
        placement.unit_id, placement.role = unit_id, role
    session.flush()
    return placement


def placement_of(session: Session, user_id: str) -> OrgPlacement | None:
    return session.get(OrgPlacement, user_id)


def members(session: Session, unit_id: str) -> list[OrgPlacement]:
    get_unit(session, unit_id)
    return list(
        session.scalars(
            select(OrgPlacement)
            .where(OrgPlacement.unit_id == unit_id)
            .order_by(OrgPlacement.user_id)
        )
    )


def scope_of(session: Session, user_id: str) -> OrgScope:
    """The customers a user's placement opens besides their own (read once at sign-in)."""
    placement = session.get(OrgPlacement, user_id)
    if placement is None or placement.role == "rm":
        return OrgScope()
    unit = session.get(OrgUnit, placement.unit_id)
    if unit is None:
        return OrgScope()
    if unit.parent_id is None:
        return OrgScope(everything=True)
    return OrgScope(unit_ids=frozenset(subtree_ids(session, unit)))
