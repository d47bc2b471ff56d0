"""The connected group of a customer and the group's exposure, by recursive SQL.

Who is in a customer's group (集团客户, 《商业银行集团客户授信业务风险管理指引》):
- every member of a recorded group (customer_group_member), the parent included;
- every company linked by control: an actual-control edge, or a shareholding of more than
  50 %, in either direction (parent and subsidiary, and through them their siblings);
- companies under common control: a natural person or company that controls two companies
  links both (the person is a connecting node, never a member).
Guarantees and minority holdings do not make a group (they are contagion paths, not control).
The walk is a breadth-first search over an undirected edge list with UNION (not UNION ALL):
each node is visited once, so cycles and diamonds end and every company is counted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

# Each edge direction is its own branch so every branch can use an index on its `a` column.
_LINKS = """
    SELECT o.holder_customer_id AS a, o.held_id AS b FROM ownership o
     WHERE o.holder_customer_id IS NOT NULL AND (o.kind = 'control' OR o.percentage > 50)
    UNION ALL
    SELECT o.held_id, o.holder_customer_id FROM ownership o
     WHERE o.holder_customer_id IS NOT NULL AND (o.kind = 'control' OR o.percentage > 50)
    UNION ALL
    SELECT o.holder_person_id, o.held_id FROM ownership o
     WHERE o.holder_person_id IS NOT NULL AND (o.kind = 'control' OR o.percentage > 50)
    UNION ALL
    SELECT o.held_id, o.holder_person_id FROM ownership o
     WHERE o.holder_person_id IS NOT NULL AND (o.kind = 'control' OR o.percentage > 50)
    UNION ALL
    SELECT m.customer_id, m.group_id FROM customer_group_member m
    UNION ALL
    SELECT m.group_id, m.customer_id FROM customer_group_member m
"""
# reach(node): customer, person and group ids connected to :customer_id. Constant SQL text:
# nothing from input is formatted in (the id is a bound parameter).
REACH = f"""
WITH RECURSIVE reach(node) AS (
    SELECT CAST(:customer_id AS VARCHAR(36))
    UNION
    SELECT CAST(link.b AS VARCHAR(36)) FROM reach JOIN ({_LINKS}) link ON link.a = reach.node
)
"""  # noqa: S608
# PostgreSQL does not push the join into a UNION ALL inside a recursive term: each edge kind
# is looked up by index from the node in a LATERAL subquery instead (SQLite has no LATERAL).
REACH_PG = """
WITH RECURSIVE reach(node) AS (
    SELECT CAST(:customer_id AS VARCHAR(36))
    UNION
    SELECT CAST(link.b AS VARCHAR(36)) FROM reach CROSS JOIN LATERAL (
        SELECT o.held_id AS b FROM ownership o
         WHERE o.holder_customer_id = reach.node AND (o.kind = 'control' OR o.percentage > 50)
        UNION ALL
        SELECT o.held_id FROM ownership o
         WHERE o.holder_person_id = reach.node AND (o.kind = 'control' OR o.percentage > 50)
        UNION ALL
        SELECT COALESCE(o.holder_customer_id, o.holder_person_id) FROM ownership o
         WHERE o.held_id = reach.node AND (o.kind = 'control' OR o.percentage > 50)
        UNION ALL
        SELECT m.group_id FROM customer_group_member m WHERE m.customer_id = reach.node
        UNION ALL
        SELECT m.customer_id FROM customer_group_member m WHERE m.group_id = reach.node
    ) link
)
"""

_MEMBERS_TAIL = """
SELECT c.id, c.name, COUNT(*) OVER () AS total
  FROM reach JOIN customer c ON c.id = reach.node
 ORDER BY c.name, c.id
 LIMIT :limit
