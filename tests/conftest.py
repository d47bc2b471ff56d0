"""Fixtures: a real database (PostgreSQL when it answers, else SQLite), the app, HTTP clients."""

from __future__ import annotations

import base64
import io
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.workdays.functions import install_expression_functions

# As every process does at start-up (app.bootstrap): models may use workdays()/add_workdays().
install_expression_functions()

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_TEST_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/corpflow_test"
REDIS_URL = os.environ.get("CORPFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Staff and the org tree they sit in survive between tests (seeded once per session).
IDENTITY_TABLES = {"app_user", "app_group", "membership", "org_unit", "org_placement"}
# smtp, webhook and outbox_settings fixtures: real servers on 127.0.0.1.
pytest_plugins = ["tests.sinks"]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _database_url(tmp: Path) -> str:
    configured = os.environ.get("CORPFLOW_TEST_DATABASE_URL")
    if configured:
        return configured
    if _answers(5432):
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname='corpflow_test'"))
            if exists.first() is None:
                conn.execute(text("CREATE DATABASE corpflow_test"))
        admin.dispose()
        return PG_TEST_URL
    if IN_CI:
        pytest.exit("CI=true but PostgreSQL does not answer on 127.0.0.1:5432", returncode=3)
    return f"sqlite:///{tmp / 'corpflow-test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh schema from the models; tests/test_migrations.py checks the migrations match."""
    import app.models  # noqa: F401
    from app.db import Base

    url = _database_url(tmp_path_factory.mktemp("db"))
    engine = create_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        Base.metadata.create_all(conn)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not _answers(6379):
        if IN_CI:
            pytest.exit("CI=true but Redis does not answer on 127.0.0.1:6379", returncode=3)
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    return REDIS_URL


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    from api import create_app
    from app.config import Settings
    from app.db import transaction
    from app.identity.users import seed_demo_staff

    settings = Settings(
        database_url=database_url, job_mode="eager", deploy_on_startup=False, auth_cache_seconds=300
    )
    flask_app = create_app(settings, TESTING=True)
    services = flask_app.extensions["corpflow"]
    with transaction(services.sessions) as session:
        seed_demo_staff(session)
    yield flask_app
    services.sessions.kw["bind"].dispose()


@pytest.fixture
def sessions(app: Flask) -> Iterator[sessionmaker[Session]]:
    factory: sessionmaker[Session] = app.extensions["corpflow"].sessions
    yield factory
    _wipe(factory)


def _wipe(factory: sessionmaker[Session]) -> None:
    from app.db import Base

    engine = factory.kw["bind"]
    tables = [t for t in Base.metadata.sorted_tables if t.name not in IDENTITY_TABLES]
    for attempt in range(5):
        try:
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    names = ", ".join(t.name for t in tables)
                    conn.execute(text(f"TRUNCATE {names} CASCADE"))
                else:
                    for table in reversed(tables):
                        conn.execute(table.delete())
            return
        except OperationalError:
            # A live server's dispatcher (client tests) may hold a row lock the TRUNCATE's
            # table locks collide with: PostgreSQL breaks the deadlock, the wipe tries again.
            if attempt == 4:
                raise
            time.sleep(0.2)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    s = sessions()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def client(app: Flask, sessions: sessionmaker[Session]) -> FlaskClient:
    return app.test_client()


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


STAFF = {
    "rm": basic("rm_li", "rm-pass"),
    "reviewer": basic("reviewer_wang", "reviewer-pass"),
    "risk": basic("risk_zhao", "risk-pass"),
    "branch": basic("branch_chen", "branch-pass"),
    "hq": basic("hq_liu", "hq-pass"),
    "committee": basic("committee_sun", "committee-pass"),
    "designer": basic("designer_zhou", "designer-pass"),
    "admin": basic("admin", "admin-pass"),
    "rm_wu": basic("rm_wu", "rm-pass"),
    "rm_ma": basic("rm_ma", "rm-pass"),
    "lead": basic("lead_zhang", "lead-pass"),
    "ecif": basic("ecif", "ecif-pass"),
}


@pytest.fixture
def staff() -> dict[str, dict[str, str]]:
    return STAFF


def deploy_files(client: FlaskClient, *paths: Path, who: str = "designer") -> Any:
    data = {f"file{i}": (io.BytesIO(p.read_bytes()), p.name) for i, p in enumerate(paths)}
    return client.post(
        "/api/v1/deployments", data=data, headers=STAFF[who], content_type="multipart/form-data"
    )


@pytest.fixture
def credit_models(client: FlaskClient) -> Any:
    response = deploy_files(
        client, ROOT / "bpmn" / "credit_application.bpmn", ROOT / "dmn" / "approval_authority.dmn"
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()
