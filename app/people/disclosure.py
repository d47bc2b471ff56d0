"""How a reader sees a person: masked, or in clear for authorised roles with a reason."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from app.errors import InvalidInputError, PermissionDeniedError
from app.identity.actor import Actor
from app.people.cipher import current as cipher
from app.people.models import Person, PersonalDataAccess

# PIPL minimum necessity: the RM verifies identity at onboarding and contacts the people;
# risk officers screen them (AML lists, beneficial owners). Everyone else, administrators
# included, sees the masks (JR/T 0171: ID 110***********1234, mobile 138****5678).
CLEAR_READERS = ("relationship_manager", "risk_officer")


def may_see_clear(actor: Actor) -> bool:
    return actor.in_group(*CLEAR_READERS)


def check_reason(actor: Actor, reason: str | None) -> str | None:
    """The reason to unmask, checked before any read; None means masked."""
    if reason is None:
        return None
    if not may_see_clear(actor):
        raise PermissionDeniedError(
            "personal data in clear is for relationship managers and risk officers only"
        )
    reason = reason.strip()
    if not 5 <= len(reason) <= 500:
        raise InvalidInputError(
            "invalid reveal reason",
            errors={"reveal_reason": "must say why, in 5 to 500 characters"},
        )
    return reason


def present(
    session: Session,
    actor: Actor,
    persons: Iterable[Person],
    *,
    reason: str | None = None,
    customer_id: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Each person as the reader may see them; every clear read is logged with its reason."""
    reason = check_reason(actor, reason)
    views: dict[str, dict[str, Any]] = {}
    box = cipher() if reason else None
    for person in persons:
        if person.id in views:
            continue
        view: dict[str, Any] = {
            "id": person.id,
            "name": person.name,
            "id_type": person.id_type,
            "id_number": person.id_number_masked,
            "phone": person.phone_masked,
            "nationality": person.nationality,
            "masked": True,
        }
        if box is not None and reason is not None:
            view["id_number"] = box.open(person.id_number_sealed, f"person:{person.id}:id_number")
            if person.phone_sealed:
                view["phone"] = box.open(person.phone_sealed, f"person:{person.id}:phone")
            view["masked"] = False
            session.add(
                PersonalDataAccess(
                    person_id=person.id,
                    user_id=actor.user_id,
                    fields="id_number,phone" if person.phone_sealed else "id_number",
                    reason=reason,
                    customer_id=customer_id,
                )
            )
        views[person.id] = view
    session.flush()
    return views
