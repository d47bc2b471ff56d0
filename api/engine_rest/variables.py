"""Camunda typed variables (`{"value", "type", "valueInfo"}`) to plain values and back."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

from api.engine_rest.wire import bad_request, camunda_date

JAVA_TYPES = {
    "String": "java.lang.String",
    "Boolean": "java.lang.Boolean",
    "Short": "java.lang.Short",
    "Integer": "java.lang.Integer",
    "Long": "java.lang.Long",
    "Double": "java.lang.Double",
    "Date": "java.util.Date",
}
INT_BITS = {"Short": 16, "Integer": 32, "Long": 64}
JSON_FORMAT = "application/json"
_OFFSET = re.compile(r"([+-]\d{2}):?(\d{2})$")


def _cannot(value: Any, type_: str) -> Exception:
    shown = value if isinstance(value, str) else json.dumps(value)
    java = JAVA_TYPES.get(type_, type_)
    return bad_request(f"Cannot convert value '{shown}' of type '{type_}' to java type {java}")


def parse_date(text: str) -> datetime | None:
    """Lenient: `.SSS` optional, `Z`, `+hh:mm`, `+hhmm`, or a space where a `+` was lost."""
    cleaned = text.strip()
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1] + "+0000"
    cleaned = re.sub(r" (\d{2}:?\d{2})$", r"+\1", cleaned)
    cleaned = _OFFSET.sub(r"\1\2", cleaned)
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
    return None


def _integer(value: Any, type_: str) -> int:
    if isinstance(value, bool):
        raise _cannot(value, type_)
    if isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        number = int(value)
    else:
        raise _cannot(value, type_)
    limit = 2 ** (INT_BITS[type_] - 1)
    if not -limit <= number < limit:
        raise _cannot(value, type_)
    return number


def _double(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _cannot(value, "Double")
    try:
        number = float(value)
    except ValueError:
        raise _cannot(value, "Double") from None
    if not math.isfinite(number):
        raise _cannot(value, "Double")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _cannot(value, "Boolean")


def _json(name: str, value: Any, type_: str) -> Any:
    if not isinstance(value, str):
        return value  # already a JSON object or array: accepted as is
    try:
        return json.loads(value)
    except ValueError:
        raise bad_request(
            f"Cannot deserialize value of variable '{name}' as {type_}: it is not valid JSON"
        ) from None


def to_plain(name: str, dto: Any) -> tuple[Any, str | None]:
    """One typed variable as a plain value, with the declared type (None when inferred)."""
    if not isinstance(dto, dict):
        raise bad_request(f"Variable '{name}' must be an object with 'value' and 'type'")
    value = dto.get("value")
    raw_type = dto.get("type")
    if raw_type is None or raw_type == "":
        return value, None
    if not isinstance(raw_type, str):
        raise bad_request(f"Unsupported value type '{raw_type}'")
    type_ = raw_type[:1].upper() + raw_type[1:]
    if value is None or type_ == "Null":
        if type_ not in (*JAVA_TYPES, "Null", "Json", "Object", "Xml"):
            raise bad_request(f"Unsupported value type '{raw_type}'")
        return None, type_
    if type_ == "String":
        if isinstance(value, dict | list):
            raise _cannot(value, type_)
        return (value if isinstance(value, str) else json.dumps(value)), type_
    if type_ == "Boolean":
        return _boolean(value), type_
    if type_ in INT_BITS:
        return _integer(value, type_), type_
    if type_ == "Double":
        return _double(value), type_
    if type_ == "Date":
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise _cannot(value, type_)
        return parsed.isoformat(), type_
    if type_ == "Json":
        return _json(name, value, type_), type_
    if type_ == "Object":
        info = dto.get("valueInfo") or {}
        data_format = info.get("serializationDataFormat") if isinstance(info, dict) else None
        if data_format not in (None, JSON_FORMAT):
            raise bad_request(
                f"Cannot deserialize object in variable '{name}': corpflow accepts only the "
                f"'{JSON_FORMAT}' serialization format, not '{data_format}'"
            )
        return _json(name, value, type_), type_
    if type_ == "Xml":
        if not isinstance(value, str):
            raise _cannot(value, type_)
        return value, type_
    raise bad_request(f"Unsupported value type '{raw_type}'")


def variables_in(body: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Plain values and the declared types of a Camunda variables map (null → empty)."""
    if body is None:
        return {}, {}
    if not isinstance(body, dict):
        raise bad_request("'variables' must be an object mapping names to typed values")
    values: dict[str, Any] = {}
    types: dict[str, str] = {}
    for name, dto in body.items():
        value, type_ = to_plain(str(name), dto)
        values[str(name)] = value
        if type_ is not None:
            types[str(name)] = type_
    return values, types


def to_typed(value: Any, declared: str | None = None) -> dict[str, Any]:
    """A plain value as `{"type", "value", "valueInfo"}`, echoing the declared type if known."""
    if value is None:
        return {"type": "Null", "value": None, "valueInfo": {}}
    if declared == "Date" and isinstance(value, str):
        parsed = parse_date(value)
        if parsed is not None:
            return {"type": "Date", "value": camunda_date(parsed), "valueInfo": {}}
    if declared == "Json":
        return {"type": "Json", "value": json.dumps(value), "valueInfo": {}}
    if declared in ("Short", "Long", "Xml") and not isinstance(value, bool | dict | list):
        return {"type": declared, "value": value, "valueInfo": {}}
    if isinstance(value, bool):
        return {"type": "Boolean", "value": value, "valueInfo": {}}
    if isinstance(value, int):
        kind = "Integer" if -(2**31) <= value < 2**31 else "Long"
        return {"type": kind, "value": value, "valueInfo": {}}
    if isinstance(value, float):
        return {"type": "Double", "value": value, "valueInfo": {}}
    if isinstance(value, dict | list):
        java = "java.util.LinkedHashMap" if isinstance(value, dict) else "java.util.ArrayList"
        info = {"objectTypeName": java, "serializationDataFormat": JSON_FORMAT}
        return {"type": "Object", "value": value, "valueInfo": info}
    return {"type": "String", "value": str(value), "valueInfo": {}}


def variables_out(values: dict[str, Any], declared: dict[str, str]) -> dict[str, Any]:
    return {name: to_typed(value, declared.get(name)) for name, value in values.items()}
