"""Closing a session: a read-only transaction keeps the connection's prepared statements, a
transaction that wrote is rolled back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, event, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_sessionmaker
from app.identity.models import User
from app.queue import enqueue_after_commit


@pytest.fixture
def one_connection(sessions: sessionmaker[Session]) -> Iterator[sessionmaker[Session]]:
    bind = sessions.kw["bind"]
    if bind.dialect.name != "postgresql":
        pytest.skip("psycopg's statement cache: PostgreSQL")
    engine: Engine = create_engine(bind.url, pool_size=1, max_overflow=0)
    yield make_sessionmaker(engine)
    engine.dispose()


def _prepared(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(text("SELECT statement FROM pg_prepared_statements")))


def test_read_only_sessions_keep_prepared_statements(
    one_connection: sessionmaker[Session],
) -> None:
    query = select(func.count()).select_from(User).where(User.active.is_(True))
    for _ in range(7):  # psycopg prepares a statement on its sixth run on a connection
        with one_connection() as session:
            session.scalar(query)
    assert any("FROM app_user" in statement for statement in _prepared(one_connection))


def test_a_session_that_wrote_is_rolled_back_on_close(
    one_connection: sessionmaker[Session],
) -> None:
    with one_connection() as session:
        session.add(
            User(id="close_flushed", display_name="flushed, never committed", password_hash="-")
        )
        session.flush()
    with one_connection() as session:
        session.add(
            User(id="close_pending", display_name="pending, never flushed", password_hash="-")
        )
    with one_connection() as session:  # a Core statement, no ORM flush
        session.execute(
            insert(User).values(id="close_core", display_name="core", password_hash="-")
        )
    with one_connection() as session:
        found = session.scalars(
            select(User.id).where(User.id.in_(["close_flushed", "close_pending", "close_core"]))
        ).all()
    assert found == []


def test_a_failed_transaction_is_rolled_back_on_close(
    one_connection: sessionmaker[Session],
) -> None:
    session = one_connection()
    with pytest.raises(Exception, match="division by zero"):
        session.execute(text("SELECT 1 / 0"))
    session.close()  # the check cannot run in a failed transaction: close() rolls back
    with one_connection() as session:
        assert session.scalar(text("SELECT 1")) == 1


def test_a_read_only_session_commits_on_close_unless_jobs_wait(
    one_connection: sessionmaker[Session],
) -> None:
    def closed_with_commit(pending_job: bool) -> bool:
        commits: list[bool] = []
        session = one_connection()
        event.listen(session, "after_commit", lambda _s: commits.append(True))
        session.scalar(select(func.count()).select_from(User))
        if pending_job:  # a commit would send it: the session rolls back instead
            enqueue_after_commit(session, "send_notification", "never-sent")
        session.close()
        return bool(commits)

    assert closed_with_commit(pending_job=False)
    assert not closed_with_commit(pending_job=True)
