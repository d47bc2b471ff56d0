"""Early-warning risk signals (预警信号): raised, verified within working days, closed.

Verification deadlines in working days: red 3, orange and yellow 10 (results go back within
10 working days); blue is "read and monitor", with no verification due.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.customers import customers
from app.db import utcnow
from app.errors import ConflictError, InvalidInputError, PermissionDeniedError
from app.identity.actor import Actor
from app.lending.fields import Fields
from app.servicing.models import RiskSignal
from app.workdays.store import current_calendar

WRITERS = ("risk_officer", "relationship_manager", "admin")
# Lifting or dismissing a red or orange signal is confirmed by the customer department's head.
SENIOR = ("branch_manager", "admin")
SOURCES = (
    "internal", "credit_bureau", "court", "registry", "tax",
    "news", "financial", "collateral", "relationship",
)  # fmt: skip
CATEGORIES = (
    "overdue", "interest_arrears", "turnover_drop", "margin_shortfall", "bad_debt_elsewhere",
    "external_guarantee", "lawsuit", "enforcement", "dishonest_debtor",
    "consumption_restriction", "equity_frozen", "equity_pledged", "abnormal_operation",
    "administrative_penalty", "negative_news", "executive_change", "controller_change",
    "tax_violation", "revenue_drop", "loss", "collateral_value_drop", "collateral_seized",
    "contagion", "other",
)  # fmt: skip
SEVERITIES = ("red", "orange", "yellow", "blue")
VERIFY_WORKDAYS = {"red": 3, "orange": 10, "yellow": 10}
# status -> statuses it may move to
TRANSITIONS = {
    "new": ("verifying", "dismissed"),
    "verifying": ("confirmed", "dismissed"),
    "confirmed": ("handling", "lifted"),
    "handling": ("lifted",),
    "dismissed": (),
    "lifted": (),
}
OPEN = ("new", "verifying", "confirmed", "handling")


def raise_signal(
    session: Session, actor: Actor, customer_id: str, data: Mapping[str, Any]
) -> RiskSignal:
    customers.get(session, actor, customer_id)
    if not actor.in_group(*WRITERS):
        raise PermissionDeniedError("only risk officers, RMs and administrators raise signals")
    fields = Fields(data)
    source = fields.choice("source", SOURCES)
    category = fields.choice("category", CATEGORIES)
    severity = fields.choice("severity", SEVERITIES)
    headline = fields.text("headline", max_len=300)
    detail = fields.text("detail", max_len=4000, required=False)
    url = fields.text("url", max_len=500, required=False)
    detected_at = fields.moment("detected_at", now=utcnow())
    if url and not url.startswith(("https://", "http://")):
        fields.fail("url", "must be an http(s) address")
    if fields.errors:
        raise InvalidInputError("invalid risk signal", errors=fields.errors)
    assert detected_at is not None and headline is not None
    due, estimated = None, False
    if severity in VERIFY_WORKDAYS:
        result = current_calendar().add_workdays(detected_at, VERIFY_WORKDAYS[severity])
        due, estimated = result.due, result.estimated
    signal = RiskSignal(
        id=str(uuid.uuid4()),
        customer_id=customer_id,
        source=source,
        category=category,
        severity=severity,
        headline=headline,
        detail=detail,
        url=url,
        detected_at=detected_at,
        verify_due=due,
        verify_due_estimated=estimated,
        status="new",
        raised_by=actor.user_id,
    )
    session.add(signal)
    session.flush()
    return signal


def get(session: Session, actor: Actor, customer_id: str, signal_id: str) -> RiskSignal:
    return customers.record_of(session, actor, customer_id, RiskSignal, signal_id, "risk signal")


def move(
    session: Session, actor: Actor, customer_id: str, signal_id: str, data: Mapping[str, Any]
) -> RiskSignal:
    """Move a signal along new → verifying → confirmed → handling → lifted (or dismissed)."""
    signal = get(session, actor, customer_id, signal_id)
    if not actor.in_group(*WRITERS, *SENIOR):
        raise PermissionDeniedError("only risk officers, RMs and managers handle signals")
    fields = Fields(data)
    status = fields.choice("status", tuple(TRANSITIONS))
    disposition = fields.text(
        "disposition", max_len=4000, required=status in ("dismissed", "lifted")
    )
    if fields.errors:
        raise InvalidInputError("invalid signal update", errors=fields.errors)
    if status not in TRANSITIONS[signal.status]:
        allowed = ", ".join(TRANSITIONS[signal.status]) or "nothing (it is closed)"
        raise ConflictError(
            f"a {signal.status} signal may move to {allowed}, not {status}",
            code="invalid_transition",
        )
    closing = status in ("dismissed", "lifted")
    if closing and signal.severity in ("red", "orange") and not actor.in_group(*SENIOR):
        raise PermissionDeniedError(
            f"closing a {signal.severity} signal needs the customer department's head"
        )
    signal.status = status
    if disposition:
        signal.disposition = disposition
    signal.updated_by = actor.user_id
    signal.updated_at = utcnow()
    session.flush()
    return signal


def of_customer(
    session: Session, customer_id: str, *, limit: int = 10, offset: int = 0
) -> list[RiskSignal]:
    """Open ones first, then newest first."""
    params = {"customer_id": customer_id, "limit": limit, "offset": offset}
    return list(session.scalars(_OF_CUSTOMER, params))


# Built once: constructing a statement costs more than running it on an index (360 view).
_OF_CUSTOMER = (
    select(RiskSignal)
    .where(RiskSignal.customer_id == bindparam("customer_id"))
    .order_by(RiskSignal.status.in_(OPEN).desc(), RiskSignal.detected_at.desc(), RiskSignal.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def list_for(
    session: Session, actor: Actor, customer_id: str, *, limit: int, offset: int
) -> tuple[list[RiskSignal], int]:
    customers.get(session, actor, customer_id)
    total = session.scalar(
        select(func.count()).select_from(RiskSignal).where(RiskSignal.customer_id == customer_id)
    )
    return of_customer(session, customer_id, limit=limit, offset=offset), int(total or 0)
