"""Alembic environment: one history for SQLite and Postgres, from govbot's own tables."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Engine
from sqlmodel import SQLModel

from govbot.storage import models  # noqa: F401  (registers the tables)
from govbot.storage.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _engine() -> Engine:
    existing = config.attributes.get("engine")
    if isinstance(existing, Engine):
        return existing
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "GOVBOT_DATABASE_URL", "sqlite:///govbot.db"
    )
    return make_engine(url)


def run_migrations_online() -> None:
    """Run migrations on a live connection (SQLite in batch mode for ALTERs)."""
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    if "engine" not in config.attributes:
        engine.dispose()


run_migrations_online()
