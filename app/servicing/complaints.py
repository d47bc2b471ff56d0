"""Complaints and their deadline: 15 days, 30 when complex, once 30 more when exceptional.

《银行业保险业消费投诉处理管理办法》(2020), counted in calendar days from receipt.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.customers import customers
from app.db import utcnow
from app.errors import ConflictError, InvalidInputError, PermissionDeniedError
from app.identity.actor import Actor
from app.lending.fields import Fields
from app.servicing.models import Complaint

WRITERS = ("relationship_manager", "supervisor", "branch_manager", "admin")
# The exceptional extension needs internal approval: a manager, not the handler.
EXTENDERS = ("supervisor", "branch_manager", "admin")
CHANNELS = ("phone", "branch", "online", "letter", "regulator", "other")
CATEGORIES = ("service", "fees", "product", "credit", "data_privacy", "other")
SLA_DAYS = {"simple": 15, "complex": 30}
EXTENSION_DAYS = 30


def record(session: Session, actor: Actor, customer_id: str, data: Mapping[str, Any]) -> Complaint:
    customers.get(session, actor, customer_id)
    if not actor.in_group(*WRITERS):
        raise PermissionDeniedError(
            "only RMs, supervisors, branch managers and admins record complaints"
        )
    fields = Fields(data)
    channel = fields.choice("channel", CHANNELS)
    category = fields.choice("category", CATEGORIES)
    complexity = fields.choice("complexity", tuple(SLA_DAYS), default="simple")
    summary = fields.text("summary", max_len=4000)
    complainant = fields.text("complainant_name", max_len=200, required=False)
    received_at = fields.moment("received_at", now=utcnow())
    if fields.errors:
        raise InvalidInputError("invalid complaint", errors=fields.errors)
    assert received_at is not None and summary is not None
    complaint = Complaint(
        id=str(uuid.uuid4()),
        customer_id=customer_id,
        channel=channel,
        category=category,
        complexity=complexity,
        summary=summary,
        complainant_name=complainant,
        received_at=received_at,
        due_at=received_at + timedelta(days=SLA_DAYS[complexity]),
        status="open",
        recorded_by=actor.user_id,
    )
    session.add(complaint)
    session.flush()
    return complaint


def get(session: Session, actor: Actor, customer_id: str, complaint_id: str) -> Complaint:
    return customers.record_of(session, actor, customer_id, Complaint, complaint_id, "complaint")


def extend(
    session: Session, actor: Actor, customer_id: str, complaint_id: str, data: Mapping[str, Any]
) -> Complaint:
    """Give an exceptional open case 30 more days, once, with the approver's reason."""
    complaint = get(session, actor, customer_id, complaint_id)
    if not actor.in_group(*EXTENDERS):
        raise PermissionDeniedError("only supervisors, branch managers and admins may extend")
    fields = Fields(data)
    reason = fields.text("reason", max_len=500)
    if fields.errors:
        raise InvalidInputError("invalid extension", errors=fields.errors)
    if complaint.status != "open":
        raise ConflictError("the complaint is resolved", code="complaint_resolved")
    if complaint.extended_by is not None:
        raise ConflictError("the complaint was already extended once", code="already_extended")
    complaint.due_at = complaint.due_at + timedelta(days=EXTENSION_DAYS)
    complaint.extended_by = actor.user_id
    complaint.extension_reason = reason
    session.flush()
    return complaint


def resolve(
    session: Session, actor: Actor, customer_id: str, complaint_id: str, data: Mapping[str, Any]
) -> Complaint:
    complaint = get(session, actor, customer_id, complaint_id)
    if not actor.in_group(*WRITERS):
        raise PermissionDeniedError("only RMs, supervisors, branch managers and admins resolve")
    fields = Fields(data)
    resolution = fields.text("resolution", max_len=4000)
    root_cause = fields.text("root_cause", max_len=200, required=False)
    if fields.errors:
        raise InvalidInputError("invalid resolution", errors=fields.errors)
    if complaint.status != "open":
        raise ConflictError("the complaint is already resolved", code="complaint_resolved")
    complaint.status = "resolved"
    complaint.resolution = resolution
    complaint.root_cause = root_cause
    complaint.resolved_by = actor.user_id
    complaint.resolved_at = utcnow()
    session.flush()
    return complaint


def of_customer(
    session: Session, customer_id: str, *, limit: int = 10, offset: int = 0
) -> list[Complaint]:
    """Open ones first, then by receipt, newest first."""
    params = {"customer_id": customer_id, "limit": limit, "offset": offset}
    return list(session.scalars(_OF_CUSTOMER, params))


# Built once: constructing a statement costs more than running it on an index (360 view).
_OF_CUSTOMER = (
    select(Complaint)
    .where(Complaint.customer_id == bindparam("customer_id"))
    .order_by((Complaint.status == "open").desc(), Complaint.received_at.desc(), Complaint.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def list_for(
    session: Session, actor: Actor, customer_id: str, *, limit: int, offset: int
) -> tuple[list[Complaint], int]:
    customers.get(session, actor, customer_id)
    total = session.scalar(
        select(func.count()).select_from(Complaint).where(Complaint.customer_id == customer_id)
    )
    return of_customer(session, customer_id, limit=limit, offset=offset), int(total or 0)
