"""ID document and mobile numbers: validation, normalization for lookup, display masks."""

from __future__ import annotations

import re
from datetime import date

ID_TYPES = (
    "resident_id",  # 居民身份证 (GB 11643)
    "passport",
    "hk_macau_permit",  # 港澳居民来往内地通行证
    "taiwan_permit",  # 台湾居民来往大陆通行证
    "foreign_permanent_resident",  # 外国人永久居留身份证
)
_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK = "10X98765432"
_OTHER_ID = re.compile(r"^[A-Z0-9]{5,20}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_id(value: str) -> str:
    return re.sub(r"\s", "", value).upper()


def resident_check_char(first17: str) -> str:
    """The GB 11643 check character of a resident identity number's 17 leading digits."""
    total = sum(int(c) * w for c, w in zip(first17, _RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHECK[total % 11]


def id_problem(id_type: str, value: str) -> str | None:
    """Why `value` is not a valid number of `id_type`; None when it is."""
    if id_type != "resident_id":
        if not _OTHER_ID.match(value):
            return "must be 5-20 letters and digits"
        return None
    if len(value) != 18 or not value[:17].isdigit():
        return "a resident ID number has 17 digits and a check character"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "positions 7-14 must be a valid date of birth"
    expected = resident_check_char(value[:17])
    if value[17] != expected:
        return f"check character is {value[17]}, expected {expected}"
    return None


def normalize_phone(value: str) -> str:
    digits = re.sub(r"[\s()-]", "", value)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def phone_problem(value: str) -> str | None:
    if not _MOBILE.match(value):
        return "must be a mainland mobile number: 11 digits starting 13-19"
    return None


def mask(value: str) -> str:
    """First 3 and last 4 characters shown: 110***********1234, 138****5678 (JR/T 0171)."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
