"""Use cases of the calendar: load an official year, list years, and the process-wide calendar."""

from __future__ import annotations

import csv
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import InvalidInputError, PermissionDeniedError
from app.identity.actor import SYSTEM, Actor
from app.workdays.calendar import DEFAULT_TIMEZONE, WorkingCalendar
from app.workdays.models import OFF, OFFICIAL, WORK, CalendarDay, CalendarYear

log = logging.getLogger(__name__)

MIN_YEAR, MAX_YEAR = 1990, 2199
FIRST_LISTED_YEAR = 2020
MAX_SOURCE_LENGTH = 1000
MAX_FILE_LINES = 5000
MAX_MESSAGES = 20
ESTIMATED = "estimated"

CalendarFile = dict[int, tuple[list[date], list[date]]]


@dataclass(frozen=True)
class YearStatus:
    """One year as the calendar sees it: official (loaded) or estimated (`holidays` package)."""

    year: int
    status: str
    source: str | None = None
    loaded_by: str | None = None
    loaded_at: datetime | None = None
    days_off: int | None = None
    working_days: int | None = None


def _messages(items: list[str]) -> list[str]:
    if len(items) <= MAX_MESSAGES:
        return items
    return [*items[:MAX_MESSAGES], f"… and {len(items) - MAX_MESSAGES} more"]


def _check_dates(
    field: str, values: Iterable[Any], year: int, errors: dict[str, list[str]]
) -> None:
    for value in values:
        if type(value) is not date:
            errors.setdefault(field, []).append(f"{value!r} is not a date")
        elif value.year != year:
            errors.setdefault(field, []).append(f"{value.isoformat()} is not in {year}")


def load_year(
    session: Session,
    actor: Actor,
    year: int,
    days_off: list[date],
    working_days: list[date],
    source: str,
    *,
    notes: Mapping[date, str] | None = None,
) -> CalendarYear:
    """Make `year` official with these days, replacing whatever was loaded for it before.

    Admin only. Flushes, never commits: after the caller commits it must call
    `refresh_calendar` so that this process counts with the new data.
    """
    if not actor.is_admin:
        raise PermissionDeniedError("only an admin may load the official working-day calendar")
    errors: dict[str, list[str]] = {}
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInputError(
            f"year must be between {MIN_YEAR} and {MAX_YEAR}",
            errors={"year": [f"must be between {MIN_YEAR} and {MAX_YEAR}"]},
        )
    source = (source or "").strip()
    if not source:
        errors["source"] = ["name the notice the schedule comes from"]
    elif len(source) > MAX_SOURCE_LENGTH:
        errors["source"] = [f"longer than {MAX_SOURCE_LENGTH} characters"]
    if not days_off:
        errors["days_off"] = ["an official year lists its days off; none were given"]
    _check_dates("days_off", days_off, year, errors)
    _check_dates("working_days", working_days, year, errors)
    off, work = set(days_off), set(working_days)
    for day in sorted(d for d in work if type(d) is date):
        if day in off:
            errors.setdefault("working_days", []).append(
                f"{day.isoformat()} is listed both as a day off and as a working day"
            )
        elif day.weekday() < 5:
            errors.setdefault("working_days", []).append(
                f"{day.isoformat()} is a {day:%A}; an adjusted working day (调休上班) must be "
                "a Saturday or Sunday"
            )
    if errors:
        raise InvalidInputError(
            f"the calendar for {year} is invalid; nothing was changed",
            errors={field: _messages(items) for field, items in errors.items()},
        )
    row = session.get(CalendarYear, year, with_for_update=True)
    session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    if row is None:
        row = CalendarYear(year=year)
        session.add(row)
    row.status, row.source, row.loaded_by, row.loaded_at = OFFICIAL, source, actor.user_id, utcnow()
    session.flush()  # the year row before its days (foreign key)
    notes = notes or {}
    session.add_all(
        CalendarDay(day=day, year=year, kind=kind, note=notes.get(day))
        for kind, days in ((OFF, off), (WORK, work))
        for day in sorted(days)
    )
    session.flush()
    log.info(
        "calendar year %s loaded by %s: %d days off, %d working days (%s)",
        year, actor.user_id, len(off), len(work), source,
    )  # fmt: skip
    return row


def load_year_file(
    session: Session, actor: Actor, year: int, text: str, source: str
) -> CalendarYear:
    """`load_year` from a calendar file (see `parse_calendar_file`); every row must be in `year`."""
    if not actor.is_admin:
        raise PermissionDeniedError("only an admin may load the official working-day calendar")
    parsed = parse_calendar_file(text)
    days_off = [d for off, _work in parsed.values() for d in off]
    working_days = [d for _off, work in parsed.values() for d in work]
    notes = parse_calendar_notes(text)
    return load_year(session, actor, year, days_off, working_days, source, notes=notes)


def year_status(row: CalendarYear, days_off: int, working_days: int) -> YearStatus:
    return YearStatus(
        row.year, row.status, row.source, row.loaded_by, row.loaded_at, days_off, working_days
    )


def list_years(
    session: Session, *, timezone: str = DEFAULT_TIMEZONE, today: date | None = None
) -> list[YearStatus]:
    """Every year from 2020 to next year, plus any other loaded year, official or estimated."""
    today = today or datetime.now(UTC).astimezone(ZoneInfo(timezone)).date()
    rows = {row.year: row for row in session.scalars(select(CalendarYear))}
    counts: dict[tuple[int, str], int] = {
        (year, kind): count
        for year, kind, count in session.execute(
            select(CalendarDay.year, CalendarDay.kind, func.count()).group_by(
                CalendarDay.year, CalendarDay.kind
            )
        )
    }
    years = sorted(set(range(FIRST_LISTED_YEAR, today.year + 2)) | set(rows))
    return [
        year_status(rows[y], counts.get((y, OFF), 0), counts.get((y, WORK), 0))
        if y in rows
        else YearStatus(y, ESTIMATED)
        for y in years
    ]


