"""Reading definitions, and from a definition row to its compiled, cached model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, defer

from app.deployments.models import DecisionDefinition, Deployment, ProcessDefinition
from app.errors import EngineError, NotFoundError
from app.workflow.compiler import CACHE, CompiledBpmn, CompiledDmn
from app.workflow.dmn import Decision


def list_processes(
    session: Session,
    *,
    key: str | None = None,
    latest_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[ProcessDefinition], int]:
    query = select(ProcessDefinition).options(defer(ProcessDefinition.content))
    if key:
        query = query.where(ProcessDefinition.key == key)
    if latest_only:
        query = only_latest(query, ProcessDefinition)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def get_process(session: Session, definition_id: str) -> ProcessDefinition:
    row = session.get(ProcessDefinition, definition_id)
    if row is None:
        raise NotFoundError(f"process definition {definition_id} not found")
    return row


def latest_process(session: Session, key: str) -> ProcessDefinition:
    # The model text is read only if this process has not compiled it yet (compiled_process).
    row = session.scalars(
        select(ProcessDefinition)
        .options(defer(ProcessDefinition.content))
        .where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFoundError(f"no process definition with key '{key}'")
    return row


def list_decisions(session: Session, *, key: str | None = None) -> list[DecisionDefinition]:
    query = select(DecisionDefinition).options(defer(DecisionDefinition.content))
    if key:
        query = query.where(DecisionDefinition.key == key)
    return list(
        session.scalars(query.order_by(DecisionDefinition.key, DecisionDefinition.version.desc()))
    )


def get_decision(session: Session, definition_id: str) -> DecisionDefinition:
    row = session.get(DecisionDefinition, definition_id)
    if row is None:
        raise NotFoundError(f"decision definition {definition_id} not found")
    return row


def compiled_process(row: ProcessDefinition) -> CompiledBpmn:
    # Definitions never change once stored, so the id alone finds the compiled model later.
    _DEFINITIONS[row.id] = (row.content_hash, row.resource_name)
    compiled = CACHE.get(row.content_hash, lambda: row.content, row.resource_name)
    if not isinstance(compiled, CompiledBpmn):
        raise EngineError(f"definition {row.id} does not hold BPMN")
    return compiled


def compiled_by_id(session: Session, definition_id: str) -> CompiledBpmn:
    """The compiled model of a definition; no query at all once this process has seen it."""
    known = _DEFINITIONS.get(definition_id)
    if known is None:
        return compiled_process(get_process(session, definition_id))

    def content() -> bytes:
        return get_process(session, definition_id).content

    compiled = CACHE.get(known[0], content, known[1])
    if not isinstance(compiled, CompiledBpmn):
        raise EngineError(f"definition {definition_id} does not hold BPMN")
    return compiled


_DEFINITIONS: dict[str, tuple[str, str]] = {}


def decision_resolver(session: Session) -> Callable[[str], tuple[Decision, Mapping[str, Decision]]]:
    """Camunda's default binding: a decisionRef means the latest version of that key."""

    def resolve(key: str) -> tuple[Decision, Mapping[str, Decision]]:
        decisions = decisions_of(latest_decision(session, key))
        return decisions[key], decisions

    return resolve


def latest_decision(session: Session, key: str) -> DecisionDefinition:
    """The newest version of a decision key; NotFoundError when none is deployed."""
    row = session.scalars(
        select(DecisionDefinition)
        .where(DecisionDefinition.key == key)
        .order_by(DecisionDefinition.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFoundError(f"no decision definition with key '{key}'")
    return row


def decisions_of(row: DecisionDefinition) -> Mapping[str, Decision]:
    """Every decision of the DMN file the row was deployed from (compiled once, cached)."""
    compiled = CACHE.get(row.content_hash, lambda: row.content, row.resource_name)
    if not isinstance(compiled, CompiledDmn) or compiled.dmn is None:
        raise EngineError(f"decision definition {row.id} cannot be loaded")
    return compiled.dmn.decisions


def list_deployments(
    session: Session, *, limit: int = 50, offset: int = 0
) -> tuple[list[Deployment], int]:
    total = session.scalar(select(func.count()).select_from(Deployment)) or 0
    rows = session.scalars(
        select(Deployment)
        .order_by(Deployment.deployed_at.desc(), Deployment.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def get_deployment(session: Session, deployment_id: str) -> tuple[Deployment, list[Any]]:
    """A deployment and the definitions it created."""
    row = session.get(Deployment, deployment_id)
    if row is None:
        raise NotFoundError(f"deployment {deployment_id} not found")
    created: list[Any] = []
    for model in (ProcessDefinition, DecisionDefinition):
        created += session.scalars(
            select(model).where(model.deployment_id == deployment_id).order_by(model.key)
        )
    return row, created


def only_latest(query: Select[Any], model: Any) -> Select[Any]:
    """Restrict a definition query to the newest version of each key."""
    newest = select(model.key, func.max(model.version).label("v")).group_by(model.key).subquery()
    return query.join(newest, (model.key == newest.c.key) & (model.version == newest.c.v))
