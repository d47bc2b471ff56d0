"""Import use cases: upload and check (the dry run), apply all-or-nothing or skipping bad
rows (inline, or by a job with progress for large files), the report."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.customers import custom_fields
from app.db import transaction, utcnow
from app.errors import (
    ConflictError,
    DomainError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from app.identity.actor import Actor
from app.identity.models import User
from app.imports import customer_rows, customer_writes, files, headers, relationship_rows, values
from app.imports.customer_rows import RowCheck
from app.imports.models import ImportBatch, ImportRow
from app.queue import enqueue_after_commit
from app.relations import links

log = logging.getLogger(__name__)

IMPORTERS = {
    "customers": ("relationship_manager", "relationship_manager_lead", "branch_manager", "admin"),
    "relationships": links.WRITERS,
}
# Larger files are applied by the apply_import job, which records progress as it goes.
INLINE_MAX_ROWS = 2000
# An apply that has shown no sign of life (progress, start) for this long, and whose
# transaction no longer holds the batch's lock, is dead (its worker killed mid-apply: its
# transaction rolled back, nothing of it was written) and may be applied again. Progress is
# recorded every CHUNK_ROWS written rows. (rq's job timeout, 300 s, ends longer applies first.)
STALLED_AFTER = timedelta(minutes=10)
CHUNK_ROWS = 500
STATUSES = ("ok", "update", "unchanged", "error")
REPORTED_ROWS = 50

Row = tuple[int, dict[str, Any], dict[str, str]]


@dataclass
class Outcome:
    batch: ImportBatch
    queued: bool = False


def _may_import(actor: Actor, kind: str) -> None:
    if kind not in IMPORTERS:
        raise InvalidInputError("unknown kind", errors={"kind": f"one of {', '.join(IMPORTERS)}"})
    if not actor.in_group(*IMPORTERS[kind]):
        who = (
            "relationship managers, their team leads, branch managers and administrators"
            if kind == "customers"
            else "relationship managers and administrators"
        )
        raise PermissionDeniedError(f"only {who} may import {kind}")


def upload(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    file_name: str,
    data: bytes,
    dry_run: bool = True,
    skip_bad_rows: bool = False,
) -> Outcome:
    """Read and check the file (nothing is written to the store); apply it unless a dry run."""
    _may_import(actor, kind)
    table = files.read(file_name, data, kind)
    fields = {}
    if kind == "customers":
        fields = {
            k: f
            for k, f in custom_fields.active(session).items()
            if custom_fields.may_see(f, actor)
        }
    columns, unknown = headers.map_columns(kind, table.headers, fields)
    if not table.rows:
        raise InvalidInputError(
            "the file has no data rows", errors={"file": "only a header row was found"}
        )
    batch = ImportBatch(
        id=str(uuid.uuid4()),
        kind=kind,
        file_name=(file_name or "upload")[:255],
        uploaded_by=actor.user_id,
        status="uploaded",
        total_rows=len(table.rows),
        rows_done=0,
        counts={},
        columns={c.header: c.field for c in columns if c is not None},
        unknown_columns=unknown,
        options={"skip_bad_rows": skip_bad_rows, "encoding": table.encoding},
    )
    session.add(batch)
    session.flush()
    rows: list[Row] = []
    for row_no, cells in table.rows:
        read, problems = values.row(columns, cells, fields)
        if kind == "relationships":
            read = relationship_rows.seal(read)
        rows.append((row_no, read, problems))
    for start in range(0, len(rows), CHUNK_ROWS):
        session.execute(
            insert(ImportRow),
            [
                {"batch_id": batch.id, "row_no": n, "data": d, "read_problems": p}
                for n, d, p in rows[start : start + CHUNK_ROWS]
            ],
        )
    results = _check(session, actor, kind, rows)
    _save(session, batch, results)
    batch.status = "checked"
    session.flush()
    if dry_run:
        return Outcome(batch)
    return apply(session, actor, batch.id, skip_bad_rows=skip_bad_rows)


def _check(session: Session, actor: Actor, kind: str, rows: Sequence[Row]) -> list[RowCheck]:
    if kind == "customers":
        return customer_rows.check(session, actor, rows, lock=False)
    # Relationship rules need the rows recorded (a holding may not pass 100 % with the rows
    # before it): record them all in a savepoint and roll it back.
    trial = session.begin_nested()
    try:
        return relationship_rows.evaluate(session, actor, rows)
    finally:
        trial.rollback()


def get(session: Session, actor: Actor, batch_id: str, *, lock: bool = False) -> ImportBatch:
    """The batch if `actor` uploaded it (or is an administrator); 404 otherwise."""
    batch = session.get(ImportBatch, batch_id, with_for_update=lock, populate_existing=lock)
    if batch is None or (batch.uploaded_by != actor.user_id and not actor.is_admin):
        raise NotFoundError(f"import {batch_id} not found")
    return batch


def rows(
    session: Session,
    actor: Actor,
    batch_id: str,
    *,
    status: tuple[str, ...],
    limit: int,
    offset: int,
) -> tuple[list[ImportRow], int]:
    """The batch's rows with the given check results, in file order."""
    batch = get(session, actor, batch_id)
    query = select(ImportRow).where(ImportRow.batch_id == batch.id)
    if status:
        query = query.where(ImportRow.status.in_(status))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(query.order_by(ImportRow.row_no).limit(limit).offset(offset))
    return list(page), total


