"""Bulk writes of prepared row tuples: PostgreSQL COPY, executemany on other databases."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, insert
from sqlalchemy.orm import Session

from app.db import Base


def _json(value: Any) -> Any:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def write(
    session: Session,
    columns: Mapping[str, Sequence[str]],
    rows: Mapping[str, Sequence[tuple[Any, ...]]],
) -> int:
    """Write every table's rows in the session's transaction, parents first; returns the
    number of rows written. COPY (text format) on PostgreSQL; JSON values are serialized
    here, every other value is adapted by the driver."""
    order = [t.name for t in Base.metadata.sorted_tables if rows.get(t.name)]
    postgres = session.get_bind().dialect.name == "postgresql"
    written = 0
    for name in order:
        table, names, data = Base.metadata.tables[name], list(columns[name]), rows[name]
        if postgres:
            json_at = [i for i, c in enumerate(names) if isinstance(table.c[c].type, JSON)]
            raw = session.connection().connection.driver_connection
            assert raw is not None
            statement = f'COPY "{name}" ({", ".join(names)}) FROM STDIN'
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in data:
                    if json_at:
                        row = tuple(_json(v) if i in json_at else v for i, v in enumerate(row))
                    copy.write_row(row)
        else:
            session.execute(insert(table), [dict(zip(names, row, strict=True)) for row in data])
        written += len(data)
    return written
