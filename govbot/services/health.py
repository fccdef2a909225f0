"""Whether the store answers, for health checks."""

from __future__ import annotations

from sqlalchemy import text

from govbot.storage.db import Store


def check_database(store: Store) -> None:
    """Run a trivial query; raise if the database does not answer."""
    with store.reading() as conn:
        conn.execute(text("SELECT 1"))
