"""Rewrite an instance's message_subscription rows from its state, in the step's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.instances.models import ProcessInstance
from app.messages.models import MessageSubscription
from app.workflow.runtime import Run


def project(session: Session, instance: ProcessInstance, run: Run, new: bool) -> None:
    """One row per task waiting for a message; rows of tasks that stopped waiting go.

    A top-level message start event is not a subscription: a message starts a new instance
    of the latest version instead (app.messages.correlation).
    """
    if not run.catches_messages:
        return
    waits = {w.id: w for w in run.message_waits() if not w.is_start}
    known = (
        {}
        if new
        else {
            row.id: row
            for row in session.scalars(
                select(MessageSubscription).where(MessageSubscription.instance_id == instance.id)
            )
        }
    )
    for row_id, row in known.items():
        if row_id not in waits:
            session.delete(row)
    for wait_id, wait in waits.items():
        if wait_id in known:
            continue
        session.add(
            MessageSubscription(
                id=wait_id,
                instance_id=instance.id,
                message_name=wait.message_name,
                business_key=instance.business_key,
                process_key=instance.process_key,
                element_id=wait.element_id,
            )
        )
