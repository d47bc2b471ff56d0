"""The files a deployment stored, as Camunda lists them: id, name and the verbatim bytes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.deployments.definitions import get_deployment
from app.deployments.models import DecisionDefinition, ProcessDefinition
from app.errors import NotFoundError


@dataclass(frozen=True)
class Resource:
    id: str  # the content hash: one file of a deployment, stable across reads
    name: str
    deployment_id: str


def list_resources(session: Session, deployment_id: str) -> list[Resource]:
    """Each file that created a definition in this deployment; files that created none (a
    Camunda Form, a BPMN file whose processes were unchanged) were not stored by it."""
    get_deployment(session, deployment_id)
    found: dict[str, Resource] = {}
    for model in (ProcessDefinition, DecisionDefinition):
        rows = session.execute(
            select(model.content_hash, model.resource_name)
            .where(model.deployment_id == deployment_id)
            .order_by(model.resource_name)
        )
        for digest, name in rows:
            found.setdefault(digest, Resource(digest, name, deployment_id))
    return sorted(found.values(), key=lambda r: r.name)


def resource(session: Session, deployment_id: str, resource_id: str) -> Resource:
    for item in list_resources(session, deployment_id):
        if item.id == resource_id:
            return item
    raise NotFoundError(
        f"Deployment resource '{resource_id}' for deployment '{deployment_id}' does not exist."
    )


def resource_data(session: Session, deployment_id: str, resource_id: str) -> tuple[str, bytes]:
    """The file name and its bytes exactly as uploaded."""
    item = resource(session, deployment_id, resource_id)
    for model in (ProcessDefinition, DecisionDefinition):
        content = session.scalars(
            select(model.content)
            .where(model.deployment_id == deployment_id, model.content_hash == resource_id)
            .limit(1)
        ).first()
        if content is not None:
            return item.name, content
    return item.name, b""  # pragma: no cover - the listing above found the row
