"""Rewrite an instance's message_subscription rows from its state, in the step's transaction."""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from app.instances.models import ProcessInstance
from app.messages.models import MessageSubscription
from app.workflow.runtime import Run

_INSERT = insert(cast(Table, MessageSubscription.__table__))  # built once, bound at execution


def waiting(run: Run) -> frozenset[str]:
    """The tasks with a subscription row: every task waiting for a message but a start event."""
    if not run.catches_messages:
        return frozenset()
    return frozenset(w.id for w in run.message_waits() if not w.is_start)


def project(
    session: Session, instance: ProcessInstance, run: Run, loaded: Collection[str] | None
) -> None:
    """One row per task waiting for a message; rows of tasks that stopped waiting go.

    `loaded`: the tasks waiting when the state was loaded (empty for a new instance), which
    are the ones with rows; None if unknown. A top-level message start event is not a
    subscription: a message starts a new instance of the latest version instead
    (app.messages.correlation).
    """
    if not run.catches_messages:
        return
    waits = {w.id: w for w in run.message_waits() if not w.is_start}
    known: Collection[str]
    if loaded is not None and set(loaded) <= waits.keys():
        known = loaded  # none stopped waiting: nothing to delete
    else:
        rows = {
            row.id: row
            for row in session.scalars(
                select(MessageSubscription).where(MessageSubscription.instance_id == instance.id)
            )
        }
        for row_id, row in rows.items():
            if row_id not in waits:
                session.delete(row)
        known = rows
    new = [
        {
            "id": wait_id,
            "instance_id": instance.id,
            "message_name": wait.message_name,
            "business_key": instance.business_key,
            "process_key": instance.process_key,
            "element_id": wait.element_id,
        }
        for wait_id, wait in waits.items()
        if wait_id not in known
    ]
    if new:
        session.connection().execute(_INSERT, new)
