"""Credit handlers: create the approved facility on the customer."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from handlers.context import BusinessError, FacilityStore, HandlerContext
from handlers.registry import register


@register("createFacility", "corpflow.handlers.credit.CreateFacility")
def create_facility(variables: Mapping[str, Any], ctx: HandlerContext) -> dict[str, Any]:
    store: FacilityStore = ctx.stores["facilities"]
    try:
        amount = Decimal(str(variables["amount"]))
        term = int(variables["term_months"])
        customer_id = str(variables["customer_id"])
    except (KeyError, ValueError, InvalidOperation) as exc:
        raise BusinessError("facility_data_missing", f"cannot create the facility: {exc}") from None
    facility_id = store.create_facility(
        idempotency_key=ctx.idempotency_key,
        customer_id=customer_id,
        product=str(variables.get("product", "working_capital")),
        amount=amount,
        currency=str(variables.get("currency", "CNY")),
        term_months=term,
        guarantee_type=str(variables.get("guarantee_type", "credit")),
        approver_group=variables.get("approver_group"),
    )
    return {"facility_id": facility_id}
