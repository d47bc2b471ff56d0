"""Small make_* factories for tests."""

from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app.customers.uscc import check_char, org_check_char
from tests.conftest import STAFF, basic

_serial = itertools.count(1)


def make_uscc(region: str = "310115") -> str:
    """A fresh USCC that passes both the GB 32100 and the GB 11714 checks."""
    body = f"{next(_serial):08d}"
    first17 = f"91{region}{body}{org_check_char(body)}"
    return first17 + check_char(first17)


def make_customer(
    client: FlaskClient, name: str = "上海示例科技有限公司", who: str = "rm", **fields: Any
) -> dict[str, Any]:
    body = {"uscc": make_uscc(), "name": name, **fields}
    response = client.post("/api/v1/customers", json=body, headers=STAFF[who])
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def application_variables(customer_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid credit_application start form; override any field."""
    return {
        "customer_id": customer_id,
        "amount": 5_000_000,
        "currency": "CNY",
        "term_months": 12,
        "product": "working_capital",
        "guarantee_type": "mortgage",
        "purpose": "采购原材料",
        **overrides,
    }


def make_application(
    client: FlaskClient,
    customer_id: str,
    *,
    amount: int = 5_000_000,
    guarantee_type: str = "mortgage",
    who: str = "rm",
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/process-instances",
        headers=STAFF[who],
        json={
            "process_key": "credit_application",
            "business_key": f"APP-{next(_serial)}",
            "variables": application_variables(
                customer_id, amount=amount, guarantee_type=guarantee_type
            ),
        },
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def open_task(client: FlaskClient, instance_id: str, who: str, element_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/tasks?instance_id={instance_id}", headers=STAFF[who])
    assert response.status_code == 200, response.get_json()
    matches = [t for t in response.get_json()["items"] if t["element_id"] == element_id]
    assert matches, f"{who} sees no open {element_id}: {response.get_json()}"
    return dict(matches[0])


def do_task(
    client: FlaskClient, instance_id: str, who: str, element_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    task = open_task(client, instance_id, who, element_id)
    claimed = client.post(f"/api/v1/tasks/{task['id']}/claim", headers=STAFF[who])
    assert claimed.status_code == 200, claimed.get_json()
    done = client.post(
        f"/api/v1/tasks/{task['id']}/complete", headers=STAFF[who], json={"values": values}
    )
    assert done.status_code == 200, done.get_json()
    return dict(done.get_json())


def instance(client: FlaskClient, instance_id: str, who: str = "admin") -> dict[str, Any]:
    response = client.get(f"/api/v1/process-instances/{instance_id}", headers=STAFF[who])
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def make_user(
    sessions: sessionmaker[Session],
    user_id: str,
    groups: tuple[str, ...],
    *,
    unit: str | None = "HO",
    role: str = "staff",
) -> dict[str, str]:
    """Create a user once (identity tables survive between tests); return Basic headers.

    The user sits in `unit` with `role` (head-office staff by default, who see every
    customer); `unit=None` leaves them unplaced (they see only customers they own).
    """
    from app.identity.actor import SYSTEM
    from app.identity.models import User
    from app.identity.users import create_user
    from app.org.units import place

    with sessions() as session:
        if session.get(User, user_id) is None:
            create_user(session, SYSTEM, user_id, "password-123", user_id, groups)
            if unit is not None:
                place(session, SYSTEM, user_id, unit, role)
            session.commit()
    return basic(user_id, "password-123")
