"""Camunda 7 REST compatibility: the subset Camunda Modeler and the Python clients call."""

from __future__ import annotations

from api.engine_rest import (
    decisions,
    deployments,
    errors,
    external_tasks,
    guard,
    history,
    incidents,
    instance_variables,
    messages,
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
    "external_tasks",
    "guard",
    "history",
    "incidents",
    "instance_variables",
    "messages",
    "misc",
    "process_definitions",
    "process_instances",
    "repository",
    "task_actions",
    "task_variables",
    "tasks",
    "wellknown_bp",
]
