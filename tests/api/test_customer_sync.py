"""Core-system sync: bulk upsert by (source system, external id), idempotent replay,
per-record results; the change feed and its cursor."""

from __future__ import annotations

import time
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import STAFF
from tests.factories import make_customer, make_uscc


def record(external_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "uscc": make_uscc(),
        "name": f"核心系统客户{external_id}有限公司",
        "status": "active",
        "industry_code": "F5211",
        "registered_capital": "10000000",
        "establishment_date": "2010-06-01",
        "rm_id": "rm_li",
        **fields,
    }


def sync(client: FlaskClient, records: list[dict[str, Any]], who: str = "ecif") -> Any:
    return client.post(
        "/api/v1/customers/sync",
        json={"source_system": "ECIF", "records": records},
        headers=STAFF[who],
    )


def feed(client: FlaskClient, since: str | None = None, limit: int = 500) -> dict[str, Any]:
    query = f"?limit={limit}" + (f"&since={since}" if since else "")
    # The feed holds back rows of transactions older than any still running (in any test
    # database of this server): wait for a few seconds if another client holds one open.
    for _ in range(50):
        body = client.get(f"/api/v1/customers/changes{query}", headers=STAFF["ecif"]).get_json()
        if body["items"] or since:
            return dict(body)
        time.sleep(0.2)
    return dict(body)


def test_sync_creates_then_replay_is_unchanged(client: FlaskClient) -> None:
    batch = [record(f"E{i}") for i in range(5)]
    first = sync(client, batch)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["counts"] == {"created": 5, "updated": 0, "unchanged": 0, "rejected": 0}
    created = body["results"][0]
    assert created["status"] == "created" and created["external_id"] == "E0"
    customer = client.get(f"/api/v1/customers/{created['customer_id']}", headers=STAFF["rm"])
    assert customer.status_code == 200
    shown = customer.get_json()
    assert shown["source_ids"] == [{"source_system": "ECIF", "external_id": "E0"}]
    assert (shown["status"], shown["team_id"], shown["branch_id"]) == (
        "active",
        "SH-PD-T1",
        "SH-PD",
    )
    history_before = client.get(
        f"/api/v1/customers/{created['customer_id']}/history", headers=STAFF["rm"]
    ).get_json()["total"]
    replay = sync(client, batch).get_json()
    assert replay["counts"] == {"created": 0, "updated": 0, "unchanged": 5, "rejected": 0}
    assert [r["customer_id"] for r in replay["results"]] == [
        r["customer_id"] for r in body["results"]
    ]
    again = client.get(f"/api/v1/customers/{created['customer_id']}", headers=STAFF["rm"])
    assert again.get_json()["version"] == 1
    history_after = client.get(
        f"/api/v1/customers/{created['customer_id']}/history", headers=STAFF["rm"]
    ).get_json()["total"]
    assert history_after == history_before


def test_sync_per_record_results_and_rejected_record_changes_nothing(
    client: FlaskClient,
) -> None:
    base = [record("E1"), record("E2"), record("E3")]
    assert sync(client, base).get_json()["counts"]["created"] == 3
    e2_before = client.get(
        f"/api/v1/customers?uscc={base[1]['uscc']}", headers=STAFF["admin"]
    ).get_json()["items"][0]
    batch = [
        {**base[0], "name": "改名后的客户有限公司"},  # updated
        {**base[1], "name": "不该写入的名称", "status": "prospect"},  # bad transition
        base[2],  # unchanged
        record("E4", uscc="91350100M000100Y44"),  # bad check character
        record("E5"),  # created
        record("E5"),  # same external id twice in one batch
        {"external_id": "E6", "uscc": make_uscc(), "name": "x", "colour": "red"},
    ]
    body = sync(client, batch).get_json()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [
        "updated",
        "rejected",
        "unchanged",
        "rejected",
        "created",
        "rejected",
        "rejected",
    ]
    results = body["results"]
    assert results[0]["changed"] == ["name"]
    assert "cannot go from active to prospect" in results[1]["errors"]["status"]
    assert results[3]["errors"] == {"uscc": "check character is 4, expected 3"}
    assert results[5]["errors"] == {"external_id": "also in record 4 of this batch"}
    assert results[6]["errors"] == {"colour": "not a customer field"}
    e2_after = client.get(f"/api/v1/customers/{e2_before['id']}", headers=STAFF["admin"]).get_json()
    assert e2_after["name"] == e2_before["name"] and e2_after["version"] == e2_before["version"]
    assert e2_after["status"] == "active"
    history = client.get(
        f"/api/v1/customers/{results[0]['customer_id']}/history", headers=STAFF["admin"]
    ).get_json()["items"]
    assert (history[0]["field"], history[0]["source"], history[0]["source_system"]) == (
        "name",
        "sync",
        "ECIF",
    )


