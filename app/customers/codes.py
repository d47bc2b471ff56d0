"""Shipped code lists: GB/T 4754-2017 industries (sections and divisions) and GB/T 2260
provinces, and the checks built on them."""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"
# Section letter, then a division (2 digits), optionally a group (3) or class (4).
_INDUSTRY = re.compile(r"^([A-T])(\d{2}(?:\d{1,2})?)?$")


def _read(name: str) -> dict[str, str]:
    with (_DATA / name).open(encoding="utf-8", newline="") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


@cache
def industry_divisions() -> dict[str, str]:
    """Division (2 digits) -> its section letter, from the shipped GB/T 4754-2017 list."""
    divisions: dict[str, str] = {}
    section = ""
    for code in _read("gbt4754-2017.csv"):
        if code.isalpha():
            section = code
        else:
            divisions[code] = section
    return divisions


@cache
def industry_names() -> dict[str, str]:
    return _read("gbt4754-2017.csv")


@cache
def provinces() -> dict[str, str]:
    """GB/T 2260 province-level prefixes (plus 10, the central registration authorities)."""
    return _read("gbt2260-provinces.csv")


def industry_problem(code: str) -> str | None:
    """Why `code` is not a GB/T 4754-2017 industry code, or None.

    Sections and divisions are checked against the shipped list; the group and class digits
    after the division are checked for form only (the list does not ship groups and classes).
    """
    match = _INDUSTRY.match(code)
    if match is None:
        return "must be a GB/T 4754 section letter A-T followed by 2-4 digits, e.g. I6510"
    section, digits = match.group(1), match.group(2)
    if digits is None:
        return None
    owner = industry_divisions().get(digits[:2])
    if owner is None:
        return f"division {digits[:2]} does not exist in GB/T 4754-2017"
    if owner != section:
        return f"division {digits[:2]} belongs to section {owner}, not {section}"
    return None


def region_problem(code: str) -> str | None:
    """Why `code` is not a GB/T 2260 region code: 6 digits, known province prefix.

    Prefecture and county digits are checked for form only: the shipped list holds the
    province level.
    """
    if not re.fullmatch(r"\d{6}", code):
        return "must be 6 digits (GB/T 2260)"
    if code[:2] not in provinces():
        return f"province prefix {code[:2]} is not a GB/T 2260 province"
    return None
