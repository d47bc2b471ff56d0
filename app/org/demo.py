"""The demo org tree and where the demo staff sit in it (seeded by `flask seed-demo`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.identity.models import User
from app.org.models import OrgPlacement, OrgUnit

# (id, kind, name, parent id), parents first.
DEMO_UNITS: tuple[tuple[str, str, str, str | None], ...] = (
    ("HO", "head_office", "总行", None),
    ("SH", "branch", "上海分行", "HO"),
    ("SH-PD", "sub_branch", "上海浦东支行", "SH"),
    ("SH-PD-T1", "team", "浦东支行对公一组", "SH-PD"),
    ("SH-PD-T2", "team", "浦东支行对公二组", "SH-PD"),
    ("BJ", "branch", "北京分行", "HO"),
    ("BJ-CY", "sub_branch", "北京朝阳支行", "BJ"),
    ("BJ-CY-T1", "team", "朝阳支行对公一组", "BJ-CY"),
)

# user id -> (unit id, role); users not listed here and not in the tree see only their own
# customers (or everything, for administrators and risk officers).
DEMO_PLACEMENTS: dict[str, tuple[str, str]] = {
    "rm_li": ("SH-PD-T1", "rm"),
    "rm_wu": ("SH-PD-T2", "rm"),
    "rm_ma": ("BJ-CY-T1", "rm"),
    "lead_zhang": ("SH-PD-T1", "team_lead"),
    "branch_chen": ("SH-PD", "manager"),
    "reviewer_wang": ("HO", "staff"),
    "review_lead_he": ("HO", "staff"),
    "risk_zhao": ("HO", "staff"),
    "hq_liu": ("HO", "staff"),
    "committee_sun": ("HO", "staff"),
    "supervisor_qian": ("HO", "staff"),
    "designer_zhou": ("HO", "staff"),
    "admin": ("HO", "staff"),
}


def seed_demo_tree(session: Session) -> None:
    """Create the demo units and place the demo staff that exist (idempotent)."""
    for unit_id, kind, name, parent_id in DEMO_UNITS:
        if session.get(OrgUnit, unit_id) is None:
            parent = session.get(OrgUnit, parent_id) if parent_id else None
            path = f"{parent.path if parent else '/'}{unit_id}/"
            session.add(OrgUnit(id=unit_id, kind=kind, name=name, parent_id=parent_id, path=path))
            session.flush()
    for user_id, (unit_id, role) in DEMO_PLACEMENTS.items():
        if session.get(User, user_id) is not None and session.get(OrgPlacement, user_id) is None:
            session.add(OrgPlacement(user_id=user_id, unit_id=unit_id, role=role))
    session.flush()
