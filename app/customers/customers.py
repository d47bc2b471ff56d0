"""Use cases on customers (create, scoped get, update, profile, search); facilities live in
app.lending."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.customers import assignments, changes, custom_fields, records, scope, statuses
from app.customers.models import Customer, CustomerSource
from app.customers.search import CustomerQuery, Found, find, search
from app.db import utcnow
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor

WRITERS = (
    "relationship_manager",
    "relationship_manager_lead",
    "branch_manager",
    "risk_officer",
    "admin",
)
__all__ = [
    "CustomerQuery",
    "Found",
    "create",
    "find",
    "get",
    "profile",
    "profiles",
    "search",
    "update",
]


@dataclass
class Saved:
    """A customer after a write, the fields that changed and warnings for the caller."""

    customer: Customer
    changed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _may_write(actor: Actor) -> None:
    if not actor.in_group(*WRITERS):
        raise PermissionDeniedError(
            "only relationship managers, their leads, branch managers, risk officers and "
            "administrators may change customers"
        )


def _may_assign(actor: Actor, rm_id: Any) -> None:
    if rm_id != actor.user_id and not actor.in_group(*assignments.ASSIGNERS):
        raise PermissionDeniedError(
            "only team leads, branch managers and administrators may assign customers to RMs"
        )


def _uscc_taken(session: Session, code: str, other_than: str | None = None) -> None:
    query = select(Customer.id).where(Customer.uscc == code)
    if other_than is not None:
        query = query.where(Customer.id != other_than)
    if session.scalars(query).first() is not None:
        raise ConflictError(f"a customer with USCC {code} already exists", code="duplicate_uscc")


def create(
    session: Session, actor: Actor, data: Mapping[str, Any], *, source: str = "api"
) -> Saved:
    """Register a customer; the USCC check character is verified, the GB 11714
    organisation-code check only warns."""
    _may_write(actor)
    data = dict(data)
    if data.get("rm_id") in (None, "") and actor.in_group("relationship_manager"):
        data["rm_id"] = actor.user_id
    if data.get("rm_id") not in (None, ""):
        _may_assign(actor, data["rm_id"])
    checked = records.check(data, None, initial=statuses.INITIAL)
    fields = custom_fields.active(session)
    custom, custom_errors = custom_fields.check_values(fields, actor, data.get("custom"), None)
    org, org_errors = assignments.resolve(session, data, None, actor)
    errors = {**checked.errors, **custom_errors, **org_errors}
    if errors:
        raise InvalidInputError("invalid customer", errors=errors)
    _uscc_taken(session, checked.values["uscc"])
    now = utcnow()
    customer = Customer(
        id=str(uuid.uuid4()),
        **checked.values,
        **org,
        custom=custom,
        version=1,
        created_by=actor.user_id,
        created_at=now,
        updated_by=actor.user_id,
        updated_at=now,
    )
    session.add(customer)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise ConflictError(
            f"a customer with USCC {customer.uscc} already exists", code="duplicate_uscc"
        ) from None
    if customer.rm_id or customer.team_id or customer.branch_id:
        assignments.open_assignment(session, customer, actor.user_id, now)
    changes.record(
        session,
        [changes.Change(customer.id, 1, "*", None, snapshot(customer))],
        source=source,
        changed_by=actor.user_id,
        at=now,
    )
    session.flush()
    return Saved(customer, ["*"], checked.warnings)


def get(session: Session, actor: Actor, customer_id: str, *, lock: bool = False) -> Customer:
    """The customer if it exists and `actor` may see it; NotFoundError otherwise (404 either
    way, so the existence of other RMs' customers does not leak)."""
    customer = session.get(Customer, customer_id, with_for_update=lock, populate_existing=lock)
    if customer is None or not scope.can_see(actor, customer):
        raise NotFoundError(f"customer {customer_id} not found")
    return customer


class _OfCustomer(Protocol):
    customer_id: Any


_Row = TypeVar("_Row", bound=_OfCustomer)


def record_of(
    session: Session, actor: Actor, customer_id: str, model: type[_Row], row_id: str, what: str
) -> _Row:
    """A row about a customer (a loan, a complaint …) if the customer is one `actor` may see
    and the row is really its; NotFoundError (404) otherwise."""
    get(session, actor, customer_id)
    row = session.get(model, row_id)
    if row is None or row.customer_id != customer_id:
        raise NotFoundError(f"{what} {row_id} not found on customer {customer_id}")
    return row


def update(
    session: Session,
    actor: Actor,
    customer_id: str,
    data: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    source: str = "api",
) -> Saved:
    """Change some fields; a stale `expected_version` is a 409 naming what changed since."""
    _may_write(actor)
    customer = get(session, actor, customer_id, lock=True)
    fields = custom_fields.active(session)
    shown = {k: custom_fields.may_see(f, actor) for k, f in fields.items()}
    changes.check_version(
        session, customer.id, customer.version, expected_version, changes.visible_field(shown)
    )
    unknown = sorted(set(data) - set(records.BUILT_IN) - set(records.ORG_FIELDS) - {"custom"})
    if unknown:
        raise InvalidInputError(
            "unknown fields", errors={name: "not a customer field" for name in unknown}
        )
    checked = records.check(data, customer)
    custom, custom_errors = custom_fields.check_values(
        fields, actor, data.get("custom"), customer.custom
    )
    org, org_errors = assignments.resolve(session, data, customer, actor)
    errors = {**checked.errors, **custom_errors, **org_errors}
    if errors:
        raise InvalidInputError("invalid customer", errors=errors)
    diffs = records.diff(customer, {**checked.values, **org})
    diffs += custom_diff(customer.custom, custom)
    if any(name in records.ORG_FIELDS for name, _, _ in diffs):
        _may_assign(actor, None)
    if "uscc" in checked.values and checked.values["uscc"] != customer.uscc:
        _uscc_taken(session, checked.values["uscc"], other_than=customer.id)
    if not diffs:
        return Saved(customer, [], checked.warnings)
    apply(session, customer, {**checked.values, **org}, custom, diffs, actor.user_id, source)
    return Saved(customer, [name for name, _, _ in diffs], checked.warnings)


def custom_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    return [
        (f"custom.{key}", old.get(key), new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


def apply(
    session: Session,
    customer: Customer,
    values: Mapping[str, Any],
    custom: Mapping[str, Any],
    diffs: list[tuple[str, Any, Any]],
    by: str | None,
    source: str,
    source_system: str | None = None,
) -> None:
    """Write checked values and their change rows, bump the version, reassign if needed."""
    now = utcnow()
    for name, value in values.items():
        setattr(customer, name, value)
    customer.custom = dict(custom)
    customer.version += 1
    customer.updated_by, customer.updated_at = by, now
    if any(name in records.ORG_FIELDS for name, _, _ in diffs):
        assignments.open_assignment(session, customer, by, now)
    changes.record(
        session,
        [changes.Change(customer.id, customer.version, n, old, new) for n, old, new in diffs],
        source=source,
        changed_by=by,
        source_system=source_system,
        at=now,
    )
    session.flush()


def snapshot(customer: Customer) -> dict[str, Any]:
    """Every field of the customer, JSON-safe: the "*" row of a creation."""
    names = (*records.BUILT_IN, *records.ORG_FIELDS)
    body = {name: records.plain(getattr(customer, name)) for name in names}
    body["custom"] = dict(customer.custom or {})
    return body


def profile(session: Session, actor: Actor, customer: Customer) -> dict[str, Any]:
    """What the 360 view shows of the customer record: registration and bank data, owners,
    source ids, version and the custom fields `actor` may see."""
    return profiles(session, actor, [customer])[0]


def profiles(session: Session, actor: Actor, rows: list[Customer]) -> list[dict[str, Any]]:
    """The profiles of many customers (a search page) in two queries, not two per customer."""
    fields = custom_fields.active(session)
    sources: dict[str, list[dict[str, str]]] = {c.id: [] for c in rows}
    if rows:
        for source in session.scalars(_SOURCES, {"ids": list(sources)}):
            sources[source.customer_id].append(
                {"source_system": source.source_system, "external_id": source.external_id}
            )
    return [
        {
            "id": customer.id,
            **{name: getattr(customer, name) for name in (*records.BUILT_IN, *records.ORG_FIELDS)},
            "custom": custom_fields.visible_values(fields, actor, customer.custom or {}),
            "source_ids": sources[customer.id],
            "version": customer.version,
            "created_by": customer.created_by,
            "created_at": customer.created_at,
            "updated_by": customer.updated_by,
            "updated_at": customer.updated_at,
        }
        for customer in rows
    ]


# Built once: constructing a statement costs more than running it on an index (360 view).
_SOURCES = (
    select(CustomerSource)
    .where(CustomerSource.customer_id.in_(bindparam("ids", expanding=True)))
    .order_by(CustomerSource.source_system, CustomerSource.external_id)
)


def history(
    session: Session, actor: Actor, customer_id: str, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """The customer's change log, newest first, without custom fields `actor` may not see."""
    customer = get(session, actor, customer_id)
    fields = custom_fields.active(session)
    hidden = {k for k, f in fields.items() if not custom_fields.may_see(f, actor)}
    rows, total = changes.history(
        session, customer.id, limit=limit, offset=offset, hidden=[f"custom.{k}" for k in hidden]
    )
    out = []
    for row in rows:
        new = row.new_value
        if row.field == "*" and isinstance(new, dict):
            new = {
                **new,
                "custom": {k: v for k, v in new.get("custom", {}).items() if k not in hidden},
            }
        out.append(
            {
                "id": row.id,
                "version": row.version,
                "field": row.field,
                "old_value": row.old_value,
                "new_value": new,
                "source": row.source,
                "source_system": row.source_system,
                "changed_by": row.changed_by,
                "changed_at": row.changed_at,
            }
        )
    return out, total


def summary(session: Session, customer_id: str | None) -> dict[str, Any] | None:
    if not customer_id:
        return None
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    return {
        "id": customer.id,
        "uscc": customer.uscc,
        "name": customer.name,
        "status": customer.status,
        "risk_rating": customer.risk_rating,
        "rm_id": customer.rm_id,
    }
