"""Small facts the bot keeps about itself between runs (such as the hash of synced commands)."""

from __future__ import annotations

from datetime import datetime

from govbot.storage.db import Store
from govbot.storage.models import BotState


def read_state(store: Store, key: str) -> str | None:
    """Return the value kept under `key`, or None when nothing is kept."""
    with store.unit_of_work() as session:
        row = session.get(BotState, key)
        return None if row is None else row.value


def write_state(store: Store, key: str, value: str, now: datetime) -> None:
    """Keep `value` under `key`, replacing what was there."""
    with store.unit_of_work() as session:
        row = session.get(BotState, key)
        if row is None:
            row = BotState(key=key, value=value, updated_at=now)
        else:
            row.value = value
            row.updated_at = now
        session.add(row)
        session.commit()
