"""Spreadsheet cells to the values the store's checks take: Chinese labels, 万元, dates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.customers.models import CustomField
from app.imports.headers import Column

SIZE_LABELS = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
STATUS_LABELS = {
    "prospect": "潜客",
    "onboarding": "准入中",
    "active": "存量",
    "dormant": "休眠",
    "exited": "退出",
}
RELATION_LABELS = {
    "shareholding": "持股",
    "control": "实际控制",
    "guarantee": "担保",
    "group_member": "集团成员",
}
_ALIASES = {
    "size_class": {
        **{v: k for k, v in SIZE_LABELS.items()},
        "大": "large",
        "中": "medium",
        "小": "small",
        "微": "micro",
    },
    "status": {
        **{v: k for k, v in STATUS_LABELS.items()},
        "潜在客户": "prospect",
        "已准入": "active",
        "正常": "active",
        "授信": "active",
        "已退出": "exited",
    },
    "relation_type": {
        **{v: k for k, v in RELATION_LABELS.items()},
        "股权": "shareholding",
        "参股": "shareholding",
        "控股": "shareholding",
        "实控": "control",
        "实际控制人": "control",
        "保证": "guarantee",
        "集团": "group_member",
    },
}
_TRUE = {"是", "true", "1", "y", "yes", "√", "有"}
_FALSE = {"否", "false", "0", "n", "no", "×", "无"}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
# A code followed by its name, as some sheets write it: "I6510 软件开发", "310115上海浦东".
_CODE_AND_NAME = re.compile(r"^([A-Za-z]?\d{2,6})\s*[\u4e00-\u9fff（(].*$")


def text(value: Any) -> str:
    """A cell as text: whole numbers without ".0" (Excel stores codes typed as numbers)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    raw = repr(value) if isinstance(value, float) else text(value).replace(",", "")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"must be a number, got {text(value)!r}") from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return number


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raw = text(value)
    if re.fullmatch(r"\d{8}", raw):
        raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    match = _DATE.match(raw)
    if match is None:
        return raw  # the store's check names what is wrong
    year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise ValueError(f"{raw} is not a calendar date") from None


def _choice(field: str, value: Any) -> str:
    raw = text(value)
    found = _ALIASES[field].get(raw) or _ALIASES[field].get(raw.lower())
    if found is None and raw.lower() in _ALIASES[field].values():
        found = raw.lower()
    if found is None:
        labels = [k for k, v in _ALIASES[field].items() if len(k) > 1 and not k.isascii()]
        english = sorted(set(_ALIASES[field].values()))
        raise ValueError(f"must be one of {', '.join(labels)} (or {', '.join(english)})")
    return found


def _code(value: Any) -> str:
    raw = text(value)
    match = _CODE_AND_NAME.match(raw)
    return match.group(1) if match else raw


def _custom(field: CustomField, value: Any) -> Any:
    kind = field.type
    if kind in ("string", "enum"):
        return text(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raw = text(value).lower()
        if raw in _TRUE or raw in _FALSE:
            return raw in _TRUE
        raise ValueError("must be 是 or 否 (true or false)")
    if kind == "date":
        return _day(value)
    number = _decimal(value)
    if kind == "integer" and number == number.to_integral_value():
        return int(number)
    return float(number)  # the store's check refuses a fraction for an integer field


def cell(column: Column, value: Any, custom: Mapping[str, CustomField]) -> Any:
    """The value for `column.field`; ValueError says what is wrong with the cell."""
    name = column.field
    if name.startswith("custom."):
        return _custom(custom[name.removeprefix("custom.")], value)
    if name in ("registered_capital", "amount", "percentage"):
        if name == "percentage" and isinstance(value, str):
            value = value.strip().removesuffix("%")
        number = _decimal(value) * (column.scale or 1)
        return str(int(number)) if number == number.to_integral_value() else str(number)
    if name == "establishment_date":
        return _day(value)
    if name in _ALIASES:
        return _choice(name, value)
    if name in ("industry_code", "region_code"):
        return _code(value)
    if name in ("uscc", "risk_rating", "capital_currency", "currency"):
        return text(value).upper()
    return text(value)


def row(
    columns: list[Column | None], cells: list[Any], custom: Mapping[str, CustomField]
) -> tuple[dict[str, Any], dict[str, str]]:
    """A row's values by field (empty cells left out) and the cells that could not be read."""
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for column, value in zip(columns, cells, strict=False):
        if column is None or value is None:
            continue
        try:
            converted = cell(column, value, custom)
        except ValueError as exc:
            problems[column.field] = f"{column.header}: {exc}"
            continue
        if column.field.startswith("custom."):
            data.setdefault("custom", {})[column.field.removeprefix("custom.")] = converted
        else:
            data[column.field] = converted
    return data, problems
