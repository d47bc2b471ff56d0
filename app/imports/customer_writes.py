"""Writing checked customer rows set-based: inserts, grouped updates, RM assignments and the
change log (source "import"), one statement per kind of write for a whole chunk."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from app.customers import changes, records
from app.customers.models import RmAssignment
from app.db import Base, utcnow
from app.imports.customer_rows import RowCheck

# Not app.customers.sync's writer: that one links (source system, external id) and records
# its changes as "sync"; an import has no external ids and records "import".


def write(session: Session, rows: Sequence[RowCheck], by: str) -> int:
    """Write the planned rows; returns how many customers were created or changed."""
    now = utcnow()
    customer = Base.metadata.tables["customer"]
    assignment = Base.metadata.tables["customer_rm_assignment"]
    new_rows: list[dict[str, Any]] = []
    change_rows: list[changes.Change] = []
    owners: list[dict[str, Any]] = []
    updates: dict[frozenset[str], list[dict[str, Any]]] = {}
    reassigned: list[str] = []
    planned = [r for r in rows if r.plan is not None]
    for row in planned:
        plan = row.plan
        assert plan is not None
        if plan.customer is None:
            row.target_id = str(uuid.uuid4())
            new_rows.append(
                {
                    "id": row.target_id,
                    **plan.values,
                    "custom": plan.custom,
                    "version": 1,
                    "created_by": by,
                    "created_at": now,
                    "updated_by": by,
                    "updated_at": now,
                }
            )
            body = {k: records.plain(v) for k, v in plan.values.items()}
            change_rows.append(
                changes.Change(row.target_id, 1, "*", None, {**body, "custom": plan.custom})
            )
            owner = {k: plan.values.get(k) for k in records.ORG_FIELDS}
        else:
            current = plan.customer
            version = current.version + 1
            columns = {n for n, _, _ in plan.diffs if not n.startswith("custom.")}
            values = {n: plan.values[n] for n in columns}
            if any(n.startswith("custom.") for n, _, _ in plan.diffs):
                values["custom"] = plan.custom
            values.update(version=version, updated_by=by, updated_at=now, _id=current.id)
            updates.setdefault(frozenset(values), []).append(values)
            change_rows += [changes.Change(current.id, version, *d) for d in plan.diffs]
            owner = {}
            if columns & set(records.ORG_FIELDS):
                reassigned.append(current.id)
                owner = {k: plan.values.get(k, getattr(current, k)) for k in records.ORG_FIELDS}
        if any(owner.values()):
            owners.append(
                {"customer_id": row.target_id, **owner, "valid_from": now, "assigned_by": by}
            )
    if new_rows:
        session.execute(insert(customer), new_rows)
    for keys, batch in updates.items():
        session.execute(
            update(customer)
            .where(customer.c.id == bindparam("_id"))
            .values({k: bindparam(k) for k in keys if k != "_id"}),
            batch,
        )
    if reassigned:
        session.execute(
            update(assignment)
            .where(RmAssignment.customer_id.in_(reassigned), RmAssignment.valid_to.is_(None))
            .values(valid_to=now)
        )
    if owners:
        session.execute(insert(assignment), owners)
    changes.record(session, change_rows, source="import", changed_by=by, at=now)
    for row in planned:
        if row.plan is not None and row.plan.customer is not None:
            session.expire(row.plan.customer)
    return len(planned)
