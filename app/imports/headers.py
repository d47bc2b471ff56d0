"""Column headers RMs use (Chinese, or the API's field names) mapped to fields, per kind."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from app.customers.models import CustomField
from app.errors import InvalidInputError

WAN = Decimal(10_000)  # 万元: amounts in RM sheets are in units of RMB 10,000 unless stated
YUAN = Decimal(1)

# (field, scale, headers): the first header of a field is the one the export writes.
CUSTOMER_COLUMNS: tuple[tuple[str, Decimal | None, tuple[str, ...]], ...] = (
    ("uscc", None, ("统一社会信用代码", "社会信用代码", "信用代码", "uscc")),
    ("name", None, ("客户名称", "企业名称", "公司名称", "name")),
    ("legal_representative", None, ("法定代表人", "法人代表", "legal_representative")),
    ("registered_capital", WAN, ("注册资本(万元)", "注册资本")),
    ("registered_capital", YUAN, ("注册资本(元)", "registered_capital")),
    ("capital_currency", None, ("币种", "注册资本币种", "capital_currency")),
    ("establishment_date", None, ("成立日期", "注册日期", "establishment_date")),
    ("industry_code", None, ("行业代码", "国标行业", "国标行业代码", "industry_code")),
    ("region_code", None, ("注册地区划代码", "行政区划代码", "区划代码", "region_code")),
    ("size_class", None, ("企业规模", "规模", "size_class")),
    ("status", None, ("客户状态", "status")),
    ("risk_rating", None, ("内部评级", "风险等级", "信用评级", "risk_rating")),
    ("rm_id", None, ("客户经理", "客户经理工号", "主管客户经理", "rm_id")),
    ("team_id", None, ("所属团队", "team_id")),
    ("branch_id", None, ("所属机构", "经营机构", "branch_id")),
)
RELATIONSHIP_COLUMNS: tuple[tuple[str, Decimal | None, tuple[str, ...]], ...] = (
    ("relation_type", None, ("关系类型", "relation_type")),
    (
        "holder",
        None,
        ("持股方", "股东", "担保人", "保证人", "实际控制人", "控制人", "集团母公司", "holder"),
    ),
    ("held", None, ("被持股企业", "被投资企业", "借款人", "被担保人", "成员企业", "held")),
    ("percentage", None, ("持股比例(%)", "持股比例", "percentage")),
    ("amount", WAN, ("担保金额(万元)", "担保金额")),
    ("amount", YUAN, ("担保金额(元)", "amount")),
    ("currency", None, ("币种", "currency")),
    ("basis", None, ("控制依据", "依据", "basis")),
    ("group_name", None, ("集团名称", "group_name")),
)
REQUIRED = {
    "customers": ("uscc", "name"),
    "relationships": ("relation_type", "holder", "held"),
}
KINDS = tuple(REQUIRED)


@dataclass(frozen=True)
class Column:
    header: str
    field: str  # a built-in field, "custom.<key>", or a relationship field
    scale: Decimal | None = None


def key(header: str) -> str:
    """Headers compare without width, spaces, case or a leading * (required-field mark)."""
    text = unicodedata.normalize("NFKC", header)
    return "".join(text.split()).lstrip("*").lower()


def _known(kind: str) -> dict[str, tuple[str, Decimal | None]]:
    table = CUSTOMER_COLUMNS if kind == "customers" else RELATIONSHIP_COLUMNS
    return {key(h): (name, scale) for name, scale, headers in table for h in headers}


def canonical(field: str) -> str:
    """The header the export writes for a built-in customer field."""
    return next(headers[0] for name, _, headers in CUSTOMER_COLUMNS if name == field)


def label(field: CustomField) -> str:
    return field.label or field.key


def map_columns(
    kind: str, headers: list[str], custom: Mapping[str, CustomField]
) -> tuple[list[Column | None], list[str]]:
    """Each header's column (None for a header that maps to nothing) and the unknown headers.

    A file without a required column, or with two columns for one field, is refused whole.
    `custom` holds the custom fields the uploader may see: matched by label or key.
    """
    known = _known(kind)
    by_label: dict[str, str] = {}
    if kind == "customers":
        for field in custom.values():
            for name in (label(field), field.key, f"custom.{field.key}"):
                by_label.setdefault(key(name), field.key)
    columns: list[Column | None] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    errors: dict[str, str] = {}
    for header in headers:
        norm = key(header)
        column: Column | None = None
        if norm in known:
            name, scale = known[norm]
            column = Column(header, name, scale)
        elif norm in by_label:
            column = Column(header, f"custom.{by_label[norm]}")
        elif header.strip():
            unknown.append(header)
        if column is not None and column.field in seen:
            errors[header] = f"{seen[column.field]} and {header} are both {column.field}"
            column = None
        if column is not None:
            seen[column.field] = header
        columns.append(column)
    missing = [name for name in REQUIRED[kind] if name not in seen]
    for name in missing:
        options = [h for n, _, hs in _table(kind) if n == name for h in hs]
        errors[name] = f"no column for {name}: name one {' or '.join(options[:3])}"
    if errors:
        raise InvalidInputError(
            "the file's columns cannot be read; nothing was imported", errors=errors
        )
    return columns, unknown


def _table(kind: str) -> tuple[tuple[str, Decimal | None, tuple[str, ...]], ...]:
    return CUSTOMER_COLUMNS if kind == "customers" else RELATIONSHIP_COLUMNS
