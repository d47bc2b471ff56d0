"""Rows a batch of steps writes, sent together: one statement per kind of row, not per step.

A step writes its projections with a handful of prebuilt Core statements (instance state,
history, new tasks and timers, closed rows). Firing a batch of timers steps many instances in
one transaction, so inside `batched` those rows are collected and each statement is sent once
for the whole batch when it ends, in the order each kind was first written (a task's row goes
out before its candidates, as in a single step). Outside `batched` rows are sent at once.

Nothing may read a collected row back before it is sent: the rows belong to instances the
batch has stepped, and a caller that steps one of them again calls `send` first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.orm import Session

_KEY = "corpflow_write_batch"


class WriteBatch:
    """Parameter sets per (statement, parameter names), in the order first written."""

    def __init__(self) -> None:
        self._rows: dict[tuple[Executable, tuple[str, ...]], list[dict[str, Any]]] = {}

    def add(self, statement: Executable, rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            self._rows.setdefault((statement, tuple(row)), []).append(row)

    def send(self, session: Session) -> None:
        """Send every collected row (one statement per kind) and start empty."""
        pending, self._rows = self._rows, {}
        if not pending:
            return
        connection = session.connection()
        for (statement, _names), rows in pending.items():
            connection.execute(statement, rows)


@contextmanager
def batched(session: Session) -> Iterator[WriteBatch]:
    """Collect the session's step writes until the block ends, then send them.

    If the block raises, nothing collected is sent (the caller rolls the transaction back).
    """
    batch = WriteBatch()
    session.info[_KEY] = batch
    try:
        yield batch
        batch.send(session)
    finally:
        session.info.pop(_KEY, None)


def execute(session: Session, statement: Executable, rows: Sequence[dict[str, Any]]) -> None:
    """Run `statement` once per row now, or collect the rows inside `batched`."""
    if not rows:
        return
    batch: WriteBatch | None = session.info.get(_KEY)
    if batch is None:
        session.connection().execute(statement, list(rows))
    else:
        batch.add(statement, rows)
