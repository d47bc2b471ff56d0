"""Interactions with a customer: visits, calls, video calls, branch meetings and notes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.customers import customers
from app.db import utcnow
from app.errors import InvalidInputError, PermissionDeniedError
from app.identity.actor import Actor
from app.lending.fields import Fields
from app.servicing.models import Interaction

WRITERS = ("relationship_manager", "risk_officer", "admin")
KINDS = ("visit", "call", "video", "branch", "note")
PURPOSES = ("marketing", "post_loan", "annual_review", "collection", "complaint", "other")


def record(
    session: Session, actor: Actor, customer_id: str, data: Mapping[str, Any]
) -> Interaction:
    customers.get(session, actor, customer_id)
    if not actor.in_group(*WRITERS):
        raise PermissionDeniedError(
            "only RMs, risk officers and administrators record interactions"
        )
    fields = Fields(data)
    kind = fields.choice("kind", KINDS)
    purpose = fields.choice("purpose", PURPOSES, default="other")
    occurred_at = fields.moment("occurred_at", now=utcnow())
    summary = fields.text("summary", max_len=4000)
    participants = fields.text("participants", max_len=500, required=False)
    next_action = fields.text("next_action", max_len=500, required=False)
    next_action_due = fields.day("next_action_due", required=False)
    if next_action_due and occurred_at and next_action_due < occurred_at.date():
        fields.fail("next_action_due", "may not be before the interaction")
    if next_action_due and not next_action:
        fields.fail("next_action", "is required when next_action_due is given")
    if fields.errors:
        raise InvalidInputError("invalid interaction", errors=fields.errors)
    assert occurred_at is not None and summary is not None
    interaction = Interaction(
        id=str(uuid.uuid4()),
        customer_id=customer_id,
        kind=kind,
        purpose=purpose,
        occurred_at=occurred_at,
        summary=summary,
        participants=participants,
        next_action=next_action,
        next_action_due=next_action_due,
        recorded_by=actor.user_id,
    )
    session.add(interaction)
    session.flush()
    return interaction


def of_customer(
    session: Session, customer_id: str, *, limit: int = 10, offset: int = 0
) -> list[Interaction]:
    """Newest first (the caller has checked the customer is visible)."""
    params = {"customer_id": customer_id, "limit": limit, "offset": offset}
    return list(session.scalars(_OF_CUSTOMER, params))


# Built once: constructing a statement costs more than running it on an index (360 view).
_OF_CUSTOMER = (
    select(Interaction)
    .where(Interaction.customer_id == bindparam("customer_id"))
    .order_by(Interaction.occurred_at.desc(), Interaction.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def list_for(
    session: Session, actor: Actor, customer_id: str, *, limit: int, offset: int
) -> tuple[list[Interaction], int]:
    customers.get(session, actor, customer_id)
    total = session.scalar(
        select(func.count()).select_from(Interaction).where(Interaction.customer_id == customer_id)
    )
    return of_customer(session, customer_id, limit=limit, offset=offset), int(total or 0)
