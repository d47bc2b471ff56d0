"""SLA escalation: a timer found a task still open, so mark it breached and tell people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.context import BusinessError, HandlerContext, NotificationStore, TaskStore
from handlers.registry import register


@register("slaEscalation", "corpflow.handlers.sla.Escalate")
def escalate(variables: Mapping[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    """Properties: `sla.task` (the user task's element id), `sla.priority_step` (default 20)."""
    element_id = ctx.properties.get("sla.task")
    if not element_id:
        raise BusinessError("sla_task_missing", "the escalation needs a 'sla.task' property")
    try:
        step = int(ctx.properties.get("sla.priority_step", "20"))
    except ValueError:
        raise BusinessError("sla_step_invalid", "'sla.priority_step' must be a number") from None
    tasks: TaskStore = ctx.stores["tasks"]
    outbox: NotificationStore = ctx.stores["notifications"]
    breached = tasks.mark_breached(element_id, priority_step=step)
    for task in breached:
        for user_id, address in task.recipients:
            outbox.notify(
                channel="email",
                recipient=address,
                subject=f"SLA 超时 / breached: {task.name}",
                body={
                    "text": (
                        f"任务「{task.name}」已超过时限。\n"
                        f"The task '{task.name}' is past its due time ({task.due_at}).\n"
                        f"Business key: {ctx.business_key or '-'}; priority is now {task.priority}."
                    )
                },
                # One message per escalation run, task and person: a re-run of this job sends
                # nothing new; a second escalation (a repeating SLA timer) mails again.
                idempotency_key=f"sla-{ctx.task_id}-{task.task_id}-{user_id}",
                task_id=task.task_id,
            )
    return {f"sla_breached_{element_id}": bool(breached)}
