"""Create and drop throwaway Postgres databases for tests and `scripts/check`.

python -m tests.postgres create        prints the URL of a new empty database
python -m tests.postgres drop URL      drops it
"""

from __future__ import annotations

import os
import sys
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVER_URL = os.environ.get(
    "GOVBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def unavailable() -> str | None:
    """Say why the test server cannot be reached, or None when it answers."""
    try:
        engine = create_engine(SERVER_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        where = make_url(SERVER_URL).render_as_string()
        return f"no Postgres at {where}: {exc.__class__.__name__}"
    return None


def create_database() -> str:
    """Create a fresh, randomly named database and return its URL."""
    name = f"govbot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a test database, closing whatever still holds it."""
    name = make_url(url).database
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    if sys.argv[1:2] == ["create"]:
        reason = unavailable()
        if reason:
            sys.exit(reason)
        print(create_database())
    elif sys.argv[1:2] == ["drop"] and len(sys.argv) == 3:
        drop_database(sys.argv[2])
    else:
        sys.exit(__doc__)
