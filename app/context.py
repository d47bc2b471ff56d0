"""The process-wide services a job or command needs: settings, sessions, queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings

if TYPE_CHECKING:
    from app.queue import JobQueue


@dataclass
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    queue: JobQueue


_current: Services | None = None


def install(services: Services) -> None:
    global _current
    _current = services


def current() -> Services:
    if _current is None:
        raise RuntimeError("corpflow services are not configured; call create_app() first")
    return _current
