"""Bringing a database to the newest schema with Alembic (the bot does it on start)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from sqlalchemy import Engine, event, func, inspect, select

from govbot.storage.db import make_engine
from govbot.storage.models import AuditEntry

# The revision that creates the audit tables: undoing it drops the record.
AUDIT_REVISION = "0001"


class UnknownRevision(ValueError):
    """A revision the migration history does not contain."""


def alembic_config(engine: Engine) -> Config:
    """Build an Alembic config bound to an engine, finding the migrations in the package."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("govbot.migrations")))
    config.attributes["engine"] = engine
    return config


@contextmanager
def _migrating(engine: Engine) -> Iterator[Engine]:
    """Yield the engine to migrate with: on SQLite, one with foreign keys off."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        yield engine
        return
    # Batch mode rebuilds a table by dropping it, which a referencing row forbids while
    # foreign keys are on (SQLite's documented procedure turns them off for the rebuild).
    own = make_engine(engine.url.render_as_string(hide_password=False))

    @event.listens_for(own, "connect")
    def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    try:
        yield own
    finally:
        own.dispose()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision`."""
    with _migrating(engine) as migrating:
        command.upgrade(alembic_config(migrating), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the schema to `revision`."""
    with _migrating(engine) as migrating:
        command.downgrade(alembic_config(migrating), revision)


def current(engine: Engine) -> str | None:
    """Return the schema's current revision, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head(engine: Engine) -> str | None:
    """Return the newest revision this govbot knows."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def known_revisions(engine: Engine) -> list[str]:
    """List every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def revisions_undone(engine: Engine, target: str) -> list[str]:
    """List the revisions a downgrade to `target` would undo, newest first."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    now = current(engine)
    if now is None:
        return []
    try:
        return [r.revision for r in script.iterate_revisions(now, target)]
    except RevisionError as error:
        raise UnknownRevision(str(error).split(";")[0]) from None


def audit_entries(engine: Engine) -> int:
    """Count the audit entries stored, 0 when there is no audit table."""
    if not inspect(engine).has_table(AuditEntry.__tablename__):
        return 0
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one())