def calendar_from_db(session: Session, timezone: str = DEFAULT_TIMEZONE) -> WorkingCalendar:
    """A calendar of every loaded year; the others are estimated."""
    official: dict[int, tuple[set[date], set[date]]] = {
        year: (set(), set()) for year in session.scalars(select(CalendarYear.year))
    }
    for day, year, kind in session.execute(
        select(CalendarDay.day, CalendarDay.year, CalendarDay.kind)
    ):
        if year in official:
            official[year][0 if kind == OFF else 1].add(day)
    return WorkingCalendar(official, timezone)


_lock = threading.Lock()
_current: WorkingCalendar | None = None
_refreshed_at = 0.0  # time.monotonic() of the last refresh; 0: never


def current_calendar() -> WorkingCalendar:
    """The calendar this process counts with; estimate-only until `refresh_calendar` runs."""
    global _current
    calendar = _current
    if calendar is None:
        with _lock:
            if _current is None:
                _current = WorkingCalendar()
            calendar = _current
    return calendar


def refresh_calendar(session: Session, timezone: str = DEFAULT_TIMEZONE) -> WorkingCalendar:
    """Reload the process-wide calendar from the database (call after committing a load).

    Refreshes are serialized so an older read cannot replace a newer one; readers never wait.
    """
    global _current, _refreshed_at
    with _lock:
        _current = calendar_from_db(session, timezone)
        _refreshed_at = time.monotonic()
        return _current


def refresh_if_stale(
    session: Session, timezone: str = DEFAULT_TIMEZONE, max_age_seconds: float = 300.0
) -> WorkingCalendar:
    """Refresh when this process has not for `max_age_seconds`: other processes' loads arrive."""
    if _current is not None and time.monotonic() - _refreshed_at < max_age_seconds:
        return _current
    return refresh_calendar(session, timezone)


def replace_calendar(calendar: WorkingCalendar | None) -> WorkingCalendar | None:
    """Install `calendar` (None: back to estimate-only) and return the previous one (tests)."""
    global _current, _refreshed_at
    with _lock:
        previous, _current = _current, calendar
        _refreshed_at = time.monotonic() if calendar is not None else 0.0
        return previous


@dataclass(frozen=True)
class _Row:
    line: int
    day: date
    kind: str
    note: str | None


def _parse_rows(text: str) -> list[_Row]:
    lines = text.lstrip("\ufeff").splitlines()
    if len(lines) > MAX_FILE_LINES:
        raise InvalidInputError(
            "the calendar file is too long",
            errors={"file": [f"more than {MAX_FILE_LINES} lines"]},
        )
    rows: list[_Row] = []
    errors: list[str] = []
    seen: dict[date, int] = {}
    header_allowed = True
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = [f.strip() for f in next(csv.reader([stripped]))]
        if header_allowed and fields and fields[0].lower() == "date":
            header_allowed = False
            continue
        header_allowed = False
        if len(fields) not in (2, 3):
            errors.append(f"line {number}: expected 'date,kind[,note]', got {len(fields)} fields")
            continue
        try:
            day = datetime.strptime(fields[0].replace("/", "-"), "%Y-%m-%d").date()
        except ValueError:
            errors.append(f"line {number}: {fields[0][:40]!r} is not a date such as 2027-01-01")
            continue
        kind = fields[1].lower()
        if kind not in (OFF, WORK):
            errors.append(f"line {number}: kind must be 'off' or 'work', got {fields[1][:40]!r}")
            continue
        if day in seen:
            errors.append(f"line {number}: {day.isoformat()} is already listed on line {seen[day]}")
            continue
        seen[day] = number
        note = fields[2] if len(fields) == 3 and fields[2] else None
        rows.append(_Row(number, day, kind, note))
    if errors:
        raise InvalidInputError(
            f"the calendar file has {len(errors)} invalid line(s); nothing was changed",
            errors={"file": _messages(errors)},
        )
    if not rows:
        raise InvalidInputError(
            "the calendar file lists no days",
            errors={"file": ["expected lines 'date,kind[,note]', e.g. 2027-01-01,off,元旦"]},
        )
    return rows


def parse_calendar_file(text: str) -> CalendarFile:
    """Parse CSV lines `date,kind[,note]` (kind off|work; optional header; `#` comments).

    Returns {year: (days off, working days)}, sorted; InvalidInputError names each bad line.
    """
    result: CalendarFile = {}
    for row in sorted(_parse_rows(text), key=lambda r: r.day):
        off, work = result.setdefault(row.day.year, ([], []))
        (off if row.kind == OFF else work).append(row.day)
    return result


def parse_calendar_notes(text: str) -> dict[date, str]:
    """The notes column of a calendar file, by date."""
    return {row.day: row.note for row in _parse_rows(text) if row.note}


SHIPPED = Path(__file__).resolve().parent / "data"


def load_shipped_years(session: Session) -> list[int]:
    """Load the official calendars shipped in app/workdays/data/ for years the bank has not
    loaded itself (demo and first start); returns the years loaded."""
    loaded = []
    for path in sorted(SHIPPED.glob("cn-*.csv")):
        year = int(path.stem.removeprefix("cn-"))
        if session.get(CalendarYear, year) is not None:
            continue
        text = path.read_text(encoding="utf-8")
        source = text.splitlines()[0].lstrip("# ").strip() or path.name
        load_year_file(session, SYSTEM, year, text, source)
        loaded.append(year)
    return loaded
