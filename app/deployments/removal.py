"""Delete a deployment: its definitions and, with cascade, their instances and everything theirs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table, delete, select
from sqlalchemy.orm import Session

from app.db import Base
from app.deployments.models import Deployment, ProcessDefinition
from app.errors import ConflictError, NotFoundError, PermissionDeniedError
from app.identity.actor import ADMIN, PROCESS_DESIGNER, Actor
from app.instances.models import ProcessInstance

SHOWN_IDS = 5


def _referencing(table: Table) -> list[tuple[Table, Column[Any], Column[Any]]]:
    """(child table, its foreign-key column, the referenced column) for every child of `table`."""
    found = []
    for child in Base.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table and child is not table:
                found.append((child, fk.parent, fk.column))
    return found


def _delete_rows(session: Session, table: Table, where: Any) -> None:
    """Delete rows of `table` matching `where` after the rows of every table referring to them.

    Walks the foreign keys of the models, so rows of any table that points at an instance (tasks,
    timers, jobs, history, incidents, and tables added later) go with it.
    """
    for child, column, referenced in _referencing(table):
        _delete_rows(session, child, column.in_(select(referenced).where(where)))
    session.execute(delete(table).where(where).execution_options(synchronize_session=False))


def _describe(rows: list[tuple[str, str]]) -> str:
    ids = ", ".join(instance_id for instance_id, _status in rows[:SHOWN_IDS])
    more = f" and {len(rows) - SHOWN_IDS} more" if len(rows) > SHOWN_IDS else ""
    return f"{ids}{more}"


def delete_deployment(
    session: Session, actor: Actor, deployment_id: str, *, cascade: bool = False
) -> None:
    """Without `cascade`, refuse while any instance of its definitions exists: running ones
    depend on them, and ended ones keep their history (the audit trail) only with them."""
    if not actor.in_group(PROCESS_DESIGNER, ADMIN):
        raise PermissionDeniedError("deleting deployments needs the process_designer role")
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        raise NotFoundError(f"Deployment with id '{deployment_id}' do not exist")
    definitions = select(ProcessDefinition.id).where(
        ProcessDefinition.deployment_id == deployment_id
    )
    instances = [
        (row.id, row.status)
        for row in session.execute(
            select(ProcessInstance.id, ProcessInstance.status)
            .where(ProcessInstance.definition_id.in_(definitions))
            .order_by(ProcessInstance.started_at)
        )
    ]
    if instances and not cascade:
        running = [row for row in instances if row[1] == "running"]
        if running:
            raise ConflictError(
                "Deletion of process definition without cascading failed. There are "
                f"{len(running)} running process instances which depend on the process "
                f"definitions of deployment {deployment_id}: {_describe(running)}. "
                "Delete with cascade=true to cancel and delete them.",
                code="deployment_in_use",
            )
        raise ConflictError(
            f"Deployment {deployment_id} has {len(instances)} ended process instances whose "
            f"history depends on its definitions: {_describe(instances)}. Delete with "
            "cascade=true to delete that history too.",
            code="deployment_has_history",
        )
    table: Table = Deployment.__table__  # type: ignore[assignment]
    _delete_rows(session, table, table.c.id == deployment_id)
    session.expunge(deployment)
