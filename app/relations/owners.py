"""Beneficial owners (受益所有人), computed from the ownership graph, never typed in.

《受益所有人信息管理办法》(2024): a natural person who (1) holds at least 25 % directly or
indirectly, or (3) controls the company alone or jointly; when nobody does, the person who runs
day-to-day management. Indirect holdings multiply the percentages along each chain and add up
the chains (a diamond counts both sides). Only simple chains count: a chain stops where it
would visit a company a second time, so cross-holdings (cycles) end and are not compounded.
Control is an actual-control edge or a holding above 50 %, followed through controlled parents.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.people.models import Position

THRESHOLD = Decimal("25")
# Chains longer than this are not followed (a guard against pathological graphs).
MAX_DEPTH = 12
# Day-to-day management first (总经理), then the legal representative, then the chairman.
FALLBACK_ROLES = ("general_manager", "legal_representative", "chairman")

_WALK = text(
    """
WITH RECURSIVE chain(node, is_person, share, path, depth) AS (
    SELECT CAST(:customer_id AS VARCHAR(36)), 0, CAST(1 AS NUMERIC),
           CAST(',' || :customer_id || ',' AS VARCHAR(1000)), 0
    UNION ALL
    SELECT CAST(COALESCE(o.holder_customer_id, o.holder_person_id) AS VARCHAR(36)),
           CASE WHEN o.holder_person_id IS NULL THEN 0 ELSE 1 END,
           CAST(chain.share * o.percentage / 100.0 AS NUMERIC),
           CAST(chain.path || COALESCE(o.holder_customer_id, o.holder_person_id) || ','
                AS VARCHAR(1000)),
           chain.depth + 1
      FROM chain JOIN ownership o ON o.held_id = chain.node AND o.kind = 'shareholding'
     WHERE chain.is_person = 0 AND chain.depth < :max_depth
       AND chain.path NOT LIKE '%,' || COALESCE(o.holder_customer_id, o.holder_person_id) || ',%'
),
ctl(node, is_person) AS (
    SELECT CAST(:customer_id AS VARCHAR(36)), 0
    UNION
    SELECT CAST(COALESCE(o.holder_customer_id, o.holder_person_id) AS VARCHAR(36)),
           CASE WHEN o.holder_person_id IS NULL THEN 0 ELSE 1 END
      FROM ctl JOIN ownership o ON o.held_id = ctl.node
     WHERE ctl.is_person = 0 AND (o.kind = 'control' OR o.percentage > 50)
)
SELECT node, 'ownership', SUM(share), COUNT(*) FROM chain WHERE is_person = 1 GROUP BY node
UNION ALL
SELECT node, 'control', NULL, NULL FROM ctl WHERE is_person = 1
"""
)


@dataclass(frozen=True)
class BeneficialOwner:
    person_id: str
    # ownership and/or control, or senior_manager (the fallback)
    bases: tuple[str, ...]
    # Effective holding in percent (0 when the basis is control or management only).
    share: Decimal
    chains: int = 0
    role: str | None = None


def effective_holdings(
    session: Session, customer_id: str
) -> tuple[dict[str, tuple[Decimal, int]], set[str]]:
    """({person id: (effective %, chains)}, {person ids in control}) for one company."""
    holdings: dict[str, tuple[Decimal, int]] = {}
    controllers: set[str] = set()
    rows = session.execute(_WALK, {"customer_id": customer_id, "max_depth": MAX_DEPTH})
    for node, basis, share, chains in rows:
        if basis == "ownership":
            percent = (Decimal(str(share)) * 100).quantize(Decimal("0.0001"))
            holdings[str(node)] = (percent, int(chains))
        else:
            controllers.add(str(node))
    return holdings, controllers


def beneficial_owners(
    session: Session, customer_id: str, positions: list[tuple[str, str]] | None = None
) -> list[BeneficialOwner]:
    """The company's beneficial owners, largest holding first; the fallback when none.

    `positions` ((person id, role) of the company, when the caller has them) saves a query.
    """
    holdings, controllers = effective_holdings(session, customer_id)
    owners: list[BeneficialOwner] = []
    for person_id in sorted(set(holdings) | controllers):
        share, chains = holdings.get(person_id, (Decimal(0), 0))
        bases = tuple(
            basis
            for basis, applies in (
                ("ownership", share >= THRESHOLD),
                ("control", person_id in controllers),
            )
            if applies
        )
        if bases:
            owners.append(BeneficialOwner(person_id, bases, share, chains))
    if owners:
        return sorted(owners, key=lambda o: (-o.share, o.person_id))
    if positions is None:
        positions = [
            (person_id, role)
            for person_id, role in session.execute(
                select(Position.person_id, Position.role).where(
                    Position.customer_id == customer_id, Position.role.in_(FALLBACK_ROLES)
                )
            )
        ]
    return _senior_managers(positions)


def _senior_managers(rows: list[tuple[str, str]]) -> list[BeneficialOwner]:
    by_role: dict[str, list[str]] = {}
    for person_id, role in rows:
        by_role.setdefault(role, []).append(person_id)
    for role in FALLBACK_ROLES:
        if role in by_role:
            return [
                BeneficialOwner(person_id, ("senior_manager",), Decimal(0), role=role)
                for person_id in sorted(by_role[role])
            ]
    return []
