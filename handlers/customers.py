"""Customer handlers: lifecycle moves made by processes (onboarding activates the customer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.context import BusinessError, CustomerStore, HandlerContext
from handlers.registry import register


def _customer_id(variables: Mapping[str, Any]) -> str:
    customer_id = variables.get("customer_id")
    if not customer_id:
        raise BusinessError("customer_missing", "the process has no customer_id variable")
    return str(customer_id)


@register("activateCustomer", "corpflow.handlers.customers.ActivateCustomer")
def activate_customer(variables: Mapping[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    """onboarding → active (the end of onboarding/KYC)."""
    store: CustomerStore = ctx.stores["customers"]
    return {"customer_status": store.set_status(_customer_id(variables), "active")}


@register("setCustomerStatus", "corpflow.handlers.customers.SetCustomerStatus")
def set_customer_status(variables: Mapping[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    """To the status named by the task's `customer.status` property (camunda:properties)."""
    status = ctx.properties.get("customer.status")
    if not status:
        raise BusinessError(
            "customer_status_missing", "the service task has no customer.status property"
        )
    store: CustomerStore = ctx.stores["customers"]
    return {"customer_status": store.set_status(_customer_id(variables), status)}
