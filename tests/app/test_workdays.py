"""Working-day calendar: arithmetic over official 2026 data, estimates, loads and expressions."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import InvalidInputError, PermissionDeniedError
from app.identity.actor import SYSTEM, Actor
from app.workdays import store
from app.workdays.calendar import MAX_WORKDAYS, WorkingCalendar, estimate_year
from app.workdays.functions import WorkdayDateTime, install_expression_functions
from app.workdays.models import CalendarDay, CalendarYear
from app.workflow.expressions import ExpressionEvaluationError, compile_expression

CST = timezone(timedelta(hours=8))


def days(first: date, last: date) -> set[date]:
    return {first + timedelta(d) for d in range((last - first).days + 1)}


# 国务院办公厅关于2026年部分节假日安排的通知 (published 2025-11-04), as checked against the
# published text: every day off of each holiday block, and the adjusted working days (调休上班).
OFF_2026 = (
    days(date(2026, 1, 1), date(2026, 1, 3))  # 元旦
    | days(date(2026, 2, 15), date(2026, 2, 23))  # 春节
    | days(date(2026, 4, 4), date(2026, 4, 6))  # 清明节
    | days(date(2026, 5, 1), date(2026, 5, 5))  # 劳动节
    | days(date(2026, 6, 19), date(2026, 6, 21))  # 端午节
    | days(date(2026, 9, 25), date(2026, 9, 27))  # 中秋节
    | days(date(2026, 10, 1), date(2026, 10, 7))  # 国庆节
)
WORK_2026 = {
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
}
SOURCE_2026 = "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）"


def make_calendar() -> WorkingCalendar:
    return WorkingCalendar({2026: (OFF_2026, WORK_2026)})


def make_admin_load(session: Session, year: int = 2026) -> CalendarYear:
    return store.load_year(session, SYSTEM, year, sorted(OFF_2026), sorted(WORK_2026), SOURCE_2026)


@pytest.fixture(autouse=True)
def _fresh_holder() -> Iterator[None]:
    previous = store.replace_calendar(None)
    yield
    store.replace_calendar(previous)


def test_calendar_spring_festival_two_days_from_friday_before_break() -> None:
    # Fri 13 Feb: Sat 14 Feb is an adjusted working day (1), 15–23 Feb off, Tue 24 Feb (2).
    result = make_calendar().add_workdays(datetime(2026, 2, 13, 10, tzinfo=CST), 2)
    assert result.due == datetime(2026, 2, 24, 10, tzinfo=CST)
    assert result.due.tzinfo == UTC
    assert (result.estimated, result.years_estimated) == (False, ())


def test_calendar_adjusted_working_saturday_counts() -> None:
    calendar = make_calendar()
    assert calendar.is_working_day(date(2026, 2, 14)) == (True, False)
    assert calendar.is_working_day(date(2026, 2, 16)) == (False, False)
    assert calendar.is_working_day(date(2026, 2, 21)) == (False, False)
    assert calendar.is_working_day(date(2026, 3, 2)) == (True, False)
    first = calendar.add_workdays(datetime(2026, 2, 13, 10, tzinfo=CST), 1)
    assert first.due == datetime(2026, 2, 14, 10, tzinfo=CST)


def test_calendar_national_day_forwards_and_backwards() -> None:
    calendar = make_calendar()
    start = datetime(2026, 9, 30, 9, 30, tzinfo=CST)
    assert calendar.add_workdays(start, 1).due == datetime(2026, 10, 8, 9, 30, tzinfo=CST)
    # Thu 8, Fri 9, then Sat 10 Oct is an adjusted working day.
    assert calendar.add_workdays(start, 3).due == datetime(2026, 10, 10, 9, 30, tzinfo=CST)
    back = calendar.add_workdays(datetime(2026, 10, 8, 9, 30, tzinfo=CST), -1)
    assert back.due == start
    # Sun 20 Sep works before the Mid-Autumn / National Day blocks.
    saturday = datetime(2026, 9, 19, 12, tzinfo=CST)
    assert calendar.add_workdays(saturday, 1).due == datetime(2026, 9, 20, 12, tzinfo=CST)


def test_calendar_counts_local_dates_in_bank_time_zone() -> None:
    # 20:00 UTC on Fri 13 Feb is 04:00 on Sat 14 Feb in Shanghai: the next working day is 24 Feb.
    result = make_calendar().add_workdays(datetime(2026, 2, 13, 20, tzinfo=UTC), 1)
    assert result.due == datetime(2026, 2, 24, 4, tzinfo=CST)


def test_calendar_zero_naive_and_limits() -> None:
    calendar = make_calendar()
    start = datetime(2026, 2, 15, 8, tzinfo=CST)
    zero = calendar.add_workdays(start, 0)
    assert zero.due == start and zero.due.tzinfo == UTC and not zero.estimated
    naive = calendar.add_workdays(datetime(2026, 3, 2, 1), 1)  # naive = UTC
    assert naive.due == datetime(2026, 3, 3, 1, tzinfo=UTC)
    assert calendar.add_workdays(start, MAX_WORKDAYS).estimated
    with pytest.raises(ValueError, match="at most 1000 working days"):
        calendar.add_workdays(start, MAX_WORKDAYS + 1)
    with pytest.raises(ValueError, match="at most 1000 working days"):
        calendar.add_workdays(start, -MAX_WORKDAYS - 1)
    with pytest.raises(TypeError):
        calendar.add_workdays(start, True)
    with pytest.raises(ValueError, match="out of range"):
        calendar.add_workdays(datetime(9999, 12, 30, tzinfo=UTC), 5)


def test_calendar_year_without_official_data_is_estimated_never_raises() -> None:
    calendar = make_calendar()
    # Thu 31 Dec 2026 + 1: the holidays package estimates Fri 1 Jan 2027 off → Mon 4 Jan.
    result = calendar.add_workdays(datetime(2026, 12, 31, 9, tzinfo=CST), 1)
    assert result.due == datetime(2027, 1, 4, 9, tzinfo=CST)
    assert (result.estimated, result.years_estimated) == (True, (2027,))
    assert calendar.is_working_day(date(2027, 1, 1)) == (False, True)
    far = calendar.add_workdays(datetime(2150, 6, 1, tzinfo=UTC), 10)
    assert far.estimated and far.years_estimated == (2150,)


def test_calendar_official_data_changes_the_result() -> None:
    # Fictional 2027 data (no notice exists yet): 1 Jan off, Sat 2 Jan an adjusted working day.
    start = datetime(2026, 12, 31, 9, tzinfo=CST)
    official = WorkingCalendar(
        {2026: (OFF_2026, WORK_2026), 2027: ({date(2027, 1, 1)}, {date(2027, 1, 2)})}
    )
    result = official.add_workdays(start, 1)
    assert result.due == datetime(2027, 1, 2, 9, tzinfo=CST)
    assert not result.estimated
    assert make_calendar().add_workdays(start, 1).due != result.due


def test_estimate_uses_package_adjusted_weekends_and_is_cached() -> None:
    assert WorkingCalendar().is_working_day(date(2026, 2, 14)) == (True, True)
    assert estimate_year(2027) is estimate_year(2027)


def test_load_year_makes_year_official(session: Session) -> None:
    make_admin_load(session)
    session.commit()
    statuses = {s.year: s for s in store.list_years(session, today=date(2026, 6, 1))}
    assert list(statuses) == list(range(2020, 2028))
    assert statuses[2026].status == "official"
    assert (statuses[2026].days_off, statuses[2026].working_days) == (33, 6)
    assert statuses[2026].loaded_by == "system"
    assert statuses[2027].status == "estimated" and statuses[2027].source is None
    calendar = store.calendar_from_db(session)
    assert calendar.official_years == {2026}
    assert calendar.is_working_day(date(2026, 10, 10)) == (True, False)


def test_load_year_replaces_previous_load(session: Session) -> None:
    make_admin_load(session)
    row = store.load_year(
        session, SYSTEM, 2026, [date(2026, 1, 1)], [date(2026, 1, 4)], "corrected notice"
    )
    session.commit()
    assert row.source == "corrected notice"
    assert session.scalar(select(func.count()).select_from(CalendarDay)) == 2
    assert session.scalar(select(func.count()).select_from(CalendarYear)) == 1


def test_load_year_rejects_invalid_days_and_changes_nothing(session: Session) -> None:
    with pytest.raises(InvalidInputError) as caught:
        store.load_year(
            session,
            SYSTEM,
            2027,
            [date(2027, 1, 1), date(2028, 1, 1), date(2027, 2, 6)],
            [date(2027, 2, 6), date(2027, 2, 9)],
            " ",
        )
    errors = caught.value.errors
    assert errors["days_off"] == ["2028-01-01 is not in 2027"]
    assert "2027-02-06 is listed both as a day off and as a working day" in errors["working_days"]
    assert any("2027-02-09 is a Tuesday" in m for m in errors["working_days"])
    assert "source" in errors
    assert session.scalar(select(func.count()).select_from(CalendarYear)) == 0
    with pytest.raises(InvalidInputError, match="year must be between"):
        store.load_year(session, SYSTEM, 1800, [date(1800, 1, 1)], [], "x")


def test_load_year_requires_admin(session: Session) -> None:
    with pytest.raises(PermissionDeniedError):
        store.load_year(
            session, Actor("rm_li", frozenset({"relationship_manager"})), 2026, [], [], "x"
        )


def test_refresh_calendar_installs_loaded_years(session: Session) -> None:
    assert store.current_calendar().official_years == frozenset()
    make_admin_load(session)
    session.commit()
    refreshed = store.refresh_calendar(session, "Asia/Shanghai")
    assert store.current_calendar() is refreshed
    assert refreshed.is_working_day(date(2026, 2, 14)) == (True, False)


def test_refresh_if_stale_reloads_only_when_old(session: Session) -> None:
    make_admin_load(session)
    session.commit()
    first = store.refresh_if_stale(session)
    assert first.official_years == {2026}
    assert store.refresh_if_stale(session) is first
    assert store.refresh_if_stale(session, max_age_seconds=0) is not first


CSV = """\ufeff# 2026 schedule
date,kind,note
2026-01-01,off,元旦
2026/1/4,work,"元旦调休, 周日上班"

