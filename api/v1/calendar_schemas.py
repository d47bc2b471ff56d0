"""marshmallow schemas of the working-day calendar API."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate

from app.workdays.calendar import MAX_WORKDAYS


class CalendarYearIn(Schema):
    class Meta:
        unknown = "raise"

    days_off = fields.List(fields.Date(), required=True, validate=validate.Length(1, 366))
    working_days = fields.List(fields.Date(), load_default=list, validate=validate.Length(0, 120))
    source = fields.String(required=True, validate=validate.Length(1, 1000))


class CalendarFileIn(Schema):
    file = Upload(
        required=True, metadata={"description": "UTF-8 CSV lines date,kind[,note]; kind off|work"}
    )


class CalendarYearOut(Schema):
    year = fields.Integer()
    status = fields.String(metadata={"description": "official (loaded) or estimated"})
    source = fields.String(allow_none=True)
    loaded_by = fields.String(allow_none=True)
    loaded_at = fields.DateTime(allow_none=True)
    days_off_count = fields.Integer(allow_none=True, attribute="days_off")
    working_days_count = fields.Integer(allow_none=True, attribute="working_days")


class CalendarYearList(Schema):
    items = fields.List(fields.Nested(CalendarYearOut))


class WorkdaysArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    start = fields.DateTime(
        required=True, metadata={"description": "ISO date-time; without an offset it is UTC"}
    )
    n = fields.Integer(required=True, validate=validate.Range(-MAX_WORKDAYS, MAX_WORKDAYS))


class WorkdaysOut(Schema):
    due = fields.DateTime()
    estimated = fields.Boolean()
    years_estimated = fields.List(fields.Integer())
