"""Customer scope from the org tree: RM, team lead, branch manager, head office; tasks and
process instances about a customer follow it."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app.customers import scope
from app.identity.actor import Actor, OrgScope
from tests.conftest import STAFF
from tests.factories import make_application, make_customer, make_user


def _ids(client: FlaskClient, who: str | dict[str, str]) -> set[str]:
    headers = STAFF[who] if isinstance(who, str) else who
    body = client.get("/api/v1/customers?limit=500", headers=headers).get_json()
    return {c["id"] for c in body["items"]}


def _book(client: FlaskClient) -> dict[str, str]:
    """One customer per demo RM: rm_li (浦东一组), rm_wu (浦东二组), rm_ma (北京朝阳)."""
    return {
        who: make_customer(client, f"{who} 的客户有限公司", who=who)["id"]
        for who in ("rm", "rm_wu", "rm_ma")
    }


def test_each_level_sees_its_own_set(client: FlaskClient) -> None:
    book = _book(client)
    assert _ids(client, "rm") == {book["rm"]}
    assert _ids(client, "rm_wu") == {book["rm_wu"]}
    assert _ids(client, "lead") == {book["rm"]}  # team lead of 浦东一组
    assert _ids(client, "branch") == {book["rm"], book["rm_wu"]}  # 浦东支行 with its teams
    assert _ids(client, "hq") == set(book.values())  # head office
    assert _ids(client, "risk") == set(book.values())
    assert _ids(client, "admin") == set(book.values())


def test_branch_sees_sub_branches_and_unplaced_staff_see_only_their_own(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    book = _book(client)
    shanghai = make_user(sessions, "sh_branch_head", ("branch_manager",), unit="SH", role="manager")
    assert _ids(client, shanghai) == {book["rm"], book["rm_wu"]}
    nowhere = make_user(sessions, "nowhere_rm", ("relationship_manager",), unit=None)
    assert _ids(client, nowhere) == set()


def test_rm_cannot_see_or_change_another_rms_customer(client: FlaskClient) -> None:
    book = _book(client)
    other = book["rm_wu"]
    assert client.get(f"/api/v1/customers/{other}", headers=STAFF["rm"]).status_code == 404
    changed = client.patch(f"/api/v1/customers/{other}", json={"name": "改名"}, headers=STAFF["rm"])
    assert changed.status_code == 404
    missing = client.get("/api/v1/customers/no-such-id", headers=STAFF["rm"])
    assert missing.get_json()["detail"] == changed.get_json()["detail"].replace(other, "no-such-id")
    history = client.get(f"/api/v1/customers/{other}/history", headers=STAFF["rm"])
    assert history.status_code == 404
    # ... and the owner still sees it unchanged.
    own = client.get(f"/api/v1/customers/{other}", headers=STAFF["rm_wu"]).get_json()
    assert own["name"] == "rm_wu 的客户有限公司" and own["version"] == 1


def test_team_lead_may_change_the_teams_customers_only(client: FlaskClient) -> None:
    book = _book(client)
    mine = client.patch(
        f"/api/v1/customers/{book['rm']}", json={"risk_rating": "BBB"}, headers=STAFF["lead"]
    )
    assert mine.status_code == 200
    other = client.patch(
        f"/api/v1/customers/{book['rm_wu']}", json={"risk_rating": "BBB"}, headers=STAFF["lead"]
    )
    assert other.status_code == 404


def test_visible_filter_is_concrete_for_other_packages() -> None:
    rm = Actor("rm_li", frozenset({"relationship_manager"}))
    assert "rm_id" in str(scope.visible(rm))
    lead = Actor("lead", frozenset(), OrgScope(unit_ids=frozenset({"T1"})))
    assert "team_id" in str(scope.visible(lead)) and "branch_id" in str(scope.visible(lead))
    assert str(scope.visible(Actor("r", frozenset({"risk_officer"})))) == "true"
    assert str(scope.visible(Actor("h", frozenset(), OrgScope(everything=True)))) == "true"


def test_task_and_instance_lists_follow_customer_scope(
    client: FlaskClient, credit_models: Any, sessions: sessionmaker[Session]
) -> None:
    customer = make_customer(client)  # rm_li's, 上海浦东
    application = make_application(client, customer["id"])
    beijing = make_user(sessions, "bj_reviewer", ("credit_reviewer",), unit="BJ", role="staff")
    shanghai = make_user(sessions, "sh_reviewer", ("credit_reviewer",), unit="SH", role="staff")

    def task_ids(headers: dict[str, str]) -> list[str]:
        body = client.get("/api/v1/tasks?candidate_for_me=true", headers=headers).get_json()
        return [t["instance_id"] for t in body["items"]]

    assert application["id"] in task_ids(shanghai)
    assert application["id"] in task_ids(STAFF["reviewer"])  # head office
    assert application["id"] not in task_ids(beijing)
    task_id = application["open_tasks"][0]["id"]
    assert client.get(f"/api/v1/tasks/{task_id}", headers=beijing).status_code == 404
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=beijing).status_code == 403
    assert client.get(f"/api/v1/tasks/{task_id}", headers=shanghai).status_code == 200

    # The starter sees the instance; once the customer moves to another RM they do not.
    def instance_ids(who: str) -> list[str]:
        body = client.get("/api/v1/process-instances", headers=STAFF[who]).get_json()
        return [i["id"] for i in body["items"]]

    assert application["id"] in instance_ids("rm")
    moved = client.patch(
        f"/api/v1/customers/{customer['id']}", json={"rm_id": "rm_ma"}, headers=STAFF["admin"]
    )
    assert moved.status_code == 200
    assert application["id"] not in instance_ids("rm")
    detail = client.get(f"/api/v1/process-instances/{application['id']}", headers=STAFF["rm"])
    assert detail.status_code in (403, 404)


def test_process_start_refuses_a_customer_out_of_scope(
    client: FlaskClient, credit_models: Any
) -> None:
    from tests.factories import application_variables

    other = make_customer(client, who="rm_wu")
    response = client.post(
        "/api/v1/process-instances",
        headers=STAFF["rm"],
        json={
            "process_key": "credit_application",
            "variables": application_variables(other["id"]),
        },
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]["customer_id"] == f"customer {other['id']} not found"