2026-02-14,WORK
"""


def test_parse_calendar_file_reads_header_comments_and_notes() -> None:
    assert store.parse_calendar_file(CSV) == {
        2026: ([date(2026, 1, 1)], [date(2026, 1, 4), date(2026, 2, 14)])
    }
    assert store.parse_calendar_notes(CSV) == {
        date(2026, 1, 1): "元旦",
        date(2026, 1, 4): "元旦调休, 周日上班",
    }


def test_parse_calendar_file_names_bad_lines() -> None:
    text = "2026-01-01,off\n2026-13-01,off\n2026-01-02,holiday\n2026-01-01,work\n2026-01-03\n"
    with pytest.raises(InvalidInputError) as caught:
        store.parse_calendar_file(text)
    assert caught.value.errors["file"] == [
        "line 2: '2026-13-01' is not a date such as 2027-01-01",
        "line 3: kind must be 'off' or 'work', got 'holiday'",
        "line 4: 2026-01-01 is already listed on line 1",
        "line 5: expected 'date,kind[,note]', got 1 fields",
    ]
    with pytest.raises(InvalidInputError, match="lists no days"):
        store.parse_calendar_file("# nothing\n")


def test_load_year_file_stores_notes(session: Session) -> None:
    store.load_year_file(session, SYSTEM, 2026, CSV, "test file")
    session.commit()
    assert session.get(CalendarDay, date(2026, 1, 4)).note == "元旦调休, 周日上班"  # type: ignore[union-attr]


@pytest.fixture
def official_2026(monkeypatch: pytest.MonkeyPatch) -> None:
    install_expression_functions()
    store.replace_calendar(make_calendar())
    monkeypatch.setattr(
        "app.workdays.functions.utc_now", lambda: datetime(2026, 2, 13, 10, tzinfo=CST)
    )


@pytest.mark.usefixtures("official_2026")
def test_expression_workdays_counts_from_now() -> None:
    due = compile_expression("workdays(2)").evaluate({})
    assert isinstance(due, WorkdayDateTime)
    assert due == datetime(2026, 2, 24, 10, tzinfo=CST) and due.tzinfo == UTC
    assert due.estimated is False
    assert compile_expression("workdays(2) > now()").evaluate({}) is False  # now() is real time


@pytest.mark.usefixtures("official_2026")
def test_expression_add_workdays_before_maturity() -> None:
    # 30 working days before Mon 16 Nov 2026 crosses Sat 10 Oct (working) and 1–7 Oct (off).
    expected = datetime(2026, 9, 29, tzinfo=CST)
    expression = compile_expression("add_workdays(maturity_date, -30)")
    for maturity in (date(2026, 11, 16), "2026-11-16", datetime(2026, 11, 16, tzinfo=CST)):
        due = expression.evaluate({"maturity_date": maturity})
        assert due == expected and due.estimated is False, maturity
    estimated = compile_expression("add_workdays('2027-03-01', 5)").evaluate({})
    assert estimated.estimated is True


@pytest.mark.usefixtures("official_2026")
def test_expression_workday_functions_reject_bad_arguments() -> None:
    with pytest.raises(ExpressionEvaluationError, match="whole number of working days"):
        compile_expression("workdays('2')").evaluate({})
    with pytest.raises(ExpressionEvaluationError, match="at most 1000"):
        compile_expression("workdays(5000)").evaluate({})
    with pytest.raises(ExpressionEvaluationError, match="expects a date"):
        compile_expression("add_workdays(12, 1)").evaluate({})
    with pytest.raises(ExpressionEvaluationError, match="not an ISO-8601 date-time"):
        compile_expression("add_workdays('soon', 1)").evaluate({})


def test_workday_datetime_keeps_flag_through_copies_and_arithmetic() -> None:
    due = WorkdayDateTime.of(datetime(2027, 1, 4, 1, tzinfo=UTC), True)
    for value in (
        copy.deepcopy(due),
        copy.copy(due),
        due + timedelta(hours=1),
        due - timedelta(days=1),
        due.astimezone(CST),
        due.replace(minute=5),
    ):
        assert isinstance(value, WorkdayDateTime) and value.estimated is True
    assert due - datetime(2027, 1, 4, tzinfo=UTC) == timedelta(hours=1)
    assert copy.deepcopy({"due": due})["due"] == due
