"""Paged list envelopes: items plus the total count, one schema per item type."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields


def paged(item: type[Schema]) -> type[Schema]:
    return type(f"Paged{item.__name__}", (Schema,), {
        "items": fields.List(fields.Nested(item)),
        "total": fields.Integer(),
        "limit": fields.Integer(),
        "offset": fields.Integer(),
    })


def page(items: list[Any], total: int, args: dict[str, Any]) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": args["limit"], "offset": args["offset"]}
