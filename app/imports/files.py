"""Reading uploaded spreadsheets: .xlsx (streamed, read-only) and CSV (UTF-8 or GB18030)."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from app.errors import InvalidInputError

MAX_ROWS = 100_000
MAX_COLUMNS = 200
# Sheet names that say which kind of data a workbook sheet holds; otherwise the first sheet.
SHEET_NAMES = {
    "customers": ("客户", "客户信息", "客户清单", "customers"),
    "relationships": ("关系", "关联关系", "股权关系", "relationships"),
}


@dataclass
class Table:
    """The header cells and the data rows (with the row number the spreadsheet shows)."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]]
    encoding: str | None = None


def _bad_file(message: str) -> InvalidInputError:
    return InvalidInputError(message, errors={"file": message})


def read(file_name: str, data: bytes, kind: str) -> Table:
    """The table in an .xlsx or .csv upload; the header is the first non-empty row."""
    lower = file_name.lower()
    if data[:4] == b"PK\x03\x04" or lower.endswith((".xlsx", ".xlsm")):
        return _xlsx(data, kind)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or lower.endswith(".xls"):
        raise _bad_file("old Excel .xls files are not read: save the sheet as .xlsx or CSV")
    if lower.endswith((".csv", ".txt")) or not lower.rpartition(".")[1]:
        return _csv(data)
    raise _bad_file("send an .xlsx workbook or a .csv file")


def _table(lines: Iterator[tuple[int, list[Any]]], encoding: str | None = None) -> Table:
    headers: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for row_no, cells in lines:
        values = [_cell(c) for c in cells]
        if all(v is None for v in values):
            continue
        if headers is None:
            while values and values[-1] is None:
                values.pop()
            if len(values) > MAX_COLUMNS:
                raise _bad_file(f"more than {MAX_COLUMNS} columns")
            headers = ["" if v is None else str(v) for v in values]
            continue
        if len(rows) >= MAX_ROWS:
            raise _bad_file(f"more than {MAX_ROWS:,} data rows: split the file")
        rows.append((row_no, values[: len(headers)]))
    if headers is None:
        raise _bad_file("the file is empty: the first row must hold the column headers")
    return Table(headers, rows, encoding)


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _xlsx(data: bytes, kind: str) -> Table:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise _bad_file("not a readable .xlsx workbook") from None
    try:
        wanted = SHEET_NAMES.get(kind, ())
        sheets = [s for s in book.worksheets if s.title.strip().lower() in wanted]
        sheet = sheets[0] if sheets else book.worksheets[0]
        lines = ((n, list(r)) for n, r in enumerate(sheet.iter_rows(values_only=True), 1))
        return _table(lines)
    finally:
        book.close()


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and its encoding: a BOM decides, else UTF-8, else GB18030
    (what Chinese Excel writes for "CSV (逗号分隔)")."""
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _bad_file("the UTF-16 file is damaged") from None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise _bad_file("the CSV file is neither UTF-8 nor GB18030 (GBK) text")


def _csv(data: bytes) -> Table:
    text, encoding = decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _table(((reader.line_num, row) for row in reader), encoding)
    except csv.Error as exc:
        raise _bad_file(f"the CSV file cannot be read: {exc}") from None
