"""The customer change log: recording changes, stale-write checks, history and the feed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.orm import Session

from app.customers import bulk
from app.customers.models import CustomerChange
from app.db import utcnow
from app.errors import ConflictError, InvalidInputError

SOURCES = ("api", "sync", "import", "process")


class StaleVersionError(ConflictError):
    """A write based on an old version; `errors` names each field changed since then."""

    code = "stale_version"

    def __init__(self, message: str, *, errors: dict[str, str], current_version: int) -> None:
        super().__init__(message, current_version=current_version)
        self.errors = errors


@dataclass(frozen=True)
class Change:
    customer_id: str
    version: int
    field: str
    old: Any
    new: Any


def txid(session: Session) -> int:
    """This transaction's id on PostgreSQL (assigning one), 0 elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    return int(session.scalar(text("SELECT pg_current_xact_id()::text::bigint")) or 0)


def record(
    session: Session,
    changes: Sequence[Change],
    *,
    source: str,
    changed_by: str | None,
    source_system: str | None = None,
    at: datetime | None = None,
) -> int:
    """Append the changes in one set-based INSERT; returns how many rows were written."""
    if source not in SOURCES:
        raise ValueError(f"unknown change source {source}")
    if not changes:
        return 0
    tx, when = txid(session), at or utcnow()
    rows = [
        {
            "txid": tx,
            "customer_id": c.customer_id,
            "version": c.version,
            "field": c.field,
            "old_value": c.old,
            "new_value": c.new,
            "source": source,
            "source_system": source_system,
            "changed_by": changed_by,
            "changed_at": when,
        }
        for c in changes
    ]
    # COPY on PostgreSQL, a Core executemany elsewhere: never the ORM's per-row path.
    bulk.insert_dicts(session, CustomerChange.__tablename__, rows)
    return len(rows)


def check_version(
    session: Session,
    customer_id: str,
    current: int,
    expected: int | None,
    shown: Any = None,
) -> None:
    """Raise StaleVersionError when `expected` is given and is not the current version.

    `shown(field) -> bool` hides fields the caller may not see (they are named "other fields").
    """
    if expected is None or expected == current:
        return
    if expected > current or expected < 1:
        raise InvalidInputError(
            "unknown version",
            errors={"version": f"the customer is at version {current}; {expected} never existed"},
        )
    rows = session.execute(
        select(
            CustomerChange.field,
            func.max(CustomerChange.version),
            func.max(CustomerChange.changed_by),
        )
        .where(CustomerChange.customer_id == customer_id, CustomerChange.version > expected)
        .group_by(CustomerChange.field)
        .order_by(CustomerChange.field)
    ).all()
    errors: dict[str, str] = {}
    hidden = False
    for field, version, who in rows:
        if shown is not None and not shown(field):
            hidden = True
            continue
        errors[field] = f"changed since version {expected} (last by {who} in version {version})"
    if hidden:
        errors["other fields"] = f"changed since version {expected}"
    raise StaleVersionError(
        f"the customer changed since version {expected} (now version {current}): "
        + ", ".join(errors),
        errors=errors,
        current_version=current,
    )


def history(
    session: Session, customer_id: str, *, limit: int, offset: int, hidden: list[str]
) -> tuple[list[CustomerChange], int]:
    query = select(CustomerChange).where(CustomerChange.customer_id == customer_id)
    if hidden:
        query = query.where(CustomerChange.field.not_in(hidden))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(CustomerChange.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def parse_cursor(cursor: str | None) -> tuple[int, int]:
    """A feed cursor is "<transaction>-<change id>"; empty = from the start."""
    if not cursor:
        return (-1, 0)
    tx, sep, change_id = cursor.partition("-")
    if not sep or not tx.isdigit() or not change_id.isdigit():
        raise InvalidInputError(
            "invalid cursor", errors={"since": "use the next_cursor of an earlier page"}
        )
    return (int(tx), int(change_id))


def feed(
    session: Session, since: str | None, limit: int
) -> tuple[list[CustomerChange], str | None]:
    """Changes after the cursor, oldest first, and the cursor to continue from.

    Ordered by (writing transaction, id). On PostgreSQL only rows of transactions older than
    every transaction still running are handed out: a transaction that took its ids earlier
    but commits later can then never be skipped by a reader that moved past them.
    """
    tx, change_id = parse_cursor(since)
    query = select(CustomerChange).where(
        tuple_(CustomerChange.txid, CustomerChange.id) > tuple_(tx, change_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.where(
            CustomerChange.txid < text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        )
    rows = list(
        session.scalars(query.order_by(CustomerChange.txid, CustomerChange.id).limit(limit))
    )
    if not rows:
        return [], since or None
    last = rows[-1]
    return rows, f"{last.txid}-{last.id}"


def visible_field(shown_custom: Mapping[str, bool]) -> Any:
    """A `shown(field)` predicate hiding custom fields mapped to False (or unknown)."""

    def shown(field: str) -> bool:
        if field.startswith("custom."):
            return shown_custom.get(field.removeprefix("custom."), False)
        return True

    return shown
