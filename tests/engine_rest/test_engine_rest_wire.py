"""Wire conventions: Camunda dates, typed variables in and out, Bearer auth, deployment keys."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask.testing import FlaskClient

from api.engine_rest.variables import parse_date, to_plain, to_typed
from api.engine_rest.wire import RestError, camunda_date
from tests.conftest import STAFF
from tests.engine_rest.conftest import DATE, DEPLOYMENT_KEYS, TINY, file, modeler_deploy


def test_camunda_date_has_millis_and_offset() -> None:
    moment = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert camunda_date(moment) == "2024-05-01T10:00:00.123+0000"
    plus2 = moment.astimezone(timezone(timedelta(hours=2)))
    assert camunda_date(plus2) == "2024-05-01T12:00:00.123+0200"
    assert camunda_date(datetime(2024, 5, 1, 10, 0)) == "2024-05-01T10:00:00.000+0000"
    assert camunda_date(None) is None


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T10:00:00.000+0200",
        "2024-05-01T10:00:00+02:00",
        "2024-05-01T10:00:00.000 0200",
        "2024-05-01T08:00:00Z",
        "2024-05-01T08:00:00.000Z",
    ],
)
def test_dates_in_are_lenient(text: str) -> None:
    parsed = parse_date(text)
    assert parsed is not None
    assert parsed == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("dto", "expected"),
    [
        ({"value": "42", "type": "Integer"}, 42),
        ({"value": 7, "type": "Short"}, 7),
        ({"value": "3.5", "type": "Double"}, 3.5),
        ({"value": "false", "type": "Boolean"}, False),
        ({"value": 12, "type": "String"}, "12"),
        ({"value": '{"a": 1}', "type": "Json"}, {"a": 1}),
        (
            {
                "value": "[1, 2]",
                "type": "Object",
                "valueInfo": {"serializationDataFormat": "application/json"},
            },
            [1, 2],
        ),
        ({"value": [1, 2]}, [1, 2]),
        ({"value": None, "type": "Null"}, None),
    ],
)
def test_typed_values_in(dto: dict[str, object], expected: object) -> None:
    assert to_plain("v", dto)[0] == expected


@pytest.mark.parametrize(
    ("dto", "message"),
    [
        ({"value": True, "type": "Integer"}, "Cannot convert value 'true' of type 'Integer'"),
        ({"value": 40000, "type": "Short"}, "to java type java.lang.Short"),
        ({"value": "soon", "type": "Date"}, "to java type java.util.Date"),
        ({"value": "yes", "type": "Boolean"}, "java.lang.Boolean"),
        ({"value": "{", "type": "Json"}, "not valid JSON"),
        (
            {
                "value": "rO0AB",
                "type": "Object",
                "valueInfo": {"serializationDataFormat": "application/x-java-serialized-object"},
            },
            "application/json",
        ),
        ({"value": "x", "type": "File"}, "Unsupported value type 'File'"),
        ("not a dto", "must be an object"),
    ],
)
def test_bad_typed_values(dto: object, message: str) -> None:
    with pytest.raises(RestError) as caught:
        to_plain("v", dto)
    assert caught.value.status == 400
    assert caught.value.type == "InvalidRequestException"
    assert message in caught.value.message


def test_values_out_are_typed() -> None:
    assert to_typed(True)["type"] == "Boolean"
    assert to_typed(2**40)["type"] == "Long"
    assert to_typed(1)["type"] == "Integer"
    assert to_typed(1.5)["type"] == "Double"
    assert to_typed("x") == {"type": "String", "value": "x", "valueInfo": {}}
    assert to_typed({"a": 1})["valueInfo"]["objectTypeName"] == "java.util.LinkedHashMap"
    assert to_typed([1])["valueInfo"]["objectTypeName"] == "java.util.ArrayList"
    assert to_typed(3, "Long")["type"] == "Long"


def test_bearer_token_works(rest: FlaskClient) -> None:
    issued = rest.post("/api/v1/tokens", headers=STAFF["designer"])
    assert issued.status_code in (200, 201), issued.get_json()
    token = issued.get_json()["token"]
    response = rest.get("/engine-rest/version", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_deployment_list_keys_and_paging(rest: FlaskClient) -> None:
    first = modeler_deploy(rest, file(TINY / "one_user_task.bpmn")).get_json()
    second = modeler_deploy(rest, file(TINY / "parallel_tasks.bpmn")).get_json()
    listed = rest.get("/engine-rest/deployment", headers=STAFF["rm"]).get_json()
    assert {d["id"] for d in listed} == {first["id"], second["id"]}
    for item in listed:
        assert set(item) >= DEPLOYMENT_KEYS | {"links"}
        assert re.match(DATE, item["deploymentTime"])
    one = rest.get("/engine-rest/deployment?firstResult=1&maxResults=1", headers=STAFF["rm"])
    assert len(one.get_json()) == 1
