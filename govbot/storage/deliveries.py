"""Platform deliveries already handled: a redelivered event, click or command has one effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from govbot.storage import rows
from govbot.storage.models import Delivery

_TABLE = Delivery.__table__  # type: ignore[attr-defined]
# One statement claims a delivery: the key's unique index decides, also between two workers.
# RETURNING says whether a row went in (a driver's rowcount for this is not dependable).
_CLAIM = rows.Prepared(
    rows.PerDialect(
        sqlite_insert(_TABLE)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(_TABLE.c.key),
        postgresql=postgres_insert(_TABLE)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(_TABLE.c.key),
    )
)


def claim(session: Session, key: str, now: datetime) -> bool:
    """Record a delivery in the caller's transaction; False when it was handled before."""
    return _CLAIM.first(session, {"key": key, "created_at": now}) is not None
