"""Camunda 7 REST compatibility: the subset Camunda Modeler and the Python clients call."""

from __future__ import annotations

from api.engine_rest import (
    deployments,
    errors,
    external_tasks,
    guard,
    messages,
    misc,
    process_definitions,
    process_instances,
    tasks,
)
from api.engine_rest.blueprint import bp, wellknown_bp

__all__ = [
    "bp",
    "deployments",
    "errors",
    "external_tasks",
    "guard",
    "messages",
    "misc",
    "process_definitions",
    "process_instances",
    "tasks",
    "wellknown_bp",
]
