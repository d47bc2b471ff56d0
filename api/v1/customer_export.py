"""The customer list as an .xlsx file: the search's filters, the import's Chinese headers."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.customer_schemas import customer_query
from api.v1.import_schemas import ExportArgs
from app.db import utcnow
from app.imports import export

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

blp = Blueprint(
    "customer_export",
    __name__,
    url_prefix="/api/v1/customers",
    description="Customer lists as Excel workbooks",
)


@blp.route("/export.xlsx")
class CustomerExport(MethodView):
    @blp.arguments(ExportArgs, location="query")
    @blp.response(200, content_type=XLSX)
    def get(self, args: dict[str, Any]) -> Response:
        """The customers I may see matching the search filters (same query parameters as
        GET /customers), at most 100,000 rows, with the Chinese headers the import reads: an
        exported file imports back as unchanged. Custom fields I may see are included."""
        session, actor = db_session(), current_actor()
        query = customer_query(args, request.args)
        # The rows go to openpyxl's write-only sheet (a temporary file); the zipped workbook,
        # a few MiB at the 100,000-row cap, is assembled in memory.
        out = io.BytesIO()
        count = export.customers_xlsx(session, actor, query, out)
        out.seek(0)
        response = send_file(
            out,
            mimetype=XLSX,
            as_attachment=True,
            download_name=f"customers-{utcnow():%Y%m%d}.xlsx",
        )
        response.headers["X-Total-Count"] = str(count)
        return response
