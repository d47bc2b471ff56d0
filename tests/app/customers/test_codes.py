"""USCC, GB/T 2260 region and GB/T 4754 industry checks on the customer record."""

from __future__ import annotations

from app.customers import codes, records, uscc
from tests.factories import make_uscc


def test_uscc_examples_from_the_standard_and_synthetic_ones_are_valid() -> None:
    for code in ("91350100M000100Y43", "91100000100003962T", "91310115AY4CL12T2E"):
        assert uscc.problems(code) == [], code
        assert uscc.org_code_warning(code) is None, code


def test_uscc_each_kind_of_invalid_is_named() -> None:
    assert uscc.problems("91350100M000100Y44") == ["check character is 4, expected 3"]
    # The standard's annex shows this one to be invalid: Z is not even in the character set.
    assert uscc.problems("91350100M000100Y4Z") == ["contains characters outside the USCC set: Z"]
    assert uscc.problems("91350100M000100Y4") == ["must be 18 characters, got 17"]
    assert "outside the USCC set: IO" in uscc.problems("91350100M0I0O00Y43")[0]
    assert "positions 3-8" in uscc.problems("913501A0M000100Y43")[0]
    # Lower case and blanks around are normalized, not rejected.
    assert uscc.problems(" 91350100m000100y43 ") == []


def test_uscc_org_code_failure_is_only_a_warning() -> None:
    # 1·3 + 2·7 + 3·9 + 4·10 + 5·5 + 6·8 + 7·4 + 8·2 = 201; 11 - 201 mod 11 = 8, not 0.
    first17 = "9131011512345678" + "0"
    code = first17 + uscc.check_char(first17)
    assert uscc.problems(code) == []
    checked = records.check({"uscc": code, "name": "示例公司"}, None)
    assert checked.errors == {}
    assert checked.warnings == ["uscc: organisation code check character is 0, expected 8"]


def test_uscc_with_unknown_province_is_rejected() -> None:
    first17 = "91990000MA1B2C3D4"
    code = first17 + uscc.check_char(first17)
    checked = records.check({"uscc": code, "name": "示例公司"}, None)
    assert "positions 3-4 (99)" in checked.errors["uscc"]


def test_region_defaults_to_uscc_and_must_share_its_province() -> None:
    code = make_uscc("310115")
    assert records.check({"uscc": code, "name": "x"}, None).values["region_code"] == "310115"
    moved = records.check({"uscc": code, "name": "x", "region_code": "310104"}, None)
    assert moved.errors == {} and moved.values["region_code"] == "310104"
    elsewhere = records.check({"uscc": code, "name": "x", "region_code": "440305"}, None)
    assert "not in province 31" in elsewhere.errors["region_code"]
    bad = records.check({"uscc": code, "name": "x", "region_code": "990101"}, None)
    assert bad.errors["region_code"] == "province prefix 99 is not a GB/T 2260 province"
    assert (
        "6 digits"
        in records.check({"uscc": code, "name": "x", "region_code": "31"}, None).errors[
            "region_code"
        ]
    )
    # A central registration (positions 3-4 = 10) may sit in any province.
    central = records.check(
        {"uscc": "91100000100003962T", "name": "x", "region_code": "440305"}, None
    )
    assert central.errors == {}


def test_industry_codes_checked_against_the_shipped_divisions() -> None:
    assert len(codes.industry_divisions()) == 97
    assert len([c for c in codes.industry_names() if c.isalpha()]) == 20
    for good in ("I", "I65", "I651", "I6510", "C3612", "K7010", "E4710", "D4411"):
        assert codes.industry_problem(good) is None, good
    assert codes.industry_problem("I3612") == "division 36 belongs to section C, not I"
    assert codes.industry_problem("C9912") == "division 99 does not exist in GB/T 4754-2017"
    assert "section letter" in (codes.industry_problem("Z6510") or "")
    assert "section letter" in (codes.industry_problem("I65100") or "")


def test_registration_fields_are_checked_together() -> None:
    checked = records.check(
        {
            "uscc": make_uscc(),
            "name": " ",
            "registered_capital": "-5",
            "capital_currency": "rmb!",
            "establishment_date": "2999-01-01",
            "size_class": "huge",
            "status": "active",
            "risk_rating": "Z",
        },
        None,
        initial=("prospect", "onboarding"),
    )
    assert set(checked.errors) == {
        "name",
        "registered_capital",
        "capital_currency",
        "establishment_date",
        "size_class",
        "status",
        "risk_rating",
    }
    good = records.check(
        {
            "uscc": make_uscc(),
            "name": "示例",
            "registered_capital": "1000000.5",
            "establishment_date": "2015-03-01",
            "size_class": "small",
        },
        None,
    )
    assert good.errors == {}
    assert str(good.values["registered_capital"]) == "1000000.50"
    assert good.values["capital_currency"] == "CNY" and good.values["status"] == "prospect"
