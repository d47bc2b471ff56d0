"""/engine-rest decision definitions: query, XML and evaluate, proven on the Camunda DMN corpus."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import ROOT, STAFF
from tests.engine_rest.conftest import DECISION_DEFINITION_KEYS, file, modeler_deploy

CORPUS = ROOT.parent / "shared" / "corpus" / "camunda7-dmn"
STAFFER = STAFF["reviewer"]


@pytest.fixture
def decisions(rest: FlaskClient, tmp_path: Path) -> dict[str, Any]:
    """The two corpus files deployed from copies, the way the Modeler uploads them."""
    names = ("DrdDishDecisionExample.dmn", "Example.dmn")
    if not all((CORPUS / name).is_file() for name in names):
        pytest.skip(f"no Camunda DMN corpus in {CORPUS}")
    copies = [Path(shutil.copy(CORPUS / name, tmp_path / name)) for name in names]
    deployed = modeler_deploy(rest, *(file(p) for p in copies), name="dishes")
    assert deployed.status_code == 200, deployed.get_json()
    return dict(deployed.get_json())


def _evaluate(rest: FlaskClient, key: str, variables: dict[str, Any]) -> Any:
    response = rest.post(
        f"/engine-rest/decision-definition/key/{key}/evaluate",
        json={"variables": variables},
        headers=STAFFER,
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _typed(value: Any, type_: str) -> dict[str, Any]:
    return {"value": value, "type": type_}


def _string(value: str) -> dict[str, Any]:
    return {"type": "String", "value": value, "valueInfo": {}}


def test_decision_definitions_are_listed_and_read(
    rest: FlaskClient, decisions: dict[str, Any]
) -> None:
    deployed = decisions["deployedDecisionDefinitions"]
    assert {d["key"] for d in deployed.values()} == {"Dish", "Season", "GuestCount", "decision"}
    assert all(set(d) == DECISION_DEFINITION_KEYS for d in deployed.values())

    listed = rest.get("/engine-rest/decision-definition?sortBy=key&sortOrder=asc", headers=STAFFER)
    assert [d["key"] for d in listed.get_json()] == ["Dish", "GuestCount", "Season", "decision"]
    assert rest.get("/engine-rest/decision-definition/count", headers=STAFFER).get_json() == {
        "count": 4
    }
    assert rest.get(
        "/engine-rest/decision-definition/count?keyIn=Dish,Season", headers=STAFFER
    ).get_json() == {"count": 2}
    paged = rest.get(
        "/engine-rest/decision-definition?sortBy=key&sortOrder=desc&firstResult=1&maxResults=2",
        headers=STAFFER,
    ).get_json()
    assert [d["key"] for d in paged] == ["Season", "GuestCount"]
    unsorted = rest.get("/engine-rest/decision-definition?sortBy=key", headers=STAFFER)
    assert unsorted.status_code == 400

    dish = rest.get("/engine-rest/decision-definition/key/Dish", headers=STAFFER).get_json()
    assert set(dish) == DECISION_DEFINITION_KEYS
    assert (dish["name"], dish["version"], dish["resource"]) == (
        "Dish Decision",
        1,
        "DrdDishDecisionExample.dmn",
    )
    by_id = rest.get(f"/engine-rest/decision-definition/{dish['id']}", headers=STAFFER)
    assert by_id.get_json() == dish
    xml = rest.get("/engine-rest/decision-definition/key/Dish/xml", headers=STAFFER).get_json()
    assert xml["id"] == dish["id"]
    assert xml["dmnXml"] == (CORPUS / "DrdDishDecisionExample.dmn").read_text()
    missing = rest.get("/engine-rest/decision-definition/key/nope", headers=STAFFER)
    assert missing.status_code == 404
    assert missing.get_json()["message"] == (
        "No matching decision definition with key: nope and no tenant-id"
    )


@pytest.mark.parametrize(
    ("season", "guests", "dish"),
    [
        ("Winter", 8, "Spareribs"),
        ("Winter", 9, "Pasta"),
        ("Summer", 11, "Light salad"),
        ("Summer", 10, "Beans salad"),
        ("Spring", 9, "Stew"),
        ("Spring", 10, "Steak"),
    ],
)
def test_decision_evaluate_dish_table(
    rest: FlaskClient, decisions: dict[str, Any], season: str, guests: int, dish: str
) -> None:
    result = _evaluate(
        rest,
        "Dish",
        {"season": _typed(season, "String"), "guestCount": _typed(guests, "Integer")},
    )
    assert result == [{"desiredDish": _string(dish)}]


@pytest.mark.parametrize(
    ("temperature", "day", "dish"),
    [(5, "WeekDay", "Spareribs"), (35, "Holiday", "Beans salad"), (20, "Weekend", "Steak")],
)
def test_decision_evaluate_dish_through_its_required_decisions(
    rest: FlaskClient, decisions: dict[str, Any], temperature: int, day: str, dish: str
) -> None:
    result = _evaluate(
        rest,
        "Dish",
        {"temperature": _typed(temperature, "Integer"), "dayType": _typed(day, "String")},
    )
    assert result == [{"desiredDish": _string(dish)}]


def test_decision_evaluate_required_decisions_alone_and_by_id(
    rest: FlaskClient, decisions: dict[str, Any]
) -> None:
    assert _evaluate(rest, "Season", {"temperature": _typed(31, "Integer")}) == [
        {"season": _string("Summer")}
    ]
    assert _evaluate(rest, "GuestCount", {"dayType": {"value": "Weekend"}}) == [
        {"guestCount": {"type": "Integer", "value": 15, "valueInfo": {}}}
    ]
    # No rule matches: an empty list, not an error.
    assert _evaluate(rest, "GuestCount", {"dayType": _typed("Someday", "String")}) == []
    season_id = next(
        d["id"] for d in decisions["deployedDecisionDefinitions"].values() if d["key"] == "Season"
    )
    by_id = rest.post(
        f"/engine-rest/decision-definition/{season_id}/evaluate",
        json={"variables": {"temperature": _typed(10, "Integer")}},
        headers=STAFFER,
    )
    assert by_id.get_json() == [{"season": _string("Spring")}]


@pytest.mark.parametrize(
    ("status", "total", "result", "reason"),
    [
        (
            "bronze",
            10.0,
            "notok",
            "work on your status first, as bronze you're not going to get anything",
        ),
        ("silver", 999.5, "ok", "you little fish will get what you want"),
        ("silver", 1000.0, "notok", "you took too much man, you took too much!"),
        ("gold", 123456.0, "ok", "you get anything you want"),
    ],
)
def test_decision_evaluate_example_two_outputs(
    rest: FlaskClient,
    decisions: dict[str, Any],
    status: str,
    total: float,
    result: str,
    reason: str,
) -> None:
    evaluated = _evaluate(
        rest, "decision", {"status": _typed(status, "String"), "sum": _typed(total, "Double")}
    )
    assert evaluated == [{"result": _string(result), "reason": _string(reason)}]


def test_decision_evaluate_errors(rest: FlaskClient, decisions: dict[str, Any]) -> None:
    missing = rest.post(
        "/engine-rest/decision-definition/key/nope/evaluate",
        json={"variables": {}},
        headers=STAFFER,
    )
    assert missing.status_code == 404
    assert missing.get_json()["type"] == "InvalidRequestException"
    bad = rest.post(
        "/engine-rest/decision-definition/key/Dish/evaluate",
        json={"variables": {"guestCount": {"value": "many", "type": "Integer"}}},
        headers=STAFFER,
    )
    assert bad.status_code == 400
    assert bad.get_json()["message"] == (
        "Cannot convert value 'many' of type 'Integer' to java type java.lang.Integer"
    )
    unauthenticated = rest.post(
        "/engine-rest/decision-definition/key/Dish/evaluate", json={"variables": {}}
    )
    assert unauthenticated.status_code == 401
