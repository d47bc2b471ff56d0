"""Which customers an actor may see: their own, their org subtree's, or all of them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true

from app.customers.models import Customer
from app.identity.actor import Actor

# Groups that see every customer wherever they sit (risk works across portfolios).
EVERYTHING_GROUPS = ("admin", "risk_officer")


def sees_everything(actor: Actor) -> bool:
    return actor.in_group(*EVERYTHING_GROUPS) or actor.org.everything


def visible(actor: Actor) -> ColumnElement[bool]:
    """A filter on the customer table: the rows `actor` may see.

    An RM sees the customers they own; a team lead, branch manager or other placed staff the
    customers of their unit's subtree (team_id or branch_id inside it); head office, risk
    officers and administrators everything. Concrete values only (no subqueries), so
    PostgreSQL combines the rm/team/branch indexes.
    """
    if sees_everything(actor):
        return true()
    clauses: list[ColumnElement[bool]] = [Customer.rm_id == actor.user_id]
    if actor.org.unit_ids:
        units = sorted(actor.org.unit_ids)
        clauses += [Customer.team_id.in_(units), Customer.branch_id.in_(units)]
    return or_(*clauses) if clauses else false()


def visible_ids(actor: Actor) -> Any:
    """A subquery of the customer ids `actor` may see: `X.customer_id.in_(visible_ids(a))`."""
    return select(Customer.id).where(visible(actor))


def customer_filter(actor: Actor, customer_id: Any) -> ColumnElement[bool]:
    """A filter on another table's nullable customer id column: rows about no customer, or
    about a customer the actor may see."""
    if sees_everything(actor):
        return true()
    return or_(customer_id.is_(None), customer_id.in_(visible_ids(actor)))


def can_see(actor: Actor, customer: Customer) -> bool:
    if sees_everything(actor) or customer.rm_id == actor.user_id:
        return True
    units = actor.org.unit_ids
    return customer.team_id in units or customer.branch_id in units
