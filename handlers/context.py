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


class CustomerStore(Protocol):
    def set_status(self, customer_id: str, status: str) -> str:
        """Move the customer along its lifecycle (idempotent); return the status it is in.

        A move the lifecycle does not allow raises BusinessError customer_status_not_allowed."""
        ...


@dataclass(frozen=True)
class BreachedTask:
    """A user task an SLA timer found still open, and whom to tell."""

    task_id: str
    name: str
    due_at: str | None
    breached_at: str
    priority: int
    # (user id, e-mail address): the assignee, the candidate groups' leads, the supervisors.
    recipients: tuple[tuple[str, str], ...]


class TaskStore(Protocol):
    def mark_breached(self, element_id: str, *, priority_step: int) -> list[BreachedTask]:
        """Mark the instance's open tasks of `element_id` as breached; raise their priority."""
        ...


class NotificationStore(Protocol):
    def notify(
        self,
        *,
        channel: str,
        recipient: str,
        subject: str,
        body: dict[str, Any],
        idempotency_key: str,
        task_id: str | None = None,
    ) -> None:
        """Put a message in the outbox; it is sent once, after the transaction commits."""
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
    # The service task's camunda:properties, e.g. sla.task = review_credit.
    properties: Mapping[str, str] = field(default_factory=dict)


class BusinessError(Exception):
    """A business outcome the diagram should handle (thrown as a BPMN error with `code`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TransientError(Exception):
    """A temporary failure: the service task is retried later."""
