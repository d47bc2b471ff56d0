"""Working-day arithmetic over official years, falling back to the `holidays` CN estimate."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

DEFAULT_TIMEZONE = "Asia/Shanghai"
MAX_WORKDAYS = 1000

# (days off, adjusted working weekend days) of one year.
YearSchedule = tuple[Set[date], Set[date]]
Estimator = Callable[[int], YearSchedule]


@functools.lru_cache(maxsize=64)
def estimate_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """The `holidays` package's CN days off and adjusted working weekends for `year`.

    The brief asked for weekends + statutory holidays only, but `holidays` also moves days off
    next to a holiday ("Day off (substituted from ...)") for years it knows: counting those
    without the weekend they were swapped from would be wrong twice, so both are taken.
    For years the State Council has not announced the package applies rules: an estimate.
    """
    cn = holidays.country_holidays("CN", years=[year])
    off = frozenset(d for d in cn if d.year == year)
    work = frozenset(d for d in getattr(cn, "weekend_workdays", set()) if d.year == year)
    return off, work - off


@dataclass(frozen=True)
class WorkdayResult:
    """A due time and whether any day counted to reach it came from an estimated year."""

    due: datetime
    estimated: bool
    years_estimated: tuple[int, ...]


class WorkingCalendar:
    """Chinese working days: official years as loaded by the bank, other years estimated.

    A day is a working day when it is an adjusted working day (调休上班), else when it is not a
    day off and falls Monday to Friday. Days are the bank's local dates (`timezone`).
    """

    def __init__(
        self,
        official: Mapping[int, YearSchedule] | None = None,
        timezone: str = DEFAULT_TIMEZONE,
        estimator: Estimator = estimate_year,
    ) -> None:
        self._official = {
            year: (frozenset(off), frozenset(work))
            for year, (off, work) in (official or {}).items()
        }
        self.timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._estimator = estimator

    @property
    def official_years(self) -> frozenset[int]:
        return frozenset(self._official)

    def is_official(self, year: int) -> bool:
        return year in self._official

    def is_working_day(self, d: date) -> tuple[bool, bool]:
        """(working?, estimated?) for the local date `d`."""
        schedule = self._official.get(d.year)
        estimated = schedule is None
        off, work = self._estimator(d.year) if schedule is None else schedule
        if d in work:
            return True, estimated
        if d in off:
            return False, estimated
        return d.weekday() < 5, estimated

    def add_workdays(self, start: datetime, n: int) -> WorkdayResult:
        """The same local time of day on the n-th working day after (n < 0: before) `start`.

        - Counting is in the bank's time zone: `start` is converted to it, its local date is
          the day counted from (that day itself never counts, working or not), and the result
          keeps start's local wall-clock time; it is returned aware, in UTC.
        - A naive `start` is taken as UTC (as corpflow expressions do).
        - n == 0 returns `start` unchanged (in UTC); n < 0 counts backwards, e.g. "30 working
          days before maturity" is `add_workdays(maturity, -30)`.
        - |n| <= MAX_WORKDAYS, else ValueError.
        - `estimated` is True when any day stepped over lies in a year without official data;
          `years_estimated` names those years. An estimate never raises.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be a whole number of working days, got {type(n).__name__}")
        if abs(n) > MAX_WORKDAYS:
            raise ValueError(f"at most {MAX_WORKDAYS} working days may be added, got {n}")
        if not isinstance(start, datetime):
            raise TypeError(f"start must be a datetime, got {type(start).__name__}")
        aware = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
        if n == 0:
            return WorkdayResult(aware.astimezone(UTC), False, ())
        local = aware.astimezone(self._zone)
        step = timedelta(days=1 if n > 0 else -1)
        day, remaining = local.date(), abs(n)
        years: set[int] = set()
        try:
            while remaining:
                day += step
                working, estimated = self.is_working_day(day)
                if estimated:
                    years.add(day.year)
                if working:
                    remaining -= 1
            due = datetime.combine(day, local.time(), tzinfo=self._zone).astimezone(UTC)
        except OverflowError:
            raise ValueError(f"{n} working days from {start.isoformat()} is out of range") from None
        return WorkdayResult(due, bool(years), tuple(sorted(years)))
