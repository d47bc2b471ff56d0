"""Engine, sessionmaker, declarative Base and the JSON column type used for state."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Select,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from app.sessions import CorpflowSession

# JSONB on PostgreSQL (indexable, compact), plain JSON elsewhere.
JsonType = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
    }


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if path in ("", ":memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets readers run beside the single writer; foreign keys are off by default.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # BEGIN IMMEDIATE takes the write lock up front: SQLite's stand-in for FOR UPDATE.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_recycle=1800)


def ping(session: Session) -> None:
    """Raise if the database does not answer (readiness probe)."""
    session.execute(text("SELECT 1"))


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, class_=CorpflowSession, expire_on_commit=False, autoflush=True)


def closed_in_session(
    session: Session, model: type[Any], ids: Collection[Any], open_status: str
) -> bool:
    """Whether each of these rows is in the session with a status other than `open_status`.

    No SQL: a projection row that is not open in memory was closed by this transaction (to be
    flushed) or read closed, and closed rows never reopen; either way nothing is left to close.
    """
    for row_id in ids:
        row = session.identity_map.get(session.identity_key(model, row_id))
        status = inspect(row).dict.get("status") if row is not None else None
        if status is None or status == open_status:
            return False
    return True


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session, one commit: used by jobs, CLI commands and scripts."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def equal_to(query: _Query, pairs: Iterable[tuple[Any, Any]]) -> _Query:
    """Add `column == value` for every (column, value) whose value is given (None = no filter)."""
    for column, value in pairs:
        if value is not None:
            query = query.where(column == value)
    return query


def one_page(
    session: Session,
    query: _Query,
    column: Any,
    *,
    descending: bool,
    tie: Any,
    limit: int,
    offset: int,
    nulls_last: bool = False,
) -> tuple[_Query, int]:
    """The total of `query`, and `query` sorted by `column` (then `tie`) and cut to one page."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    key = column.desc() if descending else column.asc()
    if nulls_last:
        key = key.nulls_last()
    return query.order_by(key, tie).limit(limit).offset(offset), total
