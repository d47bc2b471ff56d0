"""Camunda 7 REST compatibility: the subset Camunda Modeler and the Python clients call."""

from __future__ import annotations

from api.engine_rest import (
    decisions,
    deployments,
    errors,
    guard,
    history,
    incidents,
    instance_variables,
    misc,
    process_definitions,
    process_instances,
    repository,
    task_actions,
    task_variables,
    tasks,
)
from api.engine_rest.blueprint import bp, wellknown_bp

__all__ = [
    "bp",
    "decisions",
    "deployments",
    "errors",
    "guard",
    "history",
    "incidents",
    "instance_variables",
    "misc",
    "process_definitions",
    "process_instances",
    "repository",
    "task_actions",
    "task_variables",
    "tasks",
    "wellknown_bp",
]
