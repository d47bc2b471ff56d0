"""Custom fields defined at run time: definitions, value validation, visibility and editing."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers.models import CustomField
from app.customers.records import BUILT_IN, ORG_FIELDS
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import Actor
from app.identity.models import Group

TYPES = ("string", "number", "integer", "boolean", "date", "enum")
SENSITIVITY = ("C1", "C2", "C3")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MAX_TEXT = 2000
_SETTABLE = (
    "label",
    "required",
    "enum_values",
    "minimum",
    "maximum",
    "pattern",
    "sensitivity",
    "visible_to",
    "editable_by",
    "active",
)


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDeniedError("only administrators may define custom fields")


def define(session: Session, actor: Actor, data: Mapping[str, Any]) -> CustomField:
    _admin(actor)
    key = str(data.get("key") or "")
    errors: dict[str, str] = {}
    if not _KEY.match(key):
        errors["key"] = "lower-case letters, digits and '_', starting with a letter (max 64)"
    elif key in BUILT_IN or key in ORG_FIELDS:
        errors["key"] = f"{key} is a built-in customer field"
    elif session.get(CustomField, key) is not None:
        raise ConflictError(f"custom field {key} already exists", code="duplicate_custom_field")
    if data.get("type") not in TYPES:
        errors["type"] = f"one of {', '.join(TYPES)}"
    field = CustomField(key=key, type=data.get("type"), created_by=actor.user_id)
    field.label = key
    field.required, field.sensitivity, field.active = False, "C1", True
    field.enum_values, field.visible_to, field.editable_by = [], [], []
    if not errors:
        errors.update(_apply(session, field, {"label": key, **data}))
    if errors:
        raise InvalidInputError("invalid custom field", errors=errors)
    session.add(field)
    session.flush()
    return field


def change(session: Session, actor: Actor, key: str, data: Mapping[str, Any]) -> CustomField:
    """Change a definition (not its key or type); values already stored are kept as they are."""
    _admin(actor)
    field = get(session, actor, key)
    errors = _apply(session, field, data)
    if errors:
        session.expire(field)
        raise InvalidInputError("invalid custom field", errors=errors)
    session.flush()
    return field


def _apply(session: Session, field: CustomField, data: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in ("type", "key"):
        if name in data and data[name] != getattr(field, name):
            errors[name] = "cannot be changed; define a new field"
    for name in _SETTABLE:
        if name in data:
            setattr(field, name, data[name])
    if not isinstance(field.label, str) or not field.label.strip() or len(field.label) > 200:
        errors["label"] = "1-200 characters"
    if not isinstance(field.required, bool) or not isinstance(field.active, bool):
        errors["required"] = "required and active are true or false"
    if field.sensitivity not in SENSITIVITY:
        errors["sensitivity"] = f"one of {', '.join(SENSITIVITY)} (JR/T 0171-2020)"
    enum = field.enum_values
    if field.type == "enum":
        if not isinstance(enum, list) or not enum or not all(isinstance(v, str) for v in enum):
            errors["enum_values"] = "a non-empty list of texts for an enum field"
        elif len(set(enum)) != len(enum):
            errors["enum_values"] = "values must be distinct"
    elif enum:
        errors["enum_values"] = "only an enum field has enum values"
    errors.update(_bounds_problems(field))
    if field.pattern is not None:
        if field.type != "string":
            errors["pattern"] = "only a string field has a pattern"
        elif not isinstance(field.pattern, str) or len(field.pattern) > 500:
            errors["pattern"] = "a regular expression of at most 500 characters"
        else:
            try:
                re.compile(field.pattern)
            except re.error as exc:
                errors["pattern"] = f"not a valid regular expression: {exc}"
    for name in ("visible_to", "editable_by"):
        groups = getattr(field, name)
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            errors[name] = "a list of group ids"
            continue
        unknown = sorted(g for g in set(groups) if session.get(Group, g) is None)
        if unknown:
            errors[name] = f"unknown groups: {', '.join(unknown)}"
    return errors


def _bounds_problems(field: CustomField) -> dict[str, str]:
    errors: dict[str, str] = {}
    bounds = {"minimum": field.minimum, "maximum": field.maximum}
    for name, bound in bounds.items():
        if bound is None:
            continue
        if field.type in ("boolean", "enum"):
            errors[name] = f"a {field.type} field has no bounds"
        elif field.type == "date":
            try:
                date.fromisoformat(str(bound))
            except ValueError:
                errors[name] = "a date YYYY-MM-DD for a date field"
        elif field.type == "string" and (
            not isinstance(bound, int) or isinstance(bound, bool) or bound < 0
        ):
            errors[name] = "a length (non-negative integer) for a string field"
        elif not _is_number(bound):
            errors[name] = "a number"
    if not errors and field.minimum is not None and field.maximum is not None:
        low, high = field.minimum, field.maximum
        if str(low) > str(high) if field.type == "date" else low > high:
            errors["maximum"] = "must not be below minimum"
    return errors


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def get(session: Session, actor: Actor, key: str) -> CustomField:
    field = session.get(CustomField, key)
    if field is None or not may_see(field, actor):
        raise NotFoundError(f"custom field {key} not found")
    return field


def list_fields(session: Session, actor: Actor) -> list[CustomField]:
    rows = session.scalars(select(CustomField).order_by(CustomField.key))
    return [f for f in rows if may_see(f, actor)]


def active(session: Session) -> dict[str, CustomField]:
    return {f.key: f for f in session.scalars(_ACTIVE)}


_ACTIVE = select(CustomField).where(CustomField.active.is_(True))


def may_see(field: CustomField, actor: Actor) -> bool:
    return not field.visible_to or actor.is_admin or actor.in_group(*field.visible_to)


def may_edit(field: CustomField, actor: Actor) -> bool:
    return may_see(field, actor) and (
        not field.editable_by or actor.is_admin or actor.in_group(*field.editable_by)
    )


def visible_values(
    fields: Mapping[str, CustomField], actor: Actor, values: Mapping[str, Any]
) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in fields and may_see(fields[k], actor)}


def value_of(field: CustomField, raw: Any) -> Any:
    """The stored form of `raw` for `field`; ValueError names what is wrong."""
    kind = field.type
    if kind in ("string", "enum"):
        if not isinstance(raw, str):
            raise ValueError("must be text")
        if kind == "enum":
            if raw not in field.enum_values:
                raise ValueError(f"must be one of {', '.join(field.enum_values)}")
            return raw
        if len(raw) > _MAX_TEXT:
            raise ValueError(f"must be at most {_MAX_TEXT} characters")
        _check_range(len(raw), field, "length")
        if field.pattern and re.fullmatch(field.pattern, raw) is None:
            raise ValueError(f"must match the pattern {field.pattern}")
        return raw
    if kind == "boolean":
        if not isinstance(raw, bool):
            raise ValueError("must be true or false")
        return raw
    if kind == "date":
        try:
            value = date.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            value = None
        if value is None:
            raise ValueError("must be a date YYYY-MM-DD")
        _check_range(value.isoformat(), field, "date")
        return value.isoformat()
    if not _is_number(raw):
        raise ValueError("must be a number")
    if kind == "integer":
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError("must be a whole number")
        raw = int(raw)
    _check_range(raw, field, "value")
    return raw


def _check_range(value: Any, field: CustomField, what: str) -> None:
    if field.minimum is not None and value < field.minimum:
        raise ValueError(f"{what} must be at least {field.minimum}")
    if field.maximum is not None and value > field.maximum:
        raise ValueError(f"{what} must be at most {field.maximum}")


def check_values(
    fields: Mapping[str, CustomField],
    actor: Actor | None,
    given: Any,
    current: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The customer's new custom values and errors ("custom.<key>": message).

    `current` is None when creating: every required field must then be given. On an update
    a required field may not be cleared. `actor` None (a core system's sync) skips the
    visibility and edit checks.
    """
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        return dict(current or {}), {"custom": "must be an object of field key to value"}
    values = dict(current or {})
    errors: dict[str, str] = {}
    for key, raw in given.items():
        field = fields.get(key)
        if field is None or (actor is not None and not may_see(field, actor)):
            errors[f"custom.{key}"] = "no such custom field"
            continue
        if actor is not None and not may_edit(field, actor) and values.get(key) != raw:
            raise PermissionDeniedError(f"you may not edit the custom field {key}")
        if raw is None:
            if field.required:
                errors[f"custom.{key}"] = "is required"
            values.pop(key, None)
            continue
        try:
            values[key] = value_of(field, raw)
        except ValueError as exc:
            errors[f"custom.{key}"] = str(exc)
    if current is None:
        for key, field in fields.items():
            editable = actor is None or may_edit(field, actor)
            if field.required and editable and key not in values and f"custom.{key}" not in errors:
                errors[f"custom.{key}"] = "is required"
    return values, errors
