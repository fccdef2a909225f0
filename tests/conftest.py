"""Shared fixtures: a real SQLite file and a real Postgres database per test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from govbot.bootstrap import open_store
from govbot.storage.db import Store

POSTGRES_URL = os.environ.get(
    "GOVBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_unavailable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return (
            f"no Postgres at {make_url(POSTGRES_URL).render_as_string()}: {exc.__class__.__name__}"
        )
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """Return the admin URL of the test Postgres server, or skip (fail when it is required)."""
    reason = _postgres_unavailable()
    if reason is not None:
        if os.environ.get("GOVBOT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"GOVBOT_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    return POSTGRES_URL


def create_postgres_database(admin_url: str) -> tuple[str, str]:
    """Create a fresh, randomly named database; return its URL and name."""
    name = f"govbot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres_database(admin_url: str, name: str) -> None:
    """Drop a test database, closing whatever still holds it."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database: a SQLite file, then a fresh Postgres database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'govbot.db'}"
        return
    admin_url = request.getfixturevalue("postgres_server")
    url, name = create_postgres_database(admin_url)
    try:
        yield url
    finally:
        drop_postgres_database(admin_url, name)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """Yield a store migrated to the newest schema, on each database kind."""
    opened = open_store(database_url)
    try:
        yield opened
    finally:
        opened.dispose()
