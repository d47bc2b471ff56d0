"""Writing checked spreadsheet rows: the store's planned-change writer, source "import"
(an import links no external ids, unlike the sync)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.customers import planned_writes
from app.db import utcnow
from app.imports.customer_rows import RowCheck


def write(session: Session, rows: Sequence[RowCheck], by: str) -> int:
    """Write the planned rows; returns how many customers were created or changed."""
    planned = [r for r in rows if r.plan is not None]
    plans = [r.plan for r in planned if r.plan is not None]
    ids = planned_writes.write(session, plans, by=by, source="import", at=utcnow())
    for row, customer_id in zip(planned, ids, strict=True):
        row.target_id = customer_id
    return len(planned)
