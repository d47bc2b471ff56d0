"""The handlers' door to customers: lifecycle moves made by a process (onboarding activates
the customer), in the job's transaction, recorded in the change log with source `process`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.customers import statuses
from app.customers.customers import apply
from app.customers.models import Customer
from app.errors import InvalidInputError, NotFoundError
from handlers.context import BusinessError

# The BPMN error a diagram may catch when the customer's lifecycle does not allow the move.
STATUS_NOT_ALLOWED = "customer_status_not_allowed"


@dataclass
class CustomerStore:
    session: Session
    instance_id: str

    def set_status(self, customer_id: str, status: str) -> str:
        """Move the customer to `status`; a customer already there is left alone (a retried
        job changes nothing). A move the lifecycle forbids is a BPMN error; a status that is
        not a lifecycle status at all is an incident (the model is wrong)."""
        if status not in statuses.STATUSES:
            # A modelling mistake, not a business outcome: an incident, never a caught error.
            allowed = ", ".join(statuses.STATUSES)
            raise InvalidInputError(
                f"unknown customer status {status!r}: the task's customer.status must be one of "
                f"{allowed}",
                errors={"customer.status": f"{status}: not one of {allowed}"},
            )
        customer = self.session.get(
            Customer, customer_id, with_for_update=True, populate_existing=True
        )
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
