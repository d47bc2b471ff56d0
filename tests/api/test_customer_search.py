"""Customer search: filters on built-in and custom fields, sorting, paging, total, scope."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.lending import loans
from tests.conftest import STAFF
from tests.factories import make_customer, make_uscc
from tests.party_factories import RM, make_facility


def _search(client: FlaskClient, query: str, who: str = "admin") -> dict[str, Any]:
    response = client.get(f"/api/v1/customers?{query}", headers=STAFF[who])
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _names(client: FlaskClient, query: str, who: str = "admin") -> list[str]:
    return [c["name"] for c in _search(client, query, who)["items"]]


def _seed(client: FlaskClient) -> dict[str, dict[str, Any]]:
    assert (
        client.post(
            "/api/v1/custom-fields",
            json={"key": "employees", "label": "员工人数", "type": "integer"},
            headers=STAFF["admin"],
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/custom-fields",
            json={
                "key": "segment",
                "label": "分层",
                "type": "enum",
                "enum_values": ["核心", "一般"],
            },
            headers=STAFF["admin"],
        ).status_code
        == 201
    )
    rows = {
        "a": ("上海浦东新能源汽车有限公司", "rm", "C3612", "310115", 500, "核心"),
        "b": ("上海示例软件有限公司", "rm", "I6510", "310104", 40, "一般"),
        "c": ("北京朝阳房地产开发有限公司", "rm_ma", "K7010", "110105", 120, "核心"),
        "d": ("浦东二组贸易有限公司", "rm_wu", "F5211", "310115", 8, "一般"),
    }
    made = {}
    for key, (name, who, industry, region, employees, segment) in rows.items():
        made[key] = make_customer(
            client,
            name,
            who=who,
            uscc=make_uscc(region),
            industry_code=industry,
            custom={"employees": employees, "segment": segment},
        )
    client.patch(
        f"/api/v1/customers/{made['a']['id']}",
        json={"status": "onboarding", "risk_rating": "AA"},
        headers=STAFF["admin"],
    )
    return made


def test_search_filters(client: FlaskClient) -> None:
    made = _seed(client)
    assert _names(client, "name=浦东") == ["上海浦东新能源汽车有限公司", "浦东二组贸易有限公司"]
    assert _names(client, "name=新能源") == ["上海浦东新能源汽车有限公司"]
    assert _names(client, "name=50%25") == []  # % is a character, not a wildcard
    assert _names(client, f"uscc={made['c']['uscc'].lower()}") == ["北京朝阳房地产开发有限公司"]
    assert len(_names(client, "rm_id=rm_li")) == 2
    assert _names(client, "team_id=SH-PD-T2") == ["浦东二组贸易有限公司"]
    assert len(_names(client, "branch_id=SH")) == 3  # the branch includes 浦东支行
    assert _names(client, "branch_id=BJ-CY") == ["北京朝阳房地产开发有限公司"]
    assert _names(client, "industry=C") == ["上海浦东新能源汽车有限公司"]
    assert _names(client, "industry=I65") == ["上海示例软件有限公司"]
    assert len(_names(client, "region=31")) == 3
    assert len(_names(client, "region=310115")) == 2
    assert _names(client, "status=onboarding") == ["上海浦东新能源汽车有限公司"]
    assert len(_names(client, "status=prospect,onboarding")) == 4
    assert _names(client, "risk_rating=AA") == ["上海浦东新能源汽车有限公司"]
    assert len(_names(client, "custom.segment=核心")) == 2
    assert _names(client, "custom.employees=40") == ["上海示例软件有限公司"]
    assert len(_names(client, "custom.employees.gte=100")) == 2
    assert _names(client, "custom.employees.gte=100&custom.employees.lte=200") == [
        "北京朝阳房地产开发有限公司"
    ]
    assert _names(client, "custom.segment=一般&region=310115") == ["浦东二组贸易有限公司"]


def test_search_is_scoped(client: FlaskClient) -> None:
    _seed(client)
    assert _names(client, "name=有限公司", who="rm") == [
        "上海浦东新能源汽车有限公司",
        "上海示例软件有限公司",
    ]
    assert _names(client, "rm_id=rm_ma", who="rm") == []
    assert _search(client, "custom.segment=核心", who="branch")["total"] == 1


def test_search_sorts_and_pages_with_total(client: FlaskClient) -> None:
    _seed(client)
    first = _search(client, "limit=3&offset=0&sort=name&order=desc")
    assert first["total"] == 4 and len(first["items"]) == 3
    second = _search(client, "limit=3&offset=3&sort=name&order=desc")
    assert second["total"] == 4 and len(second["items"]) == 1
    everything = [c["name"] for c in first["items"] + second["items"]]
    assert everything == sorted(everything, reverse=True)
    beyond = _search(client, "limit=3&offset=10")
    assert beyond["items"] == [] and beyond["total"] == 4


def test_search_bad_filters_are_named(client: FlaskClient) -> None:
    _seed(client)
    response = client.get(
        "/api/v1/customers?custom.employees=many&custom.segment.gte=1&custom.nope=1&sort=size",
        headers=STAFF["admin"],
    )
    assert response.status_code == 422
    assert "sort" in response.get_json()["errors"]
    response = client.get(
        "/api/v1/customers?custom.employees=many&custom.segment.gte=1&custom.nope=1",
        headers=STAFF["admin"],
    )
    assert response.get_json()["errors"] == {
        "custom.employees": "a whole number",
        "custom.segment.gte": (
            "use custom.<key>=value, or .gte/.lte on number, integer or date fields"
        ),
        "custom.nope": "no such custom field",
    }


def test_search_by_loan_classification(client: FlaskClient, app: Flask) -> None:
    """Customers with an active loan in one of the classes; settled loans do not count."""
    bad = make_customer(client, "次级贷款客户有限公司", who="rm")
    mixed = make_customer(client, "关注贷款客户有限公司", who="rm")
    settled = make_customer(client, "已结清客户有限公司", who="rm")
    make_customer(client, "无贷款客户有限公司", who="rm")
    sessions = app.extensions["corpflow"].sessions
    with sessions() as session:
        for customer, classes in ((bad, ["substandard"]), (mixed, ["normal", "special_mention"]),
                                  (settled, ["loss"])):  # fmt: skip
            facility = make_facility(session, customer["id"], "5000")
            for i, category in enumerate(classes):
                loan = loans.draw(
                    session,
                    RM,
                    customer["id"],
                    {
                        "facility_id": facility,
                        "contract_no": f"CL-{customer['id'][:8]}-{i}",
                        "amount": "100",
                        "start_date": "2026-02-01",
                        "maturity_date": "2026-12-01",
                    },
                )
                loan.classification = category
                if customer is settled:
                    loan.status = "settled"
        session.commit()
    assert _names(client, "classification=substandard") == ["次级贷款客户有限公司"]
    assert set(_names(client, "classification=special_mention,substandard")) == {
        "次级贷款客户有限公司",
        "关注贷款客户有限公司",
    }
    assert _names(client, "classification=loss") == []
    assert _search(client, "classification=normal")["total"] == 1
    response = client.get("/api/v1/customers?classification=bad,loss", headers=STAFF["admin"])
    assert response.status_code == 422
    assert "bad" in response.get_json()["errors"]["classification"]