def apply(session: Session, actor: Actor, batch_id: str, *, skip_bad_rows: bool) -> Outcome:
    """Check the rows again against the store as it is now and write them.

    All or nothing unless `skip_bad_rows`: one bad row and nothing is written (status
    failed; the view answers 422 with the report). Files over INLINE_MAX_ROWS rows go to the
    apply_import job (status applying, progress in rows_done).
    """
    batch = get(session, actor, batch_id, lock=True)
    _may_import(actor, batch.kind)
    if batch.uploaded_by != actor.user_id:
        raise PermissionDeniedError("an import is applied by the user who uploaded it")
    if batch.status == "applied" or (
        batch.status == "applying" and not (stalled(batch) and _nobody_applying(session, batch))
    ):
        raise ConflictError(f"import {batch.id} is {batch.status}", code=f"import_{batch.status}")
    if batch.status == "applying":
        log.warning("import %s: apply stalled since %s; applying again", batch.id, batch.updated_at)
    batch.options = {**batch.options, "skip_bad_rows": skip_bad_rows}
    batch.rows_done, batch.message, batch.started_at, batch.finished_at = 0, None, None, None
    if batch.total_rows > INLINE_MAX_ROWS:
        batch.status = "applying"
        batch.updated_at = utcnow()
        session.flush()
        enqueue_after_commit(session, "apply_import", batch.id)
        return Outcome(batch, queued=True)
    _run(session, actor, batch, None)
    return Outcome(batch)


def stalled(batch: ImportBatch) -> bool:
    """An apply whose job has not been heard of for STALLED_AFTER (see there)."""
    return batch.status == "applying" and _aware(batch.updated_at) < utcnow() - STALLED_AFTER


# Held by the transaction that applies a batch (PostgreSQL), so a live apply can be told from
# a dead one however long it goes without reporting progress.
_APPLYING = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
_NOBODY_APPLYING = text("SELECT pg_try_advisory_xact_lock(hashtext(:key))")


def _apply_lock(session: Session, batch: ImportBatch) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_APPLYING, {"key": f"import:{batch.id}"})


def _nobody_applying(session: Session, batch: ImportBatch) -> bool:
    """No transaction is applying the batch (PostgreSQL: its lock is free, and is now ours
    until this transaction ends). SQLite runs one writer at a time: a live apply would hold
    the database, so a stalled batch there is a dead one."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(_NOBODY_APPLYING, {"key": f"import:{batch.id}"}))


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive UTC datetimes.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _run(
    session: Session, actor: Actor, batch: ImportBatch, progress: Callable[[int], None] | None
) -> None:
    """Check and write in one transaction; `batch` itself is changed only at the end, so a
    progress writer on another connection never waits for this transaction's row lock."""
    _apply_lock(session, batch)
    skip = bool(batch.options.get("skip_bad_rows"))
    loaded: list[Row] = [
        (r.row_no, dict(r.data), dict(r.read_problems))
        for r in session.scalars(
            select(ImportRow).where(ImportRow.batch_id == batch.id).order_by(ImportRow.row_no)
        )
    ]
    if batch.kind == "customers":
        results = customer_rows.check(session, actor, loaded, lock=True)
        bad = sum(r.status == "error" for r in results)
        if not bad or skip:
            _write_customers(session, actor, results, progress)
    else:
        attempt = session.begin_nested()
        results = relationship_rows.evaluate(
            session, actor, loaded, _every(CHUNK_ROWS, len(loaded), progress)
        )
        bad = sum(r.status == "error" for r in results)
        if bad and not skip:
            attempt.rollback()
        else:
            attempt.commit()
    _save(session, batch, results)
    now = utcnow()
    if bad and not skip:
        batch.status, batch.rows_done = "failed", 0
        batch.message = f"{bad} of {batch.total_rows} rows have problems; nothing was written"
    else:
        batch.status, batch.rows_done = "applied", batch.total_rows
        batch.message = f"{bad} bad rows skipped" if bad else None
    batch.updated_at = batch.finished_at = now
    session.flush()


def _every(step: int, total: int, report: Callable[[int], None] | None) -> Callable[[int], None]:
    def progress(done: int) -> None:
        if report is not None and (done % step == 0 or done == total):
            report(done)

    return progress


