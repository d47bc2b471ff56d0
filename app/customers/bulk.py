"""Bulk writes of prepared row tuples: PostgreSQL COPY, executemany on other databases."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import JSON, bindparam, insert, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Base

# One encoder for every value: json.dumps with options builds a new encoder per call, which
# was a tenth of a bulk write's client time. Python None becomes JSON null, as SQLAlchemy's
# JSON type stores it (none_as_null=False).
_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


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
            try:
                with raw.cursor() as cursor, cursor.copy(statement) as copy:
                    if not json_at:
                        for row in data:
                            copy.write_row(row)
                    for row in data if json_at else ():
                        values = list(row)
                        for i in json_at:
                            values[i] = _json(values[i])
                        copy.write_row(values)
            except psycopg.errors.IntegrityError as exc:
                # As SQLAlchemy would raise it, so callers handle one kind of clash.
                raise IntegrityError(statement, None, exc) from exc
        else:
            session.execute(insert(table), [dict(zip(names, row, strict=True)) for row in data])
        written += len(data)
    return written


def insert_dicts(session: Session, name: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows given as dicts (rows with the same keys go out together)."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(tuple(row.values()))
    if session.get_bind().dialect.name != "postgresql":
        table = Base.metadata.tables[name]
        for names, data in groups.items():
            session.execute(insert(table), [dict(zip(names, r, strict=True)) for r in data])
        return len(rows)
    return sum(write(session, {name: names}, {name: data}) for names, data in groups.items())


def update_by_id(session: Session, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """UPDATE rows of `name` by their "id": one set-based statement per set of columns on
    PostgreSQL (UPDATE ... FROM unnest(arrays)), executemany elsewhere."""
    table = Base.metadata.tables[name]
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(k for k in row if k != "id")), []).append(row)
    postgres = session.get_bind().dialect.name == "postgresql"
    for names, group in groups.items():
        if not postgres:
            session.execute(
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values({n: bindparam(n) for n in names}),
                [{**{n: r[n] for n in names}, "_id": r["id"]} for r in group],
            )
            continue
        dialect = session.get_bind().dialect
        arrays, params = [], {}
        for i, column in enumerate(("id", *names)):
            kind = table.c[column].type
            values = [r[column] for r in group]
            if isinstance(kind, JSON):
                values = [_json(v) for v in values]
            arrays.append(f"CAST(:a{i} AS {kind.compile(dialect=dialect)}[])")
            params[f"a{i}"] = values
        assignments = ", ".join(f"{n} = u.{n}" for n in names)
        statement = (
            f'UPDATE "{name}" AS t SET {assignments} '  # noqa: S608 - names from the table
            f"FROM unnest({', '.join(arrays)}) AS u(id, {', '.join(names)}) WHERE t.id = u.id"
        )
        session.execute(text(statement), params)
