"""Custom fields: definitions at run time, validation like built-in fields, visibility."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import STAFF
from tests.factories import make_customer, make_uscc

FIELDS: list[dict[str, Any]] = [
    {
        "key": "segment",
        "label": "客户分层",
        "type": "enum",
        "enum_values": ["战略", "核心", "一般"],
    },
    {"key": "employees", "label": "员工人数", "type": "integer", "minimum": 0, "maximum": 100000},
    {"key": "green_ratio", "label": "绿色收入占比", "type": "number", "minimum": 0, "maximum": 1},
    {"key": "listed", "label": "是否上市", "type": "boolean"},
    {"key": "next_review", "label": "下次年审", "type": "date", "minimum": "2020-01-01"},
    {
        "key": "tax_no",
        "label": "纳税人识别号",
        "type": "string",
        "pattern": r"[0-9A-Z]{15,20}",
        "minimum": 15,
        "maximum": 20,
        "sensitivity": "C2",
    },
]


def define(client: FlaskClient, body: dict[str, Any], who: str = "admin") -> Any:
    return client.post("/api/v1/custom-fields", json=body, headers=STAFF[who])


def define_all(client: FlaskClient) -> None:
    for body in FIELDS:
        response = define(client, body)
        assert response.status_code == 201, response.get_json()


def test_only_administrators_define_fields(client: FlaskClient) -> None:
    assert define(client, FIELDS[0], who="rm").status_code == 403
    assert define(client, FIELDS[0]).status_code == 201
    again = define(client, FIELDS[0])
    assert again.status_code == 409 and again.get_json()["code"] == "duplicate_custom_field"


def test_bad_definitions_are_named(client: FlaskClient) -> None:
    cases = [
        ({"key": "Bad Key", "type": "string"}, "key"),
        ({"key": "name", "type": "string"}, "key"),
        ({"key": "x1", "type": "colour"}, "type"),
        ({"key": "x2", "type": "enum"}, "enum_values"),
        ({"key": "x3", "type": "enum", "enum_values": ["a", "a"]}, "enum_values"),
        ({"key": "x4", "type": "string", "enum_values": ["a"]}, "enum_values"),
        ({"key": "x5", "type": "integer", "minimum": 5, "maximum": 1}, "maximum"),
        ({"key": "x6", "type": "boolean", "minimum": 1}, "minimum"),
        ({"key": "x7", "type": "string", "pattern": "("}, "pattern"),
        ({"key": "x8", "type": "number", "pattern": "a"}, "pattern"),
        ({"key": "x9", "type": "date", "maximum": "soon"}, "maximum"),
        ({"key": "x10", "type": "string", "sensitivity": "C9"}, "sensitivity"),
        ({"key": "x11", "type": "string", "visible_to": ["no_such_group"]}, "visible_to"),
    ]
    for body, field in cases:
        response = define(client, body)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"], (body, response.get_json())
    assert client.get("/api/v1/custom-fields", headers=STAFF["admin"]).get_json() == []


def test_values_are_validated_per_type_and_constraint(client: FlaskClient) -> None:
    define_all(client)
    customer = make_customer(client)
    bad = {
        "segment": "VIP",
        "employees": 12.5,
        "green_ratio": 1.5,
        "listed": "yes",
        "next_review": "2019-12-31",
        "tax_no": "abc",
        "unknown": 1,
    }
    response = client.patch(
        f"/api/v1/customers/{customer['id']}", json={"custom": bad}, headers=STAFF["rm"]
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors == {
        "custom.segment": "must be one of 战略, 核心, 一般",
        "custom.employees": "must be a whole number",
        "custom.green_ratio": "value must be at most 1",
        "custom.listed": "must be true or false",
        "custom.next_review": "date must be at least 2020-01-01",
        "custom.tax_no": "length must be at least 15",
        "custom.unknown": "no such custom field",
    }
    pattern = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"custom": {"tax_no": "91310115ay4cl12t"}},
        headers=STAFF["rm"],
    )
    assert pattern.get_json()["errors"] == {
        "custom.tax_no": "must match the pattern [0-9A-Z]{15,20}"
    }
    good = {
        "segment": "核心",
        "employees": 320,
        "green_ratio": 0.35,
        "listed": False,
        "next_review": "2027-03-31",
        "tax_no": "91310115AY4CL12T2E",
    }
    ok = client.patch(
        f"/api/v1/customers/{customer['id']}", json={"custom": good}, headers=STAFF["rm"]
    )
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["custom"] == good
    assert sorted(ok.get_json()["changed"]) == sorted(f"custom.{k}" for k in good)


def test_required_field_on_create_and_cannot_be_cleared(client: FlaskClient) -> None:
    assert define(client, {**FIELDS[0], "required": True}).status_code == 201
    missing = client.post(
        "/api/v1/customers", json={"uscc": make_uscc(), "name": "示例"}, headers=STAFF["rm"]
    )
    assert missing.status_code == 422
    assert missing.get_json()["errors"] == {"custom.segment": "is required"}
    customer = make_customer(client, custom={"segment": "一般"})
    cleared = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"custom": {"segment": None}},
        headers=STAFF["rm"],
    )
    assert cleared.get_json()["errors"] == {"custom.segment": "is required"}


def test_hidden_fields_are_invisible_and_not_writable(client: FlaskClient) -> None:
    secret = {**FIELDS[5], "visible_to": ["risk_officer"], "editable_by": ["risk_officer"]}
    assert define(client, secret).status_code == 201
    assert define(client, {**FIELDS[0], "editable_by": ["branch_manager"]}).status_code == 201
    customer = make_customer(client)
    by_risk = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"custom": {"tax_no": "91310115AY4CL12T2E"}},
        headers=STAFF["risk"],
    )
    assert by_risk.status_code == 200, by_risk.get_json()
    seen = client.get(f"/api/v1/customers/{customer['id']}", headers=STAFF["rm"]).get_json()
    assert "tax_no" not in seen["custom"]
    assert [
        f["key"] for f in client.get("/api/v1/custom-fields", headers=STAFF["rm"]).get_json()
    ] == ["segment"]
    assert client.get("/api/v1/custom-fields/tax_no", headers=STAFF["rm"]).status_code == 404
    # Writing, filtering or reading the history of a hidden field: as if it did not exist.
    write = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"custom": {"tax_no": "91310115AY4CL12T2X"}},
        headers=STAFF["rm"],
    )
    assert write.get_json()["errors"] == {"custom.tax_no": "no such custom field"}
    search = client.get("/api/v1/customers?custom.tax_no=x", headers=STAFF["rm"])
    assert search.status_code == 422
    history = client.get(f"/api/v1/customers/{customer['id']}/history", headers=STAFF["rm"])
    assert "custom.tax_no" not in [r["field"] for r in history.get_json()["items"]]
    risk_history = client.get(f"/api/v1/customers/{customer['id']}/history", headers=STAFF["risk"])
    assert "custom.tax_no" in [r["field"] for r in risk_history.get_json()["items"]]
    # Visible but not editable: 403.
    edit = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"custom": {"segment": "战略"}},
        headers=STAFF["rm"],
    )
    assert edit.status_code == 403
    assert (
        client.patch(
            f"/api/v1/customers/{customer['id']}",
            json={"custom": {"segment": "战略"}},
            headers=STAFF["branch"],
        ).status_code
        == 200
    )


def test_stale_write_hides_the_names_of_hidden_fields(client: FlaskClient) -> None:
    assert define(client, {**FIELDS[5], "visible_to": ["risk_officer"]}).status_code == 201
    customer = make_customer(client)
    client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"custom": {"tax_no": "91310115AY4CL12T2E"}},
        headers=STAFF["risk"],
    )
    stale = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"name": "新名", "version": 1},
        headers=STAFF["rm"],
    )
    assert stale.status_code == 409
    assert list(stale.get_json()["errors"]) == ["other fields"]


def test_changing_and_retiring_a_definition(client: FlaskClient) -> None:
    define_all(client)
    changed = client.patch(
        "/api/v1/custom-fields/employees", json={"maximum": 10}, headers=STAFF["admin"]
    )
    assert changed.status_code == 200 and changed.get_json()["maximum"] == 10
    customer = make_customer(client)
    over = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"custom": {"employees": 11}},
        headers=STAFF["rm"],
    )
    assert over.get_json()["errors"] == {"custom.employees": "value must be at most 10"}
    retype = client.patch(
        "/api/v1/custom-fields/employees", json={"type": "string"}, headers=STAFF["admin"]
    )
    assert retype.status_code == 422
    retired = client.patch(
        "/api/v1/custom-fields/employees", json={"active": False}, headers=STAFF["admin"]
    )
    assert retired.status_code == 200
    gone = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"custom": {"employees": 5}},
        headers=STAFF["rm"],
    )
    assert gone.get_json()["errors"] == {"custom.employees": "no such custom field"}
