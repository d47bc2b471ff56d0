"""Bulk upsert from core systems by (source system, external id): validate every record
first, then write the batch with set-based statements; per-record results."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.customers import assignments, bulk, custom_fields, planned_writes, records
from app.customers.customers import custom_diff
from app.customers.models import Customer, CustomerSource, CustomField
from app.db import utcnow
from app.errors import InvalidInputError, PermissionDeniedError
from app.identity.actor import Actor
from app.identity.models import User
from app.org.models import OrgPlacement, OrgUnit

MAX_BATCH = 1000
SYNC_GROUPS = ("core_system", "admin")
_SOURCE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_KEYS = {"external_id", "custom", *records.BUILT_IN, *records.ORG_FIELDS}


@dataclass
class RecordResult:
    index: int
    external_id: Any
    status: str = "rejected"  # created | updated | unchanged | rejected
    customer_id: str | None = None
    changed: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    result: RecordResult
    customer: Customer | None
    values: dict[str, Any]
    custom: dict[str, Any]
    diffs: list[tuple[str, Any, Any]]
    link: bool


def sync(
    session: Session, actor: Actor, source_system: str, batch: Sequence[Mapping[str, Any]]
) -> list[RecordResult]:
    """Create, update or leave each record; a rejected record changes nothing."""
    if not actor.in_group(*SYNC_GROUPS):
        raise PermissionDeniedError("only core systems and administrators may sync customers")
    if not _SOURCE.match(source_system or ""):
        raise InvalidInputError(
            "invalid source system", errors={"source_system": "1-40 letters, digits, _ . -"}
        )
    if len(batch) > MAX_BATCH:
        raise InvalidInputError(
            "batch too large", errors={"records": f"at most {MAX_BATCH} records per batch"}
        )
    fields = custom_fields.active(session)
    # Plan on what is committed, without locks: a replay (everything unchanged) and new
    # customers (unique constraints catch a racing creator) write no lock. Only when an
    # existing customer is to change are those customers locked (FOR UPDATE, in id order) and
    # the plan is kept when their versions are still the ones planned on (every write bumps
    # the version); otherwise the batch is planned again on the locked rows. No concurrent
    # change is lost, and the usual case costs one small locking query, not a second plan.
    results, plans = _plan_all(session, batch, _load(session, source_system, batch), fields)
    planned_on = {
        p.customer.id: p.customer.version for p in plans if p.customer and (p.diffs or p.link)
    }
    if planned_on:
        attempt = session.begin_nested()
        if _lock_versions(session, list(planned_on)) == planned_on:
            attempt.commit()
        else:
            # Someone changed one of them since we read it. Let go of these locks (taking
            # more locks on top of them would break the id order) and plan again on every
            # row the batch refers to, locked in one id-ordered statement.
            attempt.rollback()
            locked = _load(session, source_system, batch, lock=True)
            results, plans = _plan_all(session, batch, locked, fields)
    writes = [p for p in plans if p.diffs or p.link]
    for plan in plans:
        if not plan.diffs and not plan.link:
            plan.result.status = "unchanged"
    try:
        with session.begin_nested():
            _write(session, writes, source_system, actor.user_id)
    except IntegrityError:
        # A concurrent writer took a USCC or id between our read and write: redo one record
        # at a time so only the records that really clash are rejected.
        for plan in writes:
            try:
                with session.begin_nested():
                    _write(session, [plan], source_system, actor.user_id)
            except IntegrityError:
                plan.result.status = "rejected"
                plan.result.errors = {"uscc": "clashes with a concurrent write; send it again"}
    return results


def _plan_all(
    session: Session,
    batch: Sequence[Mapping[str, Any]],
    known: dict[str, Any],
    fields: Mapping[str, CustomField],
) -> tuple[list[RecordResult], list[_Plan]]:
    results = [RecordResult(i, r.get("external_id")) for i, r in enumerate(batch)]
    plans: list[_Plan] = []
    claimed_usccs: dict[str, int] = {}
    claimed_ids: dict[str, int] = {}
    for record, result in zip(batch, results, strict=True):
        plan = _plan(session, record, result, known, fields, claimed_usccs, claimed_ids)
        if plan is not None:
            plans.append(plan)
    return results, plans


def _load(
    session: Session,
    source_system: str,
    batch: Sequence[Mapping[str, Any]],
    *,
    lock: bool = False,
) -> dict[str, Any]:
    """Everything the batch refers to, in a few queries: links, customers, RMs, org units."""
    ids = [str(r.get("external_id")) for r in batch if r.get("external_id") is not None]
    usccs = [str(r.get("uscc") or "").strip().upper() for r in batch]
    postgres = session.get_bind().dialect.name == "postgresql"
    links = dict(
        session.execute(
            select(CustomerSource.external_id, CustomerSource.customer_id).where(
                CustomerSource.source_system == source_system,
                _among(CustomerSource.external_id, ids, postgres),
            )
        ).all()
    )
    query = select(Customer).where(
        _among(Customer.id, list(links.values()), postgres) | _among(Customer.uscc, usccs, postgres)
    )
    if lock and postgres:
        # Held until commit: nobody changes these customers between our read and write.
        query = query.order_by(Customer.id).with_for_update()
    query = query.execution_options(populate_existing=True)
    customers = list(session.scalars(query))
    rms = {str(r["rm_id"]) for r in batch if r.get("rm_id")}
    # Per-record lookups of RMs and units then cost no queries.
    org = assignments.OrgLookup(
        session,
        list(session.scalars(select(User).where(User.id.in_(rms)))),
        list(session.scalars(select(OrgPlacement).where(OrgPlacement.user_id.in_(rms)))),
        list(session.scalars(select(OrgUnit))),
    )
    for missing in rms - set(org.users):
        org.users[missing] = None
    for unplaced in rms - set(org.placements):
        org.placements[unplaced] = None
    return {
        "links": links,
        "by_id": {c.id: c for c in customers},
        "by_uscc": {c.uscc: c for c in customers},
        "org": org,
    }


def _lock_versions(session: Session, ids: list[str]) -> dict[str, int]:
    """Lock the customers (PostgreSQL: FOR UPDATE, in id order so concurrent batches cannot
    deadlock) and return their current versions."""
    query = select(Customer.id, Customer.version).where(
        _among(Customer.id, sorted(ids), session.get_bind().dialect.name == "postgresql")
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.order_by(Customer.id).with_for_update()
    return {row.id: row.version for row in session.execute(query)}


def _among(column: Any, values: list[str], postgres: bool) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `= ANY(array)`: one parameter instead of a thousand
    (cheaper to send, parse and plan, and one cached statement for every batch size)."""
    if postgres:
        return column == any_(bindparam(None, values, type_=ARRAY(String)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


def _plan(
    session: Session,
    record: Mapping[str, Any],
    result: RecordResult,
    known: dict[str, Any],
    fields: Mapping[str, CustomField],
    claimed_usccs: dict[str, int],
    claimed_ids: dict[str, int],
) -> _Plan | None:
    external_id = record.get("external_id")
    if not isinstance(external_id, str) or not 0 < len(external_id.strip()) <= 100:
        result.errors = {"external_id": "required, 1-100 characters"}
        return None
    external_id = result.external_id = external_id.strip()
    unknown = sorted(set(record) - _KEYS)
    if unknown:
        result.errors = {name: "not a customer field" for name in unknown}
        return None
    if external_id in claimed_ids:
        result.errors = {"external_id": f"also in record {claimed_ids[external_id]} of this batch"}
        return None
    claimed_ids[external_id] = result.index
    linked_id = known["links"].get(external_id)
    current: Customer | None = known["by_id"].get(linked_id) if linked_id else None
    code = str(record.get("uscc") or (current.uscc if current else "")).strip().upper()
    same_uscc: Customer | None = known["by_uscc"].get(code)
    if current is None:
        current = same_uscc
    elif same_uscc is not None and same_uscc.id != current.id:
        result.errors = {"uscc": f"{code} belongs to another customer"}
        return None
    if code in claimed_usccs:
        result.errors = {"uscc": f"also in record {claimed_usccs[code]} of this batch"}
        return None
    checked = records.check(record, current)
    custom, custom_errors = custom_fields.check_values(
        fields, None, record.get("custom"), current.custom if current else None
    )
    org, org_errors = assignments.resolve(session, record, current, None, known["org"])
    result.warnings = checked.warnings
    errors = {**checked.errors, **custom_errors, **org_errors}
    if errors:
        result.errors = errors
        return None
    claimed_usccs[checked.values.get("uscc", code)] = result.index
    values = {**checked.values, **org}
    if current is None:
        result.status, result.changed = "created", ["*"]
        return _Plan(result, None, values, custom, [("*", None, None)], link=True)
    diffs = records.diff(current, values) + custom_diff(current.custom or {}, custom)
    result.customer_id = current.id
    result.status = "updated" if diffs or linked_id is None else "unchanged"
    result.changed = [name for name, _, _ in diffs] or ([] if linked_id else ["source_ids"])
    return _Plan(result, current, values, custom, diffs, link=linked_id is None)


def _write(session: Session, plans: list[_Plan], source_system: str, by: str) -> None:
    now = utcnow()
    ids = planned_writes.write(
        session, plans, by=by, source="sync", at=now, source_system=source_system
    )
    for plan, customer_id in zip(plans, ids, strict=True):
        plan.result.customer_id = customer_id
    links = [
        {
            "source_system": source_system,
            "external_id": p.result.external_id,
            "customer_id": p.result.customer_id,
            "created_at": now,
        }
        for p in plans
        if p.link
    ]
    if links:
        bulk.insert_dicts(session, "customer_source", links)
