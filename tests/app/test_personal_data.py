"""Personal data: keys from settings, sealed at rest, exact search by keyed hash, masks."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.config import ConfigError, Settings
from app.errors import ConflictError, InvalidInputError, PermissionDeniedError
from app.people import cipher, identifiers, people
from tests.party_factories import REVIEWER, RISK, RM, resident_id

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


def test_production_refuses_to_start_without_keys() -> None:
    with pytest.raises(ConfigError, match="CORPFLOW_DATA_KEY is not set"):
        cipher.from_settings(Settings(environment="production"))
    with pytest.raises(ConfigError, match="CORPFLOW_LOOKUP_KEY is not set"):
        cipher.from_settings(Settings(environment="production", data_key=KEY_A))
    assert cipher.from_settings(
        Settings(environment="production", data_key=KEY_A, lookup_key=KEY_B)
    )


def test_create_app_in_production_without_keys_fails_at_start_up() -> None:
    from api import create_app

    settings = Settings(database_url="sqlite://", environment="production", deploy_on_startup=False)
    with pytest.raises(ConfigError, match="CORPFLOW_DATA_KEY"):
        create_app(settings)


@pytest.mark.parametrize(
    ("data_key", "lookup_key", "message"),
    [
        ("not base64!", KEY_B, "CORPFLOW_DATA_KEY is not valid base64"),
        (base64.b64encode(b"short").decode(), KEY_B, "must be the base64 of 32 bytes, got 5"),
        (KEY_A, KEY_A, "must be different keys"),
    ],
)
def test_bad_keys_are_named(data_key: str, lookup_key: str, message: str) -> None:
    settings = Settings(environment="production", data_key=data_key, lookup_key=lookup_key)
    with pytest.raises(ConfigError, match=message):
        cipher.from_settings(settings)


def test_environment_defaults_to_production_except_on_embedded_sqlite() -> None:
    pg = Settings.from_env({"CORPFLOW_DATABASE_URL": "postgresql+psycopg://db/corpflow"})
    assert pg.environment == "production"
    assert Settings.from_env({}).environment == "development"
    keys = Settings.from_env({"CORPFLOW_DATA_KEY": KEY_A, "CORPFLOW_LOOKUP_KEY": KEY_B})
    assert (keys.data_key, keys.lookup_key) == (KEY_A, KEY_B)


def test_development_keys_are_the_published_ones() -> None:
    dev = cipher.from_settings(Settings(environment="development"))
    other = cipher.from_settings(
        Settings(environment="development", data_key=KEY_A, lookup_key=KEY_B)
    )
    sealed = dev.seal("110105194912310021", "person:1:id_number")
    assert dev.open(sealed, "person:1:id_number") == "110105194912310021"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        other.open(sealed, "person:1:id_number")
    assert dev.lookup("phone", "13812345678") != other.lookup("phone", "13812345678")


def test_sealed_values_are_bound_to_their_row_and_field() -> None:
    box = cipher.from_settings(Settings(environment="production", data_key=KEY_A, lookup_key=KEY_B))
    sealed = box.seal("13812345678", "person:1:phone")
    assert sealed != box.seal("13812345678", "person:1:phone")  # a fresh nonce each time
    with pytest.raises(ValueError):
        box.open(sealed, "person:2:phone")


def test_masks_show_first_three_and_last_four() -> None:
    assert identifiers.mask("110105194912311234") == "110***********1234"
    assert identifiers.mask("13812345678") == "138****5678"


def test_database_holds_no_clear_personal_numbers(session: Session) -> None:
    number, phone = resident_id(), "13812345678"
    person = people.register(
        session, RM, {"name": "王示例", "id_number": number, "phone": "+86 138-1234-5678"}
    )
    session.commit()
    row = (
        session.execute(text("SELECT * FROM person WHERE id = :id"), {"id": person.id})
        .mappings()
        .one()
    )
    stored = " ".join(str(v) for v in row.values())
    assert number not in stored and phone not in stored
    assert number[:6] not in stored.replace(row["id_number_masked"], "")
    assert hashlib.sha256(number.encode()).hexdigest() not in stored  # keyed, not a plain hash
    assert row["id_number_masked"] == number[:3] + "*" * 11 + number[-4:]
    assert row["phone_masked"] == "138****5678"
    assert str(row["id_number_sealed"]).startswith("v1:")


def test_exact_search_by_keyed_hash(session: Session) -> None:
    number = resident_id()
    person = people.register(
        session, RM, {"name": "李示例", "id_number": number, "phone": "13912345678"}
    )
    people.register(session, RM, {"name": "赵示例", "id_number": resident_id()})
    spaced = f" {number[:6]} {number[6:]} ".lower()
    assert [p.id for p in people.search(session, RISK, id_number=spaced)] == [person.id]
    assert [p.id for p in people.search(session, RM, phone="+86 139 1234 5678")] == [person.id]
    assert people.search(session, RM, id_number=resident_id()) == []
    assert people.search(session, RM, id_number=number, id_type="passport") == []
    with pytest.raises(PermissionDeniedError):
        people.search(session, REVIEWER, id_number=number)


def test_registration_validates_and_refuses_duplicates(session: Session) -> None:
    number = resident_id()
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(InvalidInputError) as caught:
        people.register(session, RM, {"name": "", "id_number": bad, "phone": "12345"})
    assert set(caught.value.errors) == {"name", "id_number", "phone"}
    assert caught.value.errors["id_number"].startswith("check character is")
    people.register(session, RM, {"name": "甲", "id_number": number})
    with pytest.raises(ConflictError) as dup:
        people.register(session, RM, {"name": "乙", "id_number": number.lower()})
    assert dup.value.code == "duplicate_person"


def test_random_keys_round_trip() -> None:
    data, lookup = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    box = cipher.from_settings(Settings(environment="production", data_key=data, lookup_key=lookup))
    assert (
        box.open(box.seal("E12345678", "person:x:id_number"), "person:x:id_number") == "E12345678"
    )
