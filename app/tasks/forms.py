"""Server-side validation and typing of Camunda generated forms (camunda:formData)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from app.errors import InvalidInputError
from app.workflow.expressions import ExpressionError, compile_expression
from app.workflow.model import FormField

_CAMUNDA_DATE = "dd/MM/yyyy"
# ASCII digits only: int() would also take "١٢٣" or "1_000". Camunda's long is Java's.
_LONG = re.compile(r"-?[0-9]{1,19}")
_DOUBLE = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_MAX_STRING = 100_000


def strftime_pattern(pattern: str) -> str:
    """A Camunda (Java) date pattern such as dd/MM/yyyy as a strftime/strptime format."""
    out = pattern
    for java, py in (
        ("yyyy", "%Y"),
        ("MM", "%m"),
        ("dd", "%d"),
        ("HH", "%H"),
        ("mm", "%M"),
        ("ss", "%S"),
    ):
        out = out.replace(java, py)
    return out


def default_of(field: FormField, variables: Mapping[str, Any]) -> Any:
    if field.default_expression is not None:
        try:
            return compile_expression(field.default_expression).evaluate(variables)
        except ExpressionError:
            return None
    if field.default is None:
        return None
    try:
        return coerce(field, field.default)
    except ValueError:
        return field.default


def coerce(field: FormField, value: Any) -> Any:
    """Type one submitted value; raise ValueError with a message for the user."""
    if value is None or value == "":
        return None
    kind = field.type
    if kind == "long":
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _LONG.fullmatch(value.strip()):
            number = int(value.strip())
        if number is None:
            raise ValueError("must be a whole number")
        if not _LONG_MIN <= number <= _LONG_MAX:
            raise ValueError("is out of range for a whole number (64-bit)")
        return number
    if kind == "double":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("must be a number")
        if isinstance(value, str) and not _DOUBLE.fullmatch(value.strip()):
            raise ValueError("must be a number")
        result = float(value)
        if not math.isfinite(result):
            raise ValueError("must be a finite number")
        return result
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError("must be true or false")
    if kind == "date":
        if not isinstance(value, str):
            raise ValueError("must be a date string")
        for fmt in (strftime_pattern(field.date_pattern or _CAMUNDA_DATE), "%Y-%m-%d"):
            try:
                return datetime.strptime(value, fmt).date().isoformat()
            except ValueError:
                continue
        raise ValueError(f"must be a date like {field.date_pattern or _CAMUNDA_DATE} or YYYY-MM-DD")
    if kind == "enum":
        allowed = [v for v, _ in field.enum_values]
        if str(value) not in allowed:
            raise ValueError(f"must be one of: {', '.join(allowed)}")
        return str(value)
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if len(value) > _MAX_STRING:
        raise ValueError(f"must be at most {_MAX_STRING} characters")
    return value


def _check(field: FormField, name: str, config: str | None, value: Any) -> str | None:
    if name in ("minlength", "maxlength") and value is not None:
        limit = int(config or 0)
        if not isinstance(value, str):
            return f"must be text to check {name}"
        if name == "minlength" and len(value) < limit:
            return f"must be at least {limit} characters"
        if name == "maxlength" and len(value) > limit:
            return f"must be at most {limit} characters"
    if name in ("min", "max") and value is not None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return "must be a number"
        bound = float(config or 0)
        if name == "min" and value < bound:
            return f"must be at least {config}"
        if name == "max" and value > bound:
            return f"must be at most {config}"
    return None


def validate(
    fields: Sequence[FormField],
    submitted: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    keep_existing: bool = False,
) -> dict[str, Any]:
    """Return typed values for the form's fields, or raise 422-style errors for all at once.

    `keep_existing` is Camunda's rule that a required field is satisfied by a variable that
    already has a value; the native API asks for a fresh answer on every completion instead,
    so a review loop cannot silently reuse the previous round's decision.
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    known = {f.id for f in fields}
    for key in submitted:
        if key not in known:
            errors[key] = "is not a field of this form"
    for field in fields:
        present = field.id in submitted
        raw = submitted.get(field.id)
        constraints = dict(field.constraints)
        if "readonly" in constraints and present:
            errors[field.id] = "is read-only"
            continue
        try:
            value = coerce(field, raw) if present else None
        except ValueError as exc:
            errors[field.id] = str(exc)
            continue
        if value is None:
            fallback = current.get(field.id) if keep_existing else None
            if fallback is None:
                fallback = default_of(field, current)
            if fallback is None and field.required:
                errors[field.id] = "is required"
                continue
            if fallback is not None and field.id not in current:
                values[field.id] = fallback
            continue
        for name, config in field.constraints:
            problem = _check(field, name, config, value)
            if problem:
                errors[field.id] = problem
                break
        else:
            values[field.id] = value
    if errors:
        raise InvalidInputError("form values are invalid", errors=errors)
    return values


def describe(fields: Sequence[FormField], variables: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The form as the API shows it: types, constraints, defaults, enum values, current value."""
    return [
        {
            "id": f.id,
            "label": f.label,
            "type": f.type,
            "required": f.required,
            "default": default_of(f, variables),
            "constraints": [{"name": n, "config": c} for n, c in f.constraints],
            "values": [{"id": v, "name": n} for v, n in f.enum_values]
            if f.type == "enum"
            else None,
            "date_pattern": f.date_pattern if f.type == "date" else None,
            "value": variables.get(f.id),
        }
        for f in fields
    ]


def display_date(value: Any, pattern: str | None) -> str | None:
    """A stored date (ISO text) as a Camunda form shows it, formatted with its datePattern."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date):
        parsed: date | datetime = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    return parsed.strftime(strftime_pattern(pattern or _CAMUNDA_DATE))
