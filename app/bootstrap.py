"""Build the process-wide services (engine, sessions, job queue) from settings; no Flask."""

from __future__ import annotations

import logging

import app.models  # noqa: F401  (registers every table)
from app.config import Settings
from app.context import Services, install
from app.db import make_engine, make_sessionmaker
from app.people import cipher
from app.queue import JobQueue
from app.workdays.functions import install_expression_functions
from app.workflow import engine as workflow_engine


def build_services(settings: Settings) -> Services:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Refuse to start without the personal-data keys in production (ConfigError says which).
    cipher.install(cipher.from_settings(settings))
    engine = make_engine(settings.database_url, echo=settings.sql_echo)
    sessions = make_sessionmaker(engine)
    queue = JobQueue(settings.job_mode, settings.redis_url)
    queue.bind(sessions)
    services = Services(settings=settings, sessions=sessions, queue=queue)
    install(services)
    # workdays()/add_workdays() must exist before any model is translated or run.
    install_expression_functions()
    workflow_engine.BANK_TIMEZONE = settings.timezone
    return services
