"""Expression functions `workdays(n)` and `add_workdays(start, n)` over the bank's calendar."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Self, SupportsIndex, overload
from zoneinfo import ZoneInfo

from app.workdays.calendar import MAX_WORKDAYS, WorkdayResult
from app.workdays.store import current_calendar
from app.workflow.expression_functions import OperationError, parse_datetime, type_name
from app.workflow.expressions import register_function

log = logging.getLogger(__name__)


class WorkdayDateTime(datetime):
    """An aware UTC due date that remembers whether it rests on an estimated calendar year.

    Arithmetic with a duration, `astimezone`, `replace`, copies and pickles keep the flag.
    """

    # datetime's C methods build subclass instances without calling __new__: default first.
    estimated: bool = False

    def __new__(cls, *args: Any, estimated: bool = False, **kwargs: Any) -> Self:
        self = super().__new__(cls, *args, **kwargs)
        self.estimated = estimated
        return self

    @classmethod
    def of(cls, value: datetime, estimated: bool) -> WorkdayDateTime:
        return cls(
            value.year, value.month, value.day, value.hour, value.minute, value.second,
            value.microsecond, value.tzinfo, fold=value.fold, estimated=estimated,
        )  # fmt: skip

    def plain(self) -> datetime:
        """The same instant as a plain `datetime`."""
        return datetime(
            self.year, self.month, self.day, self.hour, self.minute, self.second,
            self.microsecond, self.tzinfo, fold=self.fold,
        )  # fmt: skip

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        # datetime's own reduction would call cls(bytes, tzinfo) and drop `estimated`.
        return (_rebuild, (self.plain(), self.estimated))

    def __add__(self, other: timedelta) -> Self:
        result = super().__add__(other)
        if isinstance(result, WorkdayDateTime):
            result.estimated = self.estimated
        return result

    __radd__ = __add__

    def astimezone(self, tz: tzinfo | None = None) -> Self:
        result = super().astimezone(tz)
        result.estimated = self.estimated
        return result

    def replace(self, *args: Any, **kwargs: Any) -> Self:
        result = super().replace(*args, **kwargs)
        result.estimated = self.estimated
        return result

    @overload  # type: ignore[override]
    def __sub__(self, other: timedelta) -> Self: ...
    @overload
    def __sub__(self, other: datetime) -> timedelta: ...
    def __sub__(self, other: Any) -> Any:
        result = super().__sub__(other)
        if isinstance(result, WorkdayDateTime):
            result.estimated = self.estimated
        return result

    def __repr__(self) -> str:
        return f"WorkdayDateTime({self.isoformat()}, estimated={self.estimated})"


def _rebuild(value: datetime, estimated: bool) -> WorkdayDateTime:
    return WorkdayDateTime.of(value, estimated)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _count(name: str, n: Any) -> int:
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if isinstance(n, bool) or not isinstance(n, int):
        raise OperationError(f"{name}() expects a whole number of working days, got {type_name(n)}")
    if abs(n) > MAX_WORKDAYS:
        raise OperationError(f"{name}() counts at most {MAX_WORKDAYS} working days, got {n}")
    return n


def _start(value: Any, zone: ZoneInfo) -> datetime:
    """A date-time as given (naive: UTC); a date or date-only text: that local day's start."""
    if isinstance(value, str) and len(value.strip()) == 10:
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value.strip())
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=zone)
    if isinstance(value, str):
        return parse_datetime(value)
    raise OperationError(
        f"add_workdays() expects a date, a date-time or ISO text, got {type_name(value)}"
    )


_WARNED: set[int] = set()


def _due(name: str, start: datetime, n: int) -> WorkdayDateTime:
    try:
        result: WorkdayResult = current_calendar().add_workdays(start, n)
    except ValueError:
        raise OperationError(f"{name}(): the due date is out of range") from None
    if result.estimated:
        # Said once per process and year: the task and timer carry the flag each time.
        fresh = set(result.years_estimated) - _WARNED
        if fresh:
            _WARNED.update(fresh)
            log.warning(
                "%s: due dates in %s are estimated: no official working-day calendar is "
                "loaded for %s (load one with PUT /api/v1/calendar/years/<year>)",
                name, ", ".join(map(str, sorted(fresh))), ", ".join(map(str, sorted(fresh))),
            )  # fmt: skip
    return WorkdayDateTime.of(result.due, result.estimated)


def workdays(n: Any) -> WorkdayDateTime:
    """`n` working days from now (same local time of day), in UTC."""
    return _due("workdays", utc_now(), _count("workdays", n))


def add_workdays(value: Any, n: Any) -> WorkdayDateTime:
    """`n` working days after (n < 0: before) a date, date-time or ISO text, in UTC."""
    count = _count("add_workdays", n)
    return _due("add_workdays", _start(value, ZoneInfo(current_calendar().timezone)), count)


def install_expression_functions() -> None:
    """Make `workdays(n)` and `add_workdays(start, n)` callable from expressions (idempotent)."""
    register_function("workdays", workdays)
    register_function("add_workdays", add_workdays)
