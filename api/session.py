"""One database session per request, closed at teardown; views commit once."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session


def db_session() -> Session:
    session: Session | None = getattr(g, "db_session", None)
    if session is None:
        session = current_app.extensions["corpflow"].sessions()
        g.db_session = session
    return session


def _close(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
