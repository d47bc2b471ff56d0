"""Camunda query strings for list endpoints: lists, dates, booleans and sorting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request

from api.engine_rest.variables import parse_date
from api.engine_rest.wire import bad_request, bool_arg


def text_arg(name: str) -> str | None:
    return request.args.get(name) or None


def list_arg(name: str) -> tuple[str, ...]:
    """A comma list (`a,b`), repeated parameters (`?x=a&x=b`, pycamunda), or both."""
    items: list[str] = []
    for raw in request.args.getlist(name):
        items.extend(part.strip() for part in raw.split(",") if part.strip())
    return tuple(dict.fromkeys(items))


def date_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    parsed = parse_date(raw)
    if parsed is None:
        raise bad_request(
            f"Cannot set query parameter '{name}' to value '{raw}': not a date like "
            "2024-05-01T10:00:00.000+0000"
        )
    return parsed


def true_arg(name: str) -> bool:
    return bool(bool_arg(name))


def sorting(allowed: dict[str, str] | set[str], default: str) -> tuple[str, str]:
    """(sort key, "asc"|"desc"); `allowed` maps Camunda's sortBy values to corpflow's."""
    sort_by = request.args.get("sortBy") or None
    if sort_by is None:
        return (allowed[default] if isinstance(allowed, dict) else default), "asc"
    if sort_by not in allowed:
        raise bad_request(f"Cannot set query parameter 'sortBy' to value '{sort_by}'")
    order = (request.args.get("sortOrder") or "asc").lower()
    if order not in ("asc", "desc"):
        raise bad_request(f"Cannot set query parameter 'sortOrder' to value '{order}'")
    return (allowed[sort_by] if isinstance(allowed, dict) else sort_by), order


def json_body() -> dict[str, Any]:
    """The JSON object sent, `{}` for an empty body; anything else is a 400."""
    body: Any = request.get_json(silent=True) if request.get_data() else {}
    if body is None:
        raise bad_request("The request body must be JSON")
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body
