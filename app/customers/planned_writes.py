"""Writing planned customer changes set-based, for the sync API and spreadsheet imports: new
customers (COPY on PostgreSQL), changed fields (one UPDATE per set of columns), RM assignment
history and the change log, a few statements for a whole batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.customers import bulk, changes, records
from app.customers.models import Customer, RmAssignment
from app.db import Base


class Planned(Protocol):
    """A checked record: the customer it changes (None: a new one), its values and custom
    fields, and (for a change) the differences from what is stored."""

    @property
    def customer(self) -> Customer | None: ...
    @property
    def values(self) -> dict[str, Any]: ...
    @property
    def custom(self) -> dict[str, Any]: ...
    @property
    def diffs(self) -> list[tuple[str, Any, Any]]: ...


def write(
    session: Session,
    planned: Sequence[Planned],
    *,
    by: str,
    source: str,
    at: datetime,
    source_system: str | None = None,
) -> list[str]:
    """Create or change each planned customer (a stored one without diffs is left alone);
    returns each one's customer id, a new one's freshly made."""
    ids: list[str] = []
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    change_rows: list[changes.Change] = []
    assignment_rows: list[dict[str, Any]] = []
    reassigned: list[str] = []
    for plan in planned:
        customer, owner = plan.customer, {}
        if customer is None:
            customer_id = str(uuid.uuid4())
            new_rows.append(
                {"id": customer_id, **plan.values, "custom": plan.custom, "version": 1,
                 "created_by": by, "created_at": at, "updated_by": by, "updated_at": at}
            )  # fmt: skip
            body = {k: records.plain(v) for k, v in plan.values.items()}
            change_rows.append(
                changes.Change(customer_id, 1, "*", None, {**body, "custom": plan.custom})
            )
            owner = {k: plan.values.get(k) for k in records.ORG_FIELDS}
        else:
            customer_id = customer.id
        if customer is not None and plan.diffs:
            version = customer.version + 1
            columns = {n for n, _, _ in plan.diffs if not n.startswith("custom.")}
            row = {"id": customer_id, **{n: plan.values[n] for n in columns}}
            if any(n.startswith("custom.") for n, _, _ in plan.diffs):
                row["custom"] = plan.custom
            updates.append({**row, "version": version, "updated_by": by, "updated_at": at})
            change_rows += [changes.Change(customer_id, version, *d) for d in plan.diffs]
            if columns & set(records.ORG_FIELDS):
                reassigned.append(customer_id)
                owner = {k: plan.values.get(k, getattr(customer, k)) for k in records.ORG_FIELDS}
        if any(owner.values()):
            assignment_rows.append(
                {"customer_id": customer_id, **owner, "valid_from": at, "assigned_by": by}
            )
        ids.append(customer_id)
    if new_rows:
        bulk.insert_dicts(session, "customer", new_rows)
    if updates:
        bulk.update_by_id(session, "customer", updates)
    if reassigned:
        session.execute(
            update(Base.metadata.tables["customer_rm_assignment"])
            .where(RmAssignment.customer_id.in_(reassigned), RmAssignment.valid_to.is_(None))
            .values(valid_to=at)
        )
    if assignment_rows:
        bulk.insert_dicts(session, "customer_rm_assignment", assignment_rows)
    changes.record(
        session, change_rows, source=source, changed_by=by, source_system=source_system, at=at
    )
    for plan in planned:
        if plan.customer is not None:
            session.expire(plan.customer)  # read again from the rows just written
    return ids
