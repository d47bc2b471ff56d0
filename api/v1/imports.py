"""Spreadsheet imports of customers and relationships: dry run, apply, report, progress."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from api.auth import current_actor
from api.session import db_session
from api.v1.import_schemas import ApplyIn, ImportArgs, ImportFileIn, ImportFormIn, ImportOut
from app.imports import batches
from app.imports.batches import STATUSES

MAX_FILE_BYTES = 10 * 1024 * 1024

blp = Blueprint(
    "imports",
    __name__,
    url_prefix="/api/v1/imports",
    description="Excel (.xlsx) and CSV imports of customers and relationships",
)


def _body(batch_id: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    args = args or {"status": "error", "limit": 50, "offset": 0}
    session, actor = db_session(), current_actor()
    batch = batches.get(session, actor, batch_id)
    wanted = tuple(s.strip() for s in args["status"].split(",") if s.strip())
    statuses = () if "all" in wanted else tuple(s for s in wanted if s in STATUSES)
    rows, total = batches.rows(
        session, actor, batch.id, status=statuses, limit=args["limit"], offset=args["offset"]
    )
    body = {c.name: getattr(batch, c.name) for c in batch.__table__.columns}
    body.update(rows=rows, rows_total=total, limit=args["limit"], offset=args["offset"])
    body["stalled"] = batches.stalled(batch)
    return body


def _bad_rows_or(outcome: batches.Outcome) -> None:
    """Commit what the apply recorded (row results, status); 422 when it wrote nothing."""
    session = db_session()
    session.commit()
    if outcome.batch.status == "failed":
        raise batches.failure(session, outcome.batch)


@blp.route("")
class ImportList(MethodView):
    @blp.arguments(ImportFileIn, location="files")
    @blp.arguments(ImportFormIn, location="form")
    @blp.response(201, ImportOut)
    def post(self, files: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
        """Upload a file (`file`) of `kind` customers or relationships. A dry run (default)
        reports every row's problems and writes nothing; `dry_run=false` applies it too: all
        or nothing (422 with the report) unless `skip_bad_rows=true`. Files over 2,000 rows
        are applied by a background job: poll the import for `rows_done`."""
        upload = files["file"]
        data = upload.stream.read(MAX_FILE_BYTES + 1)
        upload.close()
        if len(data) > MAX_FILE_BYTES:
            raise RequestEntityTooLarge(
                f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB: split it"
            )
        outcome = batches.upload(
            db_session(),
            current_actor(),
            kind=form["kind"],
            file_name=upload.filename or "upload",
            data=data,
            dry_run=form["dry_run"],
            skip_bad_rows=form["skip_bad_rows"],
        )
        _bad_rows_or(outcome)
        return _body(outcome.batch.id)


@blp.route("/<batch_id>")
class ImportItem(MethodView):
    @blp.arguments(ImportArgs, location="query")
    @blp.response(200, ImportOut)
    def get(self, args: dict[str, Any], batch_id: str) -> dict[str, Any]:
        """Status, progress (`rows_done` of `total_rows`), counts by row result and a page of
        rows (`status=error` by default; `all` or a comma-separated list)."""
        return _body(batch_id, args)


@blp.route("/<batch_id>/apply")
class ImportApply(MethodView):
    @blp.arguments(ApplyIn)
    @blp.response(200, ImportOut)
    @blp.alt_response(202, schema=ImportOut, description="queued: a large file's job applies it")
    def post(self, body: dict[str, Any], batch_id: str) -> Any:
        """Apply a checked import, checking every row again against the store as it is now.
        All or nothing (422 with the report) unless `skip_bad_rows`; the uploader only."""
        outcome = batches.apply(
            db_session(), current_actor(), batch_id, skip_bad_rows=body["skip_bad_rows"]
        )
        _bad_rows_or(outcome)
        if outcome.queued:
            return _body(batch_id), 202
        return _body(batch_id)
