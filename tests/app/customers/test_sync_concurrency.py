"""Two core systems updating one customer at once: no change is lost."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.customers.models import Customer, CustomerChange
from app.customers.sync import sync
from app.identity.actor import Actor
from tests.factories import make_uscc

CORE = Actor("ecif", frozenset({"core_system"}))


def _record(**fields: Any) -> dict[str, Any]:
    return {"external_id": "E1", "name": "并发测试有限公司", "status": "active", **fields}


def test_sync_updates_racing_on_one_customer_both_land(
    sessions: sessionmaker[Session],
) -> None:
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite serializes whole transactions)")
    code = make_uscc()
    with sessions() as session:
        sync(session, CORE, "ECIF", [_record(uscc=code)])
        session.commit()
    first = sessions()
    renamed = sync(first, CORE, "ECIF", [_record(uscc=code, name="并发测试一有限公司")])
    assert renamed[0].status == "updated"
    outcome: dict[str, Any] = {}

    def second() -> None:
        with sessions() as session:
            # Blocks on the first writer's row lock, then plans on its committed result.
            outcome["results"] = sync(
                session,
                CORE,
                "ECIF",
                [_record(uscc=code, name="并发测试一有限公司", risk_rating="BBB")],
            )
            session.commit()

    racer = threading.Thread(target=second)
    racer.start()
    racer.join(timeout=1)
    assert racer.is_alive(), "the second writer waits for the first one's lock"
    first.commit()
    first.close()
    racer.join(timeout=10)
    assert outcome["results"][0].status == "updated"
    assert outcome["results"][0].changed == ["risk_rating"]
    with sessions() as session:
        customer = session.scalars(select(Customer).where(Customer.uscc == code)).one()
        assert (customer.name, customer.risk_rating, customer.version) == (
            "并发测试一有限公司",
            "BBB",
            3,
        )
        fields = session.scalars(
            select(CustomerChange.field)
            .where(CustomerChange.customer_id == customer.id)
            .order_by(CustomerChange.version)
        ).all()
        assert fields == ["*", "name", "risk_rating"]
