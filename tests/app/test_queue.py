"""After-commit dispatch: jobs leave only when the outermost transaction commits."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from app.queue import JobQueue, enqueue_after_commit


def _queue() -> tuple[sessionmaker[Session], list[tuple[str, tuple[str, ...]]]]:
    sent: list[tuple[str, tuple[str, ...]]] = []
    factory = sessionmaker(bind=create_engine("sqlite://"))
    queue = JobQueue("eager", runner=lambda name, ids: sent.append((name, ids)))
    queue.bind(factory)
    return factory, sent


def test_queue_sends_after_commit_not_on_savepoint_release() -> None:
    factory, sent = _queue()
    with factory() as session:
        session.execute(text("SELECT 1"))
        with session.begin_nested():
            enqueue_after_commit(session, "job", "a")
        assert sent == []  # released savepoint: the transaction can still roll back
        session.commit()
    assert sent == [("job", ("a",))]


def test_queue_keeps_jobs_across_a_savepoint_rollback_and_drops_them_on_rollback() -> None:
    factory, sent = _queue()
    with factory() as session:
        session.execute(text("SELECT 1"))
        enqueue_after_commit(session, "job", "kept")
        nested = session.begin_nested()
        nested.rollback()
        session.commit()
    assert sent == [("job", ("kept",))]
    with factory() as session:
        session.execute(text("SELECT 1"))
        enqueue_after_commit(session, "job", "dropped")
        session.rollback()
        session.commit()
    assert sent == [("job", ("kept",))]
