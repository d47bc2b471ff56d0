"""Search totals: exact up to the cap, an estimate beyond it; short pages need no count."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.customers import search as search_module
from app.customers import seeding
from app.customers.search import CustomerQuery, find
from app.errors import InvalidInputError
from app.identity.actor import Actor, OrgScope

HEAD_OFFICE = Actor("hq_liu", frozenset({"head_office_credit"}), OrgScope(everything=True))


@pytest.fixture
def store(session: Session) -> Session:
    seeding.seed(session, 40, seed_value=9)
    session.commit()
    return session


@pytest.fixture
def statements(store: Session) -> Iterator[list[str]]:
    """The SQL sent while the test runs (the engine is shared: the listener is removed)."""
    seen: list[str] = []

    def catch(*args: Any) -> None:
        seen.append(args[2])

    engine = store.get_bind()
    event.listen(engine, "before_cursor_execute", catch)
    yield seen
    event.remove(engine, "before_cursor_execute", catch)


def test_search_total_is_exact_up_to_the_cap_and_estimated_beyond(
    store: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = find(store, HEAD_OFFICE, CustomerQuery(limit=5))
    assert (len(exact.customers), exact.total, exact.total_exact) == (5, 40, True)
    monkeypatch.setattr(search_module, "COUNT_CAP", 10)
    capped = find(store, HEAD_OFFICE, CustomerQuery(limit=5))
    assert len(capped.customers) == 5
    assert capped.total_exact is False and capped.total >= 11
    filtered = find(store, HEAD_OFFICE, CustomerQuery(limit=5, rm_id="rm_ma"))
    few = find(store, HEAD_OFFICE, CustomerQuery(limit=50, rm_id="rm_ma"))
    assert filtered.total_exact is (few.total <= 10)


def test_search_short_page_is_its_own_total_without_a_count(
    store: Session, statements: list[str]
) -> None:
    found = find(store, HEAD_OFFICE, CustomerQuery(limit=50, offset=30))
    assert (len(found.customers), found.total, found.total_exact) == (10, 40, True)
    assert not [s for s in statements if "count(" in s.lower()]


def test_search_api_pages_profiles_in_a_fixed_number_of_queries(
    store: Session, client: FlaskClient, staff: dict[str, dict[str, str]], statements: list[str]
) -> None:
    response = client.get("/api/v1/customers?limit=20", headers=staff["admin"])
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["items"]) == 20 and body["total"] == 40 and body["total_exact"] is True
    assert all(item["source_ids"][0]["source_system"] == "ECIF" for item in body["items"])
    sources = [s for s in statements if "FROM customer_source" in s]
    assert len(sources) == 1, "one query for the source ids of the whole page"


def test_search_region_is_a_province_prefecture_or_county(store: Session) -> None:
    rows = find(store, HEAD_OFFICE, CustomerQuery(limit=50)).customers
    county = rows[0].region_code
    for code in (county[:2], county[:4], county):
        found = find(store, HEAD_OFFICE, CustomerQuery(region=code, limit=50)).customers
        assert found and all(c.region_code.startswith(code) for c in found)
        assert [c.name for c in found] == sorted(c.name for c in found)
    with pytest.raises(InvalidInputError) as caught:
        find(store, HEAD_OFFICE, CustomerQuery(region="310"))
    assert "province" in caught.value.errors["region"]
