"""The handlers' door to customers: lifecycle moves made by a process (onboarding activates
the customer), in the job's transaction, recorded in the change log with source `process`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.customers import statuses
from app.customers.customers import apply
from app.customers.models import Customer
from app.errors import NotFoundError
from handlers.context import BusinessError

# The BPMN error a diagram may catch when the customer's lifecycle does not allow the move.
STATUS_NOT_ALLOWED = "customer_status_not_allowed"


@dataclass
class CustomerStore:
    session: Session
    instance_id: str

    def set_status(self, customer_id: str, status: str) -> str:
        """Move the customer to `status`; a customer already there is left alone (a retried
        job changes nothing). A move the lifecycle forbids is a BPMN error."""
        if status not in statuses.STATUSES:
            raise BusinessError(
                STATUS_NOT_ALLOWED, f"{status} is not one of {', '.join(statuses.STATUSES)}"
            )
        customer = self.session.get(Customer, customer_id, with_for_update=True)
        if customer is None:
            raise NotFoundError(f"customer {customer_id} not found")
        if customer.status == status:
            return status
        problem = statuses.transition_problem(customer.status, status)
        if problem:
            raise BusinessError(STATUS_NOT_ALLOWED, f"customer {customer.uscc}: {problem}")
        old = customer.status
        apply(
            self.session,
            customer,
            {"status": status},
            customer.custom or {},
            [("status", old, status)],
            f"process:{self.instance_id}",
            "process",
        )
        return status
