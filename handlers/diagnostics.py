"""Handlers for smoke tests and diagnostics diagrams."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.context import BusinessError, HandlerContext
from handlers.registry import register


@register("corpflow.Echo")
def echo(variables: Mapping[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    """Report that the service ran, with the element that bound it."""
    return {"echoed_by": ctx.element_id, "echo_count": int(variables.get("echo_count", 0)) + 1}


@register("corpflow.Reject")
def reject(variables: Mapping[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    """Raise the business error named by `reject_code` (default `limit_exceeded`)."""
    code = str(variables.get("reject_code") or "limit_exceeded")
    raise BusinessError(code, f"rejected at {ctx.element_id}")
