"""The bank's working-day calendar: official years (admin) and working-day arithmetic."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.calendar_schemas import (
    CalendarFileIn,
    CalendarYearIn,
    CalendarYearList,
    CalendarYearOut,
    WorkdaysArgs,
    WorkdaysOut,
)
from app.errors import InvalidInputError
from app.workdays import store
from app.workdays.calendar import WorkdayResult

MAX_FILE_BYTES = 256 * 1024

blp = Blueprint(
    "calendar",
    __name__,
    url_prefix="/api/v1/calendar",
    description="Chinese working days: official years loaded by the bank, other years estimated",
)


def _timezone() -> str:
    return str(current_app.extensions["corpflow"].settings.timezone)


def _year_body(year: int) -> store.YearStatus:
    """The stored year after a load: commit, refresh this process's calendar, read it back."""
    session = db_session()
    session.commit()
    store.refresh_calendar(session, _timezone())
    return next(y for y in store.list_years(session, timezone=_timezone()) if y.year == year)


@blp.route("/years")
class CalendarYears(MethodView):
    @blp.response(200, CalendarYearList)
    def get(self) -> dict[str, Any]:
        """Years from 2020 to next year (and any other loaded year): official or estimated."""
        current_actor()
        return {"items": store.list_years(db_session(), timezone=_timezone())}


@blp.route("/years/<int:year>")
class CalendarYearItem(MethodView):
    @blp.arguments(CalendarYearIn)
    @blp.response(200, CalendarYearOut)
    def put(self, body: dict[str, Any], year: int) -> store.YearStatus:
        """Load a year's official days off and adjusted working weekends (admin); replaces it."""
        store.load_year(
            db_session(),
            current_actor(),
            year,
            body["days_off"],
            body["working_days"],
            body["source"],
        )
        return _year_body(year)


@blp.route("/years/<int:year>/file")
class CalendarYearFile(MethodView):
    @blp.arguments(CalendarFileIn, location="files")
    @blp.response(200, CalendarYearOut)
    def post(self, files: dict[str, Any], year: int) -> store.YearStatus:
        """Load a year from a CSV file part `file` (admin); an optional form field `source`."""
        actor = current_actor()
        upload = files["file"]
        data = upload.stream.read(MAX_FILE_BYTES + 1)
        upload.close()
        if len(data) > MAX_FILE_BYTES:
            raise InvalidInputError(
                "the calendar file is too large",
                errors={"file": [f"larger than {MAX_FILE_BYTES // 1024} KiB"]},
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInputError(
                "the calendar file is not UTF-8 text", errors={"file": ["save it as UTF-8 CSV"]}
            ) from None
        source = request.form.get("source") or f"file {upload.filename or 'upload'}"
        store.load_year_file(db_session(), actor, year, text, source)
        return _year_body(year)


@blp.route("/workdays")
class Workdays(MethodView):
    @blp.arguments(WorkdaysArgs, location="query")
    @blp.response(200, WorkdaysOut)
    def get(self, args: dict[str, Any]) -> WorkdayResult:
        """The same local time n working days after (n < 0: before) `start`, and if estimated."""
        current_actor()
        return store.current_calendar().add_workdays(args["start"], args["n"])
