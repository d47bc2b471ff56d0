"""Org units (a tree with a materialized path) and staff placements in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

# The kinds a unit may have, from the root down.
KINDS = ("head_office", "branch", "sub_branch", "team")
# A placement's role. An RM sees the customers they own; every other role sees the customers
# of the unit's whole subtree (a team lead the team, a branch manager the branch with its
# sub-branches, head-office staff everything).
ROLES = ("rm", "team_lead", "manager", "staff")


class OrgUnit(Base):
    __tablename__ = "org_unit"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    # "/HO/SH/SH-PD/": the ids from the root, so a subtree is one prefix match.
    path: Mapped[str] = mapped_column(String(1000), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrgPlacement(Base):
    """Where a user sits: one unit and one role per user."""

    __tablename__ = "org_placement"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[str] = mapped_column(ForeignKey("org_unit.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
