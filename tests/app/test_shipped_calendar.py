"""The official 2026 calendar shipped with corpflow matches the State Council's notice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.workdays import store
from app.workdays.models import CalendarYear
from tests.app.test_workdays import OFF_2026, WORK_2026


def test_shipped_2026_calendar_loads_once_and_matches_the_notice(session: Session) -> None:
    assert store.load_shipped_years(session) == [2026]
    session.flush()
    year = session.get(CalendarYear, 2026)
    assert year is not None and "2026" in year.source
    calendar = store.calendar_from_db(session, "Asia/Shanghai")
    assert calendar.is_official(2026)
    for day in OFF_2026:
        assert calendar.is_working_day(day) == (False, False), day
    for day in WORK_2026:
        assert calendar.is_working_day(day) == (True, False), day
    assert store.load_shipped_years(session) == []  # the bank's own load is never overwritten
