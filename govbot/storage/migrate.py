"""Bringing a database to the newest schema with Alembic (the bot does it on start)."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine


def alembic_config(engine: Engine) -> Config:
    """Build an Alembic config bound to an engine, finding the migrations in the package."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("govbot.migrations")))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision`."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the schema to `revision`."""
    command.downgrade(alembic_config(engine), revision)


def current(engine: Engine) -> str | None:
    """Return the schema's current revision, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
