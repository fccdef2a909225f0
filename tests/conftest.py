"""Shared fixtures: a real SQLite file and a real Postgres database per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from govbot.bootstrap import open_store
from govbot.storage.db import Store
from tests import postgres


@pytest.fixture(scope="session")
def postgres_server() -> None:
    """Skip unless the test Postgres answers (fail instead when CI requires it)."""
    reason = postgres.unavailable()
    if reason is not None:
        if os.environ.get("GOVBOT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"GOVBOT_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database: a SQLite file, then a fresh Postgres database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'govbot.db'}"
        return
    request.getfixturevalue("postgres_server")
    url = postgres.create_database()
    try:
        yield url
    finally:
        postgres.drop_database(url)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """Yield a store migrated to the newest schema, on each database kind."""
    opened = open_store(database_url)
    try:
        yield opened
    finally:
        opened.dispose()