def test_sync_links_a_customer_registered_through_the_api_by_uscc(client: FlaskClient) -> None:
    existing = make_customer(client)
    body = sync(
        client, [record("E9", uscc=existing["uscc"], name=existing["name"], status="onboarding")]
    ).get_json()
    result = body["results"][0]
    assert result["status"] == "updated" and result["customer_id"] == existing["id"]
    assert sorted(result["changed"]) == [
        "establishment_date",
        "industry_code",
        "registered_capital",
        "status",
    ]
    replay = sync(
        client, [record("E9", uscc=existing["uscc"], name=existing["name"], status="onboarding")]
    ).get_json()
    assert replay["results"][0]["status"] == "unchanged"


def test_sync_uscc_owned_by_another_customer_is_rejected(client: FlaskClient) -> None:
    first, second = record("A1"), record("A2")
    sync(client, [first, second])
    clash = sync(client, [{**first, "uscc": second["uscc"]}]).get_json()["results"][0]
    assert clash["status"] == "rejected"
    assert clash["errors"] == {"uscc": f"{second['uscc']} belongs to another customer"}


def test_sync_custom_fields_and_reassignment(client: FlaskClient) -> None:
    assert (
        client.post(
            "/api/v1/custom-fields",
            json={
                "key": "core_segment",
                "label": "分层",
                "type": "enum",
                "enum_values": ["A", "B"],
                "visible_to": ["risk_officer"],
            },
            headers=STAFF["admin"],
        ).status_code
        == 201
    )
    created = sync(client, [record("C1", custom={"core_segment": "A"})]).get_json()["results"][0]
    assert created["status"] == "created"
    bad = sync(client, [record("C2", custom={"core_segment": "Z"})]).get_json()["results"][0]
    assert bad["errors"] == {"custom.core_segment": "must be one of A, B"}
    moved = sync(
        client, [{"external_id": "C1", "rm_id": "rm_ma", "custom": {"core_segment": "B"}}]
    ).get_json()["results"][0]
    assert moved["status"] == "updated"
    assert sorted(moved["changed"]) == ["branch_id", "custom.core_segment", "rm_id", "team_id"]
    rows = client.get(
        f"/api/v1/customers/{created['customer_id']}/rm-assignments", headers=STAFF["admin"]
    ).get_json()
    assert [r["rm_id"] for r in rows] == ["rm_li", "rm_ma"] and rows[0]["valid_to"]


def test_sync_is_for_core_systems_and_batches_are_bounded(client: FlaskClient) -> None:
    assert sync(client, [record("X")], who="rm").status_code == 403
    too_many = sync(client, [record(f"M{i}") for i in range(1001)])
    assert too_many.status_code == 422
    assert too_many.get_json()["errors"]["records"] == "at most 1000 records per batch"
    bad_source = client.post(
        "/api/v1/customers/sync",
        json={"source_system": "bad source!", "records": []},
        headers=STAFF["ecif"],
    )
    assert bad_source.status_code == 422


def test_change_feed_follows_every_change_with_a_cursor(client: FlaskClient) -> None:
    created = sync(client, [record("F1"), record("F2")]).get_json()["results"]
    first = feed(client)
    assert [(c["customer_id"], c["field"]) for c in first["items"]] == [
        (created[0]["customer_id"], "*"),
        (created[1]["customer_id"], "*"),
    ]
    cursor = first["next_cursor"]
    assert feed(client, cursor)["items"] == []
    client.patch(
        f"/api/v1/customers/{created[1]['customer_id']}",
        json={"risk_rating": "BB"},
        headers=STAFF["admin"],
    )
    later = feed(client, cursor)
    for _ in range(50):
        if later["items"]:
            break
        time.sleep(0.2)
        later = feed(client, cursor)
    assert [(c["field"], c["new_value"], c["source"]) for c in later["items"]] == [
        ("risk_rating", "BB", "api")
    ]
    paged = feed(client, limit=1)
    assert len(paged["items"]) == 1
    rest = feed(client, paged["next_cursor"], limit=10)
    assert [c["id"] for c in paged["items"] + rest["items"]] == [
        c["id"] for c in first["items"] + later["items"]
    ]
    assert client.get("/api/v1/customers/changes", headers=STAFF["rm"]).status_code == 403
    bad = client.get("/api/v1/customers/changes?since=yesterday", headers=STAFF["ecif"])
    assert bad.status_code == 422
