"""Import batches and their rows: what was uploaded, each row's check result, apply progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class ImportBatch(Base):
    """One uploaded file: kind, who, status, counts and progress of the apply."""

    __tablename__ = "import_batch"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # customers | relationships
    file_name: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[str] = mapped_column(String(64), index=True)
    # uploaded -> checked -> applying -> applied | failed (a failed batch may be applied again)
    status: Mapped[str] = mapped_column(String(16), default="uploaded")
    total_rows: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    # Rows by check result: ok | update | unchanged | error.
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Column header -> field, and headers that map to nothing (ignored, reported).
    columns: Mapped[dict[str, Any]] = mapped_column(default=dict)
    unknown_columns: Mapped[list[Any]] = mapped_column(default=list)
    # skip_bad_rows and the like, as last asked for.
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by the job that took the apply: a second delivery of the job leaves it alone.
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ImportRow(Base):
    """One data row of a batch: its values as read, and its latest check result."""

    __tablename__ = "import_row"
    __table_args__ = (Index("ix_import_row_status", "batch_id", "status", "row_no"),)

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("import_batch.id", ondelete="CASCADE"), primary_key=True
    )
    # The row number the spreadsheet shows (the header is row 1).
    row_no: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # Values by field (a person's ID number only as mask and keyed hash).
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Cells that could not be read (a number column holding text ...), kept for re-checks.
    read_problems: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="error")
    problems: Mapped[dict[str, Any]] = mapped_column(default=dict)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    changed: Mapped[list[Any]] = mapped_column(default=list)
    # The customer (or relationship) the row created or matched, once known.
    target_id: Mapped[str | None] = mapped_column(String(36))
