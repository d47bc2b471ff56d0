"""Response bodies: paged envelopes, and objects opened up for a richer schema to dump."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields


def paged(item: type[Schema]) -> type[Schema]:
    return type(
        f"Paged{item.__name__}",
        (Schema,),
        {
            "items": fields.List(fields.Nested(item)),
            "total": fields.Integer(),
            "limit": fields.Integer(),
            "offset": fields.Integer(),
        },
    )


def page(items: list[Any], total: int, args: dict[str, Any]) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": args["limit"], "offset": args["offset"]}


def raw(obj: Any, schema: type[Schema]) -> dict[str, Any]:
    """The attributes `schema` would read, unserialized, so extra keys can be added."""
    return {
        name: getattr(obj, field.attribute or name)
        for name, field in schema().fields.items()
        if hasattr(obj, field.attribute or name)
    }
