"""Handlers of Camunda 7's invoice demo, bound to its Java class names so it runs unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.context import HandlerContext
from handlers.registry import register


@register("org.camunda.bpm.example.invoice.service.ArchiveInvoiceService")
def archive_invoice(variables: Mapping[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    """Record that the invoice was archived, under a reference stable across retries.

    The Java original only logs; this demo handler leaves its trace in the variables (and the
    instance history records the service task), which is what a test or an auditor checks.
    """
    number = variables.get("invoiceNumber") or ctx.business_key or ctx.instance_id
    return {"archived": True, "archiveReference": f"ARCHIVE-{number}"}


@register("org.camunda.bpm.example.invoice.service.NotifyCreditorService")
def notify_creditor(variables: Mapping[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    """invoice.v1's notification step: remember that the creditor was told."""
    return {"creditorNotified": True}
