"""The ORM session corpflow uses: a read-only transaction ends with COMMIT, not ROLLBACK.

psycopg prepares a statement once it has run five times on a connection (no parse or plan
after that), but forgets every prepared statement when the connection rolls back: a
rollback may have undone DDL they depend on. A request that only reads ends its
transaction by closing its session, which rolls back; so the queries of read paths (the
360 view, task lists, searches) were parsed and planned anew on every call. Closing a
session whose transaction wrote nothing now commits instead: the same outcome (there is
nothing to keep), and the connection keeps its prepared statements. A transaction that
wrote anything, or has unflushed changes, or jobs waiting for its commit, or failed, is
rolled back as before.

"Wrote nothing" is PostgreSQL's own test: no transaction id was assigned. Every write (ORM
flush, Core statement, raw COPY, SELECT ... FOR UPDATE) assigns one; a NOTIFY or a plain
(session-level) SET would not, and would be kept by the COMMIT: corpflow uses neither. psycopg
also forgets its statements on ROLLBACK TO SAVEPOINT, which stays as it is.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.queue import has_pending_jobs

# NULL until the transaction writes something (PostgreSQL assigns the id on first write).
_WROTE_NOTHING = text("SELECT pg_current_xact_id_if_assigned() IS NULL")


class CorpflowSession(Session):
    def close(self) -> None:
        if self._wrote_nothing():
            # A failed COMMIT (the connection broke) lost nothing: close() cleans up.
            with contextlib.suppress(SQLAlchemyError):
                self.commit()
        super().close()

    def _wrote_nothing(self) -> bool:
        if not self.in_transaction() or self.new or self.dirty or self.deleted:
            return False
        if has_pending_jobs(self):
            return False  # a commit would send them
        try:
            if self.get_bind().dialect.name != "postgresql":
                return False  # only psycopg discards its statement cache on rollback
            with self.no_autoflush:
                return bool(self.scalar(_WROTE_NOTHING))
        except SQLAlchemyError:
            return False  # e.g. the transaction failed: close() rolls it back
