"""What a handler receives besides variables, and the errors it may raise."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol


class FacilityStore(Protocol):
    def create_facility(
        self,
        *,
        idempotency_key: str,
        customer_id: str,
        product: str,
        amount: Decimal,
        currency: str,
        term_months: int,
        guarantee_type: str,
        approver_group: str | None,
    ) -> str:
        """Create the facility once per idempotency key; return its id."""
        ...


@dataclass(frozen=True)
class HandlerContext:
    instance_id: str
    task_id: str
    element_id: str
    business_key: str | None
    # Stable across retries of the same service task: side effects key on it.
    idempotency_key: str
    stores: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)


class BusinessError(Exception):
    """A business outcome the diagram should handle (thrown as a BPMN error with `code`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TransientError(Exception):
    """A temporary failure: the service task is retried later."""
