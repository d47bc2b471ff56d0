"""marshmallow schemas of spreadsheet imports and the customer export."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate

from api.v1.customer_schemas import CustomerArgs
from api.v1.schemas import PageArgs, StrictSchema
from app.imports.headers import KINDS

_ROW_STATUSES = "ok (new), update, unchanged, error"


class ImportFileIn(Schema):
    file = Upload(required=True, metadata={"description": ".xlsx, or .csv in UTF-8 or GB18030"})


class ImportFormIn(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    dry_run = fields.Boolean(
        load_default=True, metadata={"description": "check only (default); false applies too"}
    )
    skip_bad_rows = fields.Boolean(
        load_default=False, metadata={"description": "write the good rows, report the bad"}
    )


class ApplyIn(StrictSchema):
    skip_bad_rows = fields.Boolean(load_default=False)


class ImportArgs(PageArgs):
    status = fields.String(
        load_default="error",
        metadata={"description": f"rows to list, comma-separated: {_ROW_STATUSES}, or all"},
    )


class ImportRowOut(Schema):
    row = fields.Integer(attribute="row_no")
    status = fields.String(metadata={"description": _ROW_STATUSES})
    problems = fields.Dict(keys=fields.String(), values=fields.String())
    warnings = fields.List(fields.String())
    changed = fields.List(fields.String())
    target_id = fields.String(allow_none=True)


class ProgressOut(Schema):
    rows_done = fields.Integer()
    total_rows = fields.Integer()


class ImportOut(Schema):
    id = fields.String()
    kind = fields.String()
    file_name = fields.String()
    uploaded_by = fields.String()
    status = fields.String(metadata={"description": "checked, applying, applied or failed"})
    stalled = fields.Boolean(
        metadata={
            "description": "applying, but its job has shown no progress for 10 minutes: "
            "probably dead. POST apply again: it is accepted once no transaction applies the "
            "batch any more (an apply writes all in one transaction, so a dead one wrote nothing)"
        }
    )
    total_rows = fields.Integer()
    rows_done = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    columns = fields.Dict(keys=fields.String(), values=fields.String())
    unknown_columns = fields.List(fields.String())
    options = fields.Dict()
    message = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    rows = fields.List(fields.Nested(ImportRowOut))
    rows_total = fields.Integer(metadata={"description": "rows with the asked statuses"})
    limit = fields.Integer()
    offset = fields.Integer()


class ExportArgs(CustomerArgs):
    class Meta:
        unknown = EXCLUDE
        exclude = ("limit", "offset")
