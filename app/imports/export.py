"""The customer list as an .xlsx workbook (write-only mode), with the import's Chinese headers
so an exported file imports back as unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import IO, Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from sqlalchemy.orm import Session

from app.customers import custom_fields, search
from app.customers.models import Customer, CustomField
from app.errors import InvalidInputError
from app.identity.actor import Actor
from app.imports import headers
from app.imports.values import SIZE_LABELS, STATUS_LABELS

MAX_ROWS = 100_000
_PAGE = 2000
BUILT_IN = (
    "uscc",
    "name",
    "legal_representative",
    "registered_capital",
    "capital_currency",
    "establishment_date",
    "industry_code",
    "region_code",
    "size_class",
    "status",
    "risk_rating",
    "rm_id",
    "team_id",
    "branch_id",
)


def _columns(fields: list[CustomField]) -> list[str]:
    """Header cells: built-in fields, then custom fields by label (by custom.<key> where a
    label would read as another column)."""
    names = [headers.canonical(name) for name in BUILT_IN]
    taken = {headers.key(h) for _, _, hs in headers.CUSTOMER_COLUMNS for h in hs}
    labels = [headers.key(headers.label(f)) for f in fields]
    for field, norm in zip(fields, labels, strict=True):
        clash = norm in taken or labels.count(norm) > 1
        names.append(f"custom.{field.key}" if clash else headers.label(field))
    return names


def _number(value: Decimal) -> float | str:
    """A number cell when the float says exactly the same, else text (never rounded)."""
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)


def _day(sheet: Any, value: date) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "yyyy-mm-dd"
    return cell


def _custom(sheet: Any, field: CustomField, value: Any) -> Any:
    if value is None:
        return None
    if field.type == "boolean":
        return "是" if value else "否"
    if field.type == "date":
        return _day(sheet, date.fromisoformat(value))
    return value


def _row(sheet: Any, customer: Customer, fields: list[CustomField]) -> list[Any]:
    capital = customer.registered_capital
    cells: list[Any] = [
        customer.uscc,
        customer.name,
        customer.legal_representative,
        None if capital is None else _number(capital / headers.WAN),
        customer.capital_currency,
        None if customer.establishment_date is None else _day(sheet, customer.establishment_date),
        customer.industry_code,
        customer.region_code,
        SIZE_LABELS.get(customer.size_class or "", customer.size_class),
        STATUS_LABELS.get(customer.status, customer.status),
        customer.risk_rating,
        customer.rm_id,
        customer.team_id,
        customer.branch_id,
    ]
    stored = customer.custom or {}
    cells += [_custom(sheet, f, stored.get(f.key)) for f in fields]
    return cells


def customers_xlsx(
    session: Session, actor: Actor, query: search.CustomerQuery, out: IO[bytes]
) -> int:
    """Write the customers `actor` may see that match `query` to `out`; returns the count.

    More than MAX_ROWS matches is refused (422) before anything is written.
    """
    _, total = search.search(session, actor, replace(query, limit=1, offset=0))
    if total > MAX_ROWS:
        raise InvalidInputError(
            "too many customers to export",
            errors={"filters": f"{total:,} customers match; at most {MAX_ROWS:,}: narrow them"},
        )
    fields = sorted(
        (f for f in custom_fields.active(session).values() if custom_fields.may_see(f, actor)),
        key=lambda f: f.key,
    )
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("客户")
    sheet.append(_columns(fields))
    written = 0
    while written < total:
        page, _ = search.search(session, actor, replace(query, limit=_PAGE, offset=written))
        if not page:
            break
        for customer in page:
            sheet.append(_row(sheet, customer, fields))
            session.expunge(customer)  # the identity map stays one page large
        written += len(page)
    book.save(out)
    return written
