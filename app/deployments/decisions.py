"""Decision definitions: query them, and evaluate one on its own with given variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from app.db import equal_to, one_page
from app.deployments.definitions import decisions_of, only_latest
from app.deployments.models import DecisionDefinition
from app.errors import EngineError, InvalidInputError
from app.identity.actor import Actor
from app.workflow.dmn import Decision

SORTS: dict[str, Any] = {
    "id": DecisionDefinition.id,
    "key": DecisionDefinition.key,
    "name": DecisionDefinition.name,
    "version": DecisionDefinition.version,
    "deploymentId": DecisionDefinition.deployment_id,
    "deployTime": DecisionDefinition.created_at,
}


@dataclass(frozen=True)
class DecisionFilter:
    id: str | None = None
    ids: tuple[str, ...] = ()
    key: str | None = None
    keys: tuple[str, ...] = ()
    key_like: str | None = None
    name: str | None = None
    name_like: str | None = None
    deployment_id: str | None = None
    resource_name: str | None = None
    version: int | None = None
    latest_only: bool = False
    sort: str = "key"
    order: str = "asc"
    limit: int = 100
    offset: int = 0


def list_decisions(session: Session, f: DecisionFilter) -> tuple[list[DecisionDefinition], int]:
    if f.sort not in SORTS:
        raise InvalidInputError("invalid sort", errors={"sortBy": f"one of {sorted(SORTS)}"})
    query = select(DecisionDefinition).options(defer(DecisionDefinition.content))
    query = equal_to(
        query,
        (
            (DecisionDefinition.id, f.id),
            (DecisionDefinition.key, f.key),
            (DecisionDefinition.name, f.name),
            (DecisionDefinition.deployment_id, f.deployment_id),
            (DecisionDefinition.resource_name, f.resource_name),
            (DecisionDefinition.version, f.version),
        ),
    )
    if f.ids:
        query = query.where(DecisionDefinition.id.in_(f.ids))
    if f.keys:
        query = query.where(DecisionDefinition.key.in_(f.keys))
    if f.key_like:
        query = query.where(DecisionDefinition.key.like(f.key_like))
    if f.name_like:
        query = query.where(DecisionDefinition.name.like(f.name_like))
    if f.latest_only:
        query = only_latest(query, DecisionDefinition)
    paged, total = one_page(
        session,
        query,
        SORTS[f.sort],
        descending=f.order != "asc",
        tie=DecisionDefinition.id,
        limit=f.limit,
        offset=f.offset,
    )
    return list(session.scalars(paged)), total


def _outputs(decision: Decision) -> set[str]:
    if decision.table is not None:
        return {output.name for output in decision.table.outputs}
    return {decision.literal.variable_name} if decision.literal is not None else set()


def _scope(
    decision: Decision, variables: Mapping[str, Any], registry: Mapping[str, Decision]
) -> dict[str, Any]:
    """The variables plus what each required decision contributes.

    A required decision whose outputs the caller already gave is not evaluated: its inputs
    may be absent (Dish with a given season and guest count needs no temperature). Camunda
    7.24's FEEL gets there by reading an unknown variable as null so that the required
    decision matches no rule; corpflow keeps unknown variables an error instead.
    """
    scope = dict(variables)
    for required_id in decision.required:
        required = registry.get(required_id)
        if required is None:
            raise EngineError(f"decision '{decision.id}' requires '{required_id}', not deployed")
        if _outputs(required) <= variables.keys():
            continue
        outcome = required.evaluate(_scope(required, variables, registry))
        scope.update(required.result_variables(outcome))
    return scope


def evaluate(
    session: Session, actor: Actor, row: DecisionDefinition, variables: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One output map per matched rule. Required decisions come from the same file (version)
    and are evaluated first with the same variables, as Camunda evaluates a decision of a DRD."""
    registry = decisions_of(row)
    decision = registry.get(row.key)
    if decision is None:  # pragma: no cover - the key was read from this very file
        raise EngineError(f"decision '{row.key}' is missing from {row.resource_name}")
    # A DecisionEvaluationError (an EngineError) names the decision and what failed.
    scope = _scope(decision, variables, registry)
    return decision.evaluate(scope).result_list()
