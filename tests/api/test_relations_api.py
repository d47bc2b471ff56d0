"""Relationships over HTTP: validation that changes nothing, groups, owners, exposure."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import STAFF
from tests.factories import make_customer
from tests.party_factories import resident_id


def _person(client: FlaskClient) -> str:
    response = client.post(
        "/api/v1/people", headers=STAFF["rm"], json={"name": "实控人", "id_number": resident_id()}
    )
    assert response.status_code == 201
    return str(response.get_json()["id"])


def test_shareholdings_may_not_pass_100_percent_and_bad_input_changes_nothing(
    client: FlaskClient,
) -> None:
    held, holder = make_customer(client)["id"], make_customer(client)["id"]
    person = _person(client)
    url = f"/api/v1/customers/{held}/shareholders"
    ok = client.post(url, headers=STAFF["rm"], json={"holder_person_id": person, "percentage": 70})
    assert ok.status_code == 201, ok.get_json()
    for body, field in (
        ({"holder_customer_id": holder, "percentage": 31}, "percentage"),
        ({"holder_customer_id": holder, "holder_person_id": person, "percentage": 1},
         "holder_customer_id"),
        ({"holder_customer_id": "nope", "percentage": 1}, "holder_customer_id"),
        ({"holder_customer_id": held, "percentage": 1}, "holder_customer_id"),
        ({"holder_customer_id": holder, "percentage": 0}, "percentage"),
    ):  # fmt: skip
        response = client.post(url, headers=STAFF["rm"], json=body)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"], response.get_json()
    duplicate = client.post(
        url, headers=STAFF["rm"], json={"holder_person_id": person, "percentage": 1}
    )
    assert duplicate.status_code == 409
    relations = client.get(f"/api/v1/customers/{held}/relationships", headers=STAFF["rm"])
    shareholders = relations.get_json()["shareholders"]
    assert [(s["party"]["id"], s["percentage"]) for s in shareholders] == [(person, "70.0000")]
    by_reviewer = client.post(
        url, headers=STAFF["reviewer"], json={"holder_customer_id": holder, "percentage": 5}
    )
    assert by_reviewer.status_code == 403


def test_owners_group_and_guarantees_through_the_api(client: FlaskClient) -> None:
    parent, child, guarantor = (make_customer(client)["id"] for _ in range(3))
    person = _person(client)
    rm = STAFF["rm"]
    client.post(f"/api/v1/customers/{parent}/controllers", headers=rm,
                json={"controller_person_id": person, "basis": "一致行动协议"})  # fmt: skip
    client.post(f"/api/v1/customers/{child}/shareholders", headers=rm,
                json={"holder_customer_id": parent, "percentage": 80})  # fmt: skip
    guarantee = client.post(
        f"/api/v1/customers/{child}/guarantees",
        headers=rm,
        json={"guarantor_customer_id": guarantor, "amount": "3000000"},
    )
    assert guarantee.status_code == 201, guarantee.get_json()
    owners = client.get(f"/api/v1/customers/{child}/beneficial-owners", headers=rm).get_json()
    assert [(o["person"]["id"], o["bases"]) for o in owners] == [(person, ["control"])]
    group = client.post(
        "/api/v1/customer-groups",
        headers=rm,
        json={"name": "示例集团", "parent_customer_id": parent},
    ).get_json()
    joined = client.post(
        f"/api/v1/customer-groups/{group['id']}/members", headers=rm, json={"customer_id": child}
    )
    assert joined.status_code == 201
    again = client.post(
        f"/api/v1/customer-groups/{group['id']}/members", headers=rm, json={"customer_id": child}
    )
    assert again.status_code == 409
    summary = client.get(f"/api/v1/customers/{child}/group", headers=rm).get_json()
    assert summary["recorded"]["id"] == group["id"]
    assert {m["id"] for m in summary["members"]} == {parent, child}
    relations = client.get(f"/api/v1/customers/{guarantor}/relationships", headers=rm).get_json()
    assert [g["party"]["id"] for g in relations["guarantees_given"]] == [child]
