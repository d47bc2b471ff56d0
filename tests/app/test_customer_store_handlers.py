"""setCustomerStatus: the status comes from the service task's customer.status property."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.customers.models import Customer
from app.customers.process_store import CustomerStore
from app.errors import InvalidInputError
from handlers.context import BusinessError, HandlerContext
from handlers.customers import set_customer_status
from tests.party_factories import make_company


def _context(session: Session, **properties: str) -> HandlerContext:
    return HandlerContext(
        instance_id="inst-1",
        task_id="task-1",
        element_id="set_status",
        business_key=None,
        idempotency_key="inst-1:task-1",
        stores={"customers": CustomerStore(session, "inst-1")},
        properties=properties,
    )


def test_set_customer_status_follows_the_property(session: Session) -> None:
    customer_id = make_company(session, "休眠客户有限公司")
    customer = session.get(Customer, customer_id)
    assert customer is not None and customer.status != "dormant"
    customer.status = "active"
    session.flush()
    out = set_customer_status(
        {"customer_id": customer_id}, _context(session, **{"customer.status": "dormant"})
    )
    assert out == {"customer_status": "dormant"}
    session.refresh(customer)
    assert (customer.status, customer.updated_by) == ("dormant", "process:inst-1")


def test_set_customer_status_needs_the_property_and_a_known_status(session: Session) -> None:
    customer_id = make_company(session, "缺少属性有限公司")
    with pytest.raises(BusinessError) as missing:
        set_customer_status({"customer_id": customer_id}, _context(session))
    assert missing.value.code == "customer_status_missing"
    with pytest.raises(InvalidInputError, match="unknown customer status 'closed'"):
        # A modelling mistake: an incident, not a BPMN error a diagram could swallow.
        set_customer_status(
            {"customer_id": customer_id}, _context(session, **{"customer.status": "closed"})
        )
