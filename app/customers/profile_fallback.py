"""Stand-in for customers.profile until the customer-record work is merged; drop it then."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.customers.models import Customer
from app.identity.actor import Actor


def profile(session: Session, actor: Actor, customer: Customer) -> dict[str, Any]:
    """The customer's own columns, with no custom fields (the real profile adds them)."""
    return {
        "id": customer.id,
        "uscc": customer.uscc,
        "name": customer.name,
        "legal_representative": customer.legal_representative,
        "industry_code": customer.industry_code,
        "region_code": customer.region_code,
        "status": customer.status,
        "risk_rating": customer.risk_rating,
        "rm_id": customer.rm_id,
        "version": customer.version,
        "created_at": customer.created_at,
        "custom_fields": {},
    }