"""

_EXPOSURE_TAIL = """
SELECT currency, SUM(facility_amount), SUM(loan_balance), SUM(undrawn), COUNT(DISTINCT cid)
  FROM (
    SELECT currency, amount AS facility_amount, 0 AS loan_balance,
           CASE WHEN amount > drawn THEN amount - drawn ELSE 0 END AS undrawn, cid
      FROM (
        SELECT f.currency AS currency, f.amount AS amount, f.customer_id AS cid,
               (SELECT COALESCE(SUM(l.balance), 0) FROM loan l
                 WHERE l.facility_id = f.id AND l.status = 'active') AS drawn
          FROM reach JOIN facility f ON f.customer_id = reach.node AND f.status = 'active'
      ) facilities
    UNION ALL
    SELECT l.currency, 0, l.balance, 0, l.customer_id
      FROM reach JOIN loan l ON l.customer_id = reach.node AND l.status = 'active'
  ) items
 GROUP BY currency
 ORDER BY currency
"""
# Members and exposure from one walk (the 360 view): the reach is computed once and both
# row kinds come back together, told apart by the first column.
_BOTH_TAIL = f"""
, members AS ({_MEMBERS_TAIL}), sums(currency, f, b, u, n) AS ({_EXPOSURE_TAIL})
SELECT 'member' AS kind, id, name, total, NULL, NULL, NULL, NULL FROM members
UNION ALL
SELECT 'sums', currency, NULL, NULL, f, b, u, n FROM sums
ORDER BY kind, name, id
"""  # noqa: S608 - constant SQL text
_QUERIES = {
    (dialect, name): text(reach + tail)
    for dialect, reach in (("postgresql", REACH_PG), ("other", REACH))
    for name, tail in (
        ("members", _MEMBERS_TAIL),
        ("exposure", _EXPOSURE_TAIL),
        ("both", _BOTH_TAIL),
    )
}


def _query(session: Session, name: str) -> TextClause:
    dialect = session.get_bind().dialect.name
    return _QUERIES[(dialect if dialect == "postgresql" else "other", name)]


@dataclass(frozen=True)
class Exposure:
    """One currency's group totals (no FX conversion: each currency stands alone)."""

    currency: str
    facility_amount: Decimal  # Σ active facility limits
    loan_balance: Decimal  # Σ outstanding loan balances (on balance sheet)
    undrawn: Decimal  # Σ per facility of max(0, limit - its outstanding loans)
    customers: int  # members with a facility or loan in this currency

    @property
    def total(self) -> Decimal:
        """Outstanding plus undrawn commitments: each facility counted once."""
        return self.loan_balance + self.undrawn


def members(
    session: Session, customer_id: str, limit: int = 100
) -> tuple[list[tuple[str, str]], int]:
    """(id, name) of the customers in the group, first `limit` by name, and how many in all."""
    rows = session.execute(
        _query(session, "members"), {"customer_id": customer_id, "limit": limit}
    ).all()
    total = int(rows[0][2]) if rows else 0
    return [(str(r[0]), str(r[1])) for r in rows], total


def exposure(session: Session, customer_id: str) -> list[Exposure]:
    """The group's facilities and loans summed per currency, each company once."""
    rows = session.execute(_query(session, "exposure"), {"customer_id": customer_id}).all()
    return [
        Exposure(
            currency=str(r[0]),
            facility_amount=_money(r[1]),
            loan_balance=_money(r[2]),
            undrawn=_money(r[3]),
            customers=int(r[4]),
        )
        for r in rows
    ]


def members_and_exposure(
    session: Session, customer_id: str, limit: int = 100
) -> tuple[list[tuple[str, str]], int, list[Exposure]]:
    """`members` and `exposure` in one query: the group is walked once."""
    rows = session.execute(
        _query(session, "both"), {"customer_id": customer_id, "limit": limit}
    ).all()
    members = [(str(r[1]), str(r[2])) for r in rows if r[0] == "member"]
    total = next((int(r[3]) for r in rows if r[0] == "member"), 0)
    sums = [
        Exposure(str(r[1]), _money(r[4]), _money(r[5]), _money(r[6]), int(r[7]))
        for r in rows
        if r[0] == "sums"
    ]
    return members, total, sums


def _money(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))
