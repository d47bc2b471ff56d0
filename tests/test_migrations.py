"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Index, create_engine, text
from sqlalchemy.engine import make_url

import app.models  # noqa: F401
from app.db import Base

ROOT = Path(__file__).resolve().parent.parent


def _upgrade_compare_downgrade(url: str) -> list[Any]:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    command.downgrade(config, "base")
    return list(diff)


def _postgresql_only(item: Any) -> bool:
    """An index the models create only on PostgreSQL (trigram and JSONB GIN indexes)."""
    if item[0] not in ("add_index", "remove_index") or not isinstance(item[1], Index):
        return False
    table = Base.metadata.tables.get(item[1].table.name)
    declared = [i for i in (table.indexes if table is not None else ()) if i.name == item[1].name]
    return any(i._ddl_if is not None and i._ddl_if.dialect == "postgresql" for i in declared)


# SQLite cannot reflect expression indexes; the PostgreSQL-only ones are not built there anyway.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrations_upgrade_to_the_models_schema(tmp_path: Path) -> None:
    diff = _upgrade_compare_downgrade(f"sqlite:///{tmp_path / 'migrated.db'}")
    assert [item for item in diff if not _postgresql_only(item)] == []


@pytest.fixture
def scratch_postgresql(database_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL-only: the test database is SQLite")
    name = f"corpflow_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_build_the_postgresql_schema_with_its_own_indexes(
    scratch_postgresql: str,
) -> None:
    assert _upgrade_compare_downgrade(scratch_postgresql) == []
