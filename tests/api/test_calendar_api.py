"""Working-day calendar through HTTP and the CLI: listing, admin loads, validation, preview."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.workdays import store
from tests.app.test_workdays import OFF_2026, SOURCE_2026, WORK_2026
from tests.conftest import STAFF

YEARS = "/api/v1/calendar/years"
BODY_2026 = {
    "days_off": sorted(d.isoformat() for d in OFF_2026),
    "working_days": sorted(d.isoformat() for d in WORK_2026),
    "source": SOURCE_2026,
}


@pytest.fixture(autouse=True)
def _fresh_holder() -> Iterator[None]:
    previous = store.replace_calendar(None)
    yield
    store.replace_calendar(previous)


def years(client: FlaskClient) -> dict[int, dict[str, Any]]:
    response = client.get(YEARS, headers=STAFF["rm"])
    assert response.status_code == 200, response.get_json()
    return {item["year"]: item for item in response.get_json()["items"]}


def workdays(client: FlaskClient, start: str, n: int) -> dict[str, Any]:
    response = client.get(
        "/api/v1/calendar/workdays", query_string={"start": start, "n": n}, headers=STAFF["rm"]
    )
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_calendar_years_need_authentication(client: FlaskClient) -> None:
    assert client.get(YEARS).status_code == 401


def test_put_year_makes_it_official_and_changes_workdays(client: FlaskClient) -> None:
    before = years(client)
    assert before[2026]["status"] == "estimated" and before[2027]["status"] == "estimated"
    estimated = workdays(client, "2026-02-13T10:00:00+08:00", 2)
    assert estimated["estimated"] is True and estimated["years_estimated"] == [2026]

    response = client.put(f"{YEARS}/2026", json=BODY_2026, headers=STAFF["admin"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "official" and body["loaded_by"] == "admin"
    assert (body["days_off_count"], body["working_days_count"]) == (33, 6)
    assert years(client)[2026]["source"] == SOURCE_2026

    official = workdays(client, "2026-02-13T10:00:00+08:00", 2)
    assert official == {
        "due": "2026-02-24T02:00:00+00:00",
        "estimated": False,
        "years_estimated": [],
    }


def test_loading_a_year_changes_an_estimated_result(client: FlaskClient) -> None:
    start = "2026-12-31T09:00:00+08:00"
    estimated = workdays(client, start, 1)
    assert estimated["due"] == "2027-01-04T01:00:00+00:00"
    assert estimated["estimated"] is True and estimated["years_estimated"] == [2027]
    # Fictional 2027 data: 1 Jan off, Sat 2 Jan an adjusted working day.
    fictional = {"days_off": ["2027-01-01"], "working_days": ["2027-01-02"], "source": "test"}
    assert client.put(f"{YEARS}/2027", json=fictional, headers=STAFF["admin"]).status_code == 200
    assert workdays(client, start, 1) == {
        "due": "2027-01-02T01:00:00+00:00",
        "estimated": False,
        "years_estimated": [],
    }


def test_put_invalid_year_is_422_per_field_and_changes_nothing(client: FlaskClient) -> None:
    bad = {
        "days_off": ["2027-01-01", "2028-01-01", "2027-02-06"],
        "working_days": ["2027-02-06", "2027-02-09"],
        "source": "x",
    }
    response = client.put(f"{YEARS}/2027", json=bad, headers=STAFF["admin"])
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid_input"
    assert body["errors"]["days_off"] == ["2028-01-01 is not in 2027"]
    messages = " | ".join(body["errors"]["working_days"])
    assert "2027-02-06 is listed both as a day off and as a working day" in messages
    assert "2027-02-09 is a Tuesday" in messages
    malformed = {"days_off": ["2027-13-01"], "source": "x", "colour": "red"}
    response = client.put(f"{YEARS}/2027", json=malformed, headers=STAFF["admin"])
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"days_off", "colour"}
    assert years(client)[2027]["status"] == "estimated"


def test_put_year_requires_admin(client: FlaskClient) -> None:
    response = client.put(f"{YEARS}/2026", json=BODY_2026, headers=STAFF["rm"])
    assert response.status_code == 403
    assert response.get_json()["code"] == "permission_denied"
    assert years(client)[2026]["status"] == "estimated"


def upload(client: FlaskClient, year: int, text: str, who: str = "admin") -> Any:
    return client.post(
        f"{YEARS}/{year}/file",
        data={"file": (io.BytesIO(text.encode()), "2026.csv"), "source": SOURCE_2026},
        headers=STAFF[who],
        content_type="multipart/form-data",
    )


CSV_2026 = "date,kind,note\n" + "".join(
    [f"{d.isoformat()},off\n" for d in sorted(OFF_2026)]
    + [f"{d.isoformat()},work,调休上班\n" for d in sorted(WORK_2026)]
)


def test_post_calendar_file_loads_year(client: FlaskClient) -> None:
    response = upload(client, 2026, CSV_2026)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["source"] == SOURCE_2026
    assert workdays(client, "2026-09-30T09:00:00+08:00", 3)["due"] == "2026-10-10T01:00:00+00:00"


def test_post_calendar_file_errors_name_lines(client: FlaskClient) -> None:
    response = upload(client, 2026, "2026-01-01,off\n2026-01-02,maybe\n")
    assert response.status_code == 422
    assert response.get_json()["errors"]["file"] == [
        "line 2: kind must be 'off' or 'work', got 'maybe'"
    ]
    other_year = upload(client, 2026, "2027-01-01,off\n")
    assert other_year.status_code == 422
    assert other_year.get_json()["errors"]["days_off"] == ["2027-01-01 is not in 2026"]
    assert upload(client, 2026, CSV_2026, who="rm").status_code == 403
    no_file = client.post(
        f"{YEARS}/2026/file",
        data={"source": "x"},
        headers=STAFF["admin"],
        content_type="multipart/form-data",
    )
    assert no_file.status_code == 422 and "file" in no_file.get_json()["errors"]
    assert years(client)[2026]["status"] == "estimated"


def test_workdays_preview_validates_query(client: FlaskClient) -> None:
    response = client.get(
        "/api/v1/calendar/workdays",
        query_string={"start": "tomorrow", "n": 5000},
        headers=STAFF["rm"],
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"start", "n"}


def test_cli_calendar_load(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    path = tmp_path / "2026.csv"
    path.write_text(CSV_2026, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["calendar-load", str(path), "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert "33 days off, 6 adjusted working days" in result.output
    loaded = years(client)[2026]
    assert loaded["status"] == "official" and loaded["loaded_by"] == "system"
    assert loaded["source"] == "file 2026.csv"
    path.write_text("2026-01-01,off\n2026-01-05,work\n", encoding="utf-8")
    failed = runner.invoke(args=["calendar-load", str(path), "--year", "2026"])
    assert failed.exit_code != 0
    assert "2026-01-05 is a Monday" in failed.output