def _write_customers(
    session: Session,
    actor: Actor,
    results: list[RowCheck],
    progress: Callable[[int], None] | None,
) -> None:
    for start in range(0, len(results), CHUNK_ROWS):
        chunk = results[start : start + CHUNK_ROWS]
        try:
            with session.begin_nested():
                customer_writes.write(session, chunk, actor.user_id)
        except IntegrityError:
            raise ConflictError(
                "another change created a customer with a USCC of this file meanwhile; "
                "nothing was written: check the file again",
                code="import_conflict",
            ) from None
        if progress is not None:
            progress(start + len(chunk))


def _save(session: Session, batch: ImportBatch, results: Sequence[RowCheck]) -> None:
    """Each row's latest result, in one executemany per chunk; counts on the batch."""
    table = ImportRow.__table__
    statement = (
        update(table)  # type: ignore[arg-type]
        .where(table.c.batch_id == bindparam("_batch"), table.c.row_no == bindparam("_row"))
        .values(
            status=bindparam("status"),
            problems=bindparam("problems"),
            warnings=bindparam("warnings"),
            changed=bindparam("changed"),
            target_id=bindparam("target_id"),
        )
    )
    payload = [
        {
            "_batch": batch.id,
            "_row": r.row_no,
            "status": r.status,
            "problems": r.problems,
            "warnings": r.warnings,
            "changed": r.changed,
            "target_id": r.target_id,
        }
        for r in results
    ]
    for start in range(0, len(payload), CHUNK_ROWS):
        session.execute(statement, payload[start : start + CHUNK_ROWS])
    counts = dict.fromkeys(STATUSES, 0)
    for r in results:
        counts[r.status] += 1
    batch.counts = counts


def failure(session: Session, batch: ImportBatch) -> InvalidInputError:
    """The 422 for an all-or-nothing apply that found bad rows: the first rows' problems."""
    bad = session.scalars(
        select(ImportRow)
        .where(ImportRow.batch_id == batch.id, ImportRow.status == "error")
        .order_by(ImportRow.row_no)
        .limit(REPORTED_ROWS)
    )
    errors: dict[str, Any] = {
        f"row {r.row_no}": {k: str(v) for k, v in r.problems.items()} for r in bad
    }
    return InvalidInputError(
        f"{batch.message} (import {batch.id}; every row's problems: GET the import with "
        "status=error; apply with skip_bad_rows=true to write only the good rows)",
        errors=errors,
        code="import_has_bad_rows",
    )


def run_queued(
    sessions: sessionmaker[Session],
    batch_id: str,
    observer: Callable[[int], None] | None = None,
) -> None:
    """The apply_import job: take the batch (once), apply it, commit progress as it goes.

    `observer(rows_done)` is called after each committed progress step (tests).
    """
    with transaction(sessions) as session:
        taken = session.execute(
            update(ImportBatch)
            .where(
                ImportBatch.id == batch_id,
                ImportBatch.status == "applying",
                ImportBatch.started_at.is_(None),
            )
            .values(started_at=utcnow(), updated_at=utcnow())
        )
    if not getattr(taken, "rowcount", 0):
        return  # applied, failed, or taken by another delivery of this job
    try:
        with transaction(sessions) as session:
            batch = session.get(ImportBatch, batch_id)
            assert batch is not None
            _run(
                session,
                _actor(session, batch.uploaded_by),
                batch,
                _progress(sessions, batch_id, observer),
            )
    except Exception as exc:
        if not isinstance(exc, DomainError):
            log.exception("import %s failed", batch_id)
        message = exc.message if isinstance(exc, DomainError) else "unexpected error; see the log"
        with transaction(sessions) as session:
            session.execute(
                update(ImportBatch)
                .where(ImportBatch.id == batch_id)
                .values(status="failed", message=message[:500], rows_done=0, finished_at=utcnow())
            )


def _actor(session: Session, user_id: str) -> Actor:
    """The uploader as sign-in would build them now: their groups and org scope today."""
    from app.org.units import scope_of

    user = session.get(User, user_id)
    if user is None or not user.active:
        raise PermissionDeniedError(f"the uploader {user_id} may no longer sign in")
    return Actor(user.id, frozenset(user.group_ids), scope_of(session, user.id))


def _progress(
    sessions: sessionmaker[Session], batch_id: str, observer: Callable[[int], None] | None
) -> Callable[[int], None] | None:
    """Commit rows_done on its own connection, so GET shows it while the apply runs.

    SQLite has one writer at a time: there the apply reports only its end.
    """
    if sessions.kw["bind"].dialect.name != "postgresql":
        return None

    def report(done: int) -> None:
        try:
            with transaction(sessions) as side:
                side.execute(text("SET LOCAL lock_timeout = '2s'"))
                side.execute(
                    update(ImportBatch)
                    .where(ImportBatch.id == batch_id)
                    .values(rows_done=done, updated_at=utcnow())
                )
        except OperationalError:
            log.warning("import %s: progress not recorded", batch_id)
            return
        if observer is not None:
            observer(done)

    return report
