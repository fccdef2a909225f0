"""Engines and units of work for SQLite (default) and Postgres."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlmodel import Session

from govbot.storage.rows import READONLY

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """Point plain Postgres URLs at psycopg 3, the driver govbot ships with."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """Create an engine with the pragmas and locking the audit chain relies on."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front, so two writers serialise on the
        # chain head instead of failing on a lock upgrade; readers stay deferred.
        readonly = conn.get_execution_options().get("govbot_readonly", False)
        begin = "BEGIN" if readonly else "BEGIN IMMEDIATE"
        if conn.engine.echo or conn.dispatch.before_cursor_execute:
            conn.exec_driver_sql(begin)  # seen by whatever logs or counts statements
        else:
            # Every command begins one: straight to the driver, as the COMMIT goes.
            conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]


class Store:
    """The database: hands out units of work (one transaction each)."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        options: dict[str, Any] = {"govbot_readonly": True}
        if self.dialect == "postgresql":
            options["postgresql_readonly"] = True
        self._readonly = self.engine.execution_options(**options)
        self._writers = threading.RLock()

    @property
    def dialect(self) -> str:
        """Name the database kind: `sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self, *, readonly: bool = False) -> Iterator[Session]:
        """Yield a session whose work is rolled back unless the use case commits it.

        A read-only unit (`readonly=True`) opens a deferred transaction on SQLite, which
        neither waits for nor blocks the writer, and a READ ONLY one on Postgres.
        """
        engine = self._readonly if readonly else self.engine
        # SQLite has one writer at a time: threads of this process queue here in order,
        # rather than in SQLite's busy handler, which polls with sleeps of up to 100 ms.
        # (Writers in other processes still meet at SQLite's lock and its busy timeout.)
        queue = self._writers if self.dialect == "sqlite" and not readonly else nullcontext()
        # Closing the session ends an uncommitted transaction with a rollback.
        with queue, Session(engine, expire_on_commit=False) as session:
            if readonly:
                session.info[READONLY] = True
            yield session

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """Yield a read-only connection that never blocks writers on SQLite."""
        with self._readonly.connect() as conn:
            yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
