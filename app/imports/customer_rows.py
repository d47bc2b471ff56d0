"""Checking customer rows with the store's own rules, plus duplicates in the file and
conflicts with stored customers; each row's result and, for good rows, what to write."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers import assignments, custom_fields, records, scope, statuses, uscc
from app.customers.customers import custom_diff
from app.customers.models import Customer, CustomField
from app.errors import PermissionDeniedError
from app.identity.actor import Actor
from app.identity.models import User
from app.org.models import OrgPlacement, OrgUnit

_IN_CHUNK = 1000


@dataclass
class RowCheck:
    """A row's result: ok (new), update, unchanged or error, with problems by field."""

    row_no: int
    status: str = "error"
    problems: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    target_id: str | None = None
    plan: Plan | None = None


@dataclass
class Plan:
    """What a good row writes: the customer it updates (None: a new one) and its values."""

    customer: Customer | None
    values: dict[str, Any]
    custom: dict[str, Any]
    diffs: list[tuple[str, Any, Any]]


Row = tuple[int, Mapping[str, Any], Mapping[str, str]]


def _stored(session: Session, codes: set[str], lock: bool) -> dict[str, Customer]:
    """Stored customers by USCC; locked until commit when about to write (PostgreSQL), in id
    order across all chunks, as the sync locks them, so the two cannot deadlock."""
    ordered = sorted(codes)
    if not (lock and session.get_bind().dialect.name == "postgresql"):
        found: dict[str, Customer] = {}
        for start in range(0, len(ordered), _IN_CHUNK):
            chunk = ordered[start : start + _IN_CHUNK]
            found.update(
                {
                    c.uscc: c
                    for c in session.scalars(select(Customer).where(Customer.uscc.in_(chunk)))
                }
            )
        return found
    ids: list[str] = []
    for start in range(0, len(ordered), _IN_CHUNK):
        chunk = ordered[start : start + _IN_CHUNK]
        ids += session.scalars(select(Customer.id).where(Customer.uscc.in_(chunk)))
    ids.sort()
    locked: dict[str, Customer] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        query = (
            select(Customer)
            .where(Customer.id.in_(ids[start : start + _IN_CHUNK]))
            .order_by(Customer.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        locked.update({c.uscc: c for c in session.scalars(query)})
    return locked


def _org(session: Session, actor: Actor, rows: Sequence[Row]) -> assignments.OrgLookup:
    """RMs, placements and units preloaded: per-row org checks then cost no queries."""
    rms = {str(data["rm_id"]) for _, data, _ in rows if data.get("rm_id")} | {actor.user_id}
    ordered = sorted(rms)
    users: list[User] = []
    placements: list[OrgPlacement] = []
    for start in range(0, len(ordered), _IN_CHUNK):
        part = ordered[start : start + _IN_CHUNK]
        users += session.scalars(select(User).where(User.id.in_(part)))
        placements += session.scalars(select(OrgPlacement).where(OrgPlacement.user_id.in_(part)))
    org = assignments.OrgLookup(session, users, placements, list(session.scalars(select(OrgUnit))))
    for missing in rms - set(org.users):
        org.users[missing] = None
    for unplaced in rms - set(org.placements):
        org.placements[unplaced] = None
    return org


def check(session: Session, actor: Actor, rows: Sequence[Row], *, lock: bool) -> list[RowCheck]:
    """Check every row as the store would check a create or an update by `actor`."""
    codes = {uscc.normalize(str(data.get("uscc") or "")) for _, data, _ in rows}
    stored = _stored(session, codes - {""}, lock)
    fields = custom_fields.active(session)
    org = _org(session, actor, rows)
    seen: dict[str, int] = {}
    return [
        _row(session, actor, row_no, data, dict(problems), stored, fields, org, seen)
        for row_no, data, problems in rows
    ]


def _row(
    session: Session,
    actor: Actor,
    row_no: int,
    data: Mapping[str, Any],
    problems: dict[str, str],
    stored: Mapping[str, Customer],
    fields: Mapping[str, CustomField],
    org: assignments.OrgLookup,
    seen: dict[str, int],
) -> RowCheck:
    result = RowCheck(row_no)
    code = uscc.normalize(str(data.get("uscc") or ""))
    if code in seen:
        problems.setdefault("uscc", f"{code} is also in row {seen[code]} of this file")
    elif code:
        seen[code] = row_no
    current = stored.get(code)
    if current is not None and not scope.can_see(actor, current):
        # Say only that the USCC is taken: nothing of a customer the uploader may not see.
        result.problems = {"uscc": f"{code} belongs to a customer outside your scope"}
        return result
    payload = dict(data)
    if current is not None:
        result.target_id = current.id
        name = str(data.get("name") or "").strip()
        if name and _plain(name) != _plain(current.name):
            problems.setdefault(
                "name",
                f"the customer with USCC {code} is stored as {current.name}; "
                "rename it on the customer record, not by import",
            )
        payload.pop("uscc", None)
        payload.pop("name", None)
        for name in records.ORG_FIELDS:
            # A column repeating the stored owner is no reassignment.
            if payload.get(name) == getattr(current, name):
                payload.pop(name)
    else:
        if not payload.get("rm_id") and actor.in_group("relationship_manager"):
            payload["rm_id"] = actor.user_id
        if payload.get("rm_id") not in (None, actor.user_id) and not _assigner(actor):
            problems.setdefault(
                "rm_id",
                "only team leads, branch managers and administrators "
                "may give customers to other RMs",
            )
    initial = statuses.INITIAL if current is None else None
    checked = records.check(payload, current, initial=initial)
    try:
        custom, custom_errors = custom_fields.check_values(
            fields, actor, payload.get("custom"), current.custom if current else None
        )
    except PermissionDeniedError as exc:
        custom, custom_errors = dict(current.custom if current else {}), {"custom": exc.message}
    owner, org_errors = assignments.resolve(session, payload, current, actor, org)
    result.warnings = checked.warnings
    result.problems = {**checked.errors, **custom_errors, **org_errors, **problems}
    if result.problems:
        return result
    values = {**checked.values, **owner}
    if current is None:
        result.status, result.changed = "ok", ["*"]
        result.plan = Plan(None, values, custom, [])
        return result
    diffs = records.diff(current, values) + custom_diff(current.custom or {}, custom)
    if any(name in records.ORG_FIELDS for name, _, _ in diffs) and not _assigner(actor):
        result.problems = {
            "rm_id": "only team leads, branch managers and administrators may reassign customers"
        }
        return result
    result.status = "update" if diffs else "unchanged"
    result.changed = [name for name, _, _ in diffs]
    if diffs:
        result.plan = Plan(current, values, custom, diffs)
    return result


def _plain(name: str) -> str:
    """Names compare without width or spaces: 某某（集团） is 某某(集团)."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def _assigner(actor: Actor) -> bool:
    return actor.in_group(*assignments.ASSIGNERS)
