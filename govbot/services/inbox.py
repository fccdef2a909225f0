"""The command inbox: platform commands acknowledged before they ran, durable until run once.

A front end that acknowledges a command it has not finished writes it here first. A worker
claims a row with a lease (a conditional update, so two workers never both hold it); a dead
worker's lease runs out and another takes the row over. Running a command twice is harmless:
its own delivery key makes the second run a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from govbot.storage.db import Store
from govbot.storage.models import InboxCommand


@dataclass(frozen=True)
class InboxItem:
    """One claimed command: its delivery key and what the front end needs to run it."""

    key: str
    platform: str
    payload: str
    attempts: int


def enqueue(
    store: Store, platform: str, key: str, payload: str, now: datetime, lease: timedelta
) -> bool:
    """Record a command, leased to its writer for `lease`; False when the key is already in."""
    with store.unit_of_work() as session:
        session.add(
            InboxCommand(
                key=key,
                platform=platform,
                payload=payload,
                received_at=now,
                lease_until=now + lease,
                attempts=1,
            )
        )
        try:
            session.commit()
        except IntegrityError:
            return False  # a redelivery of a command already in the inbox
        return True


def claim(store: Store, platform: str, now: datetime, lease: timedelta) -> InboxItem | None:
    """Take the oldest command nobody holds (never run, or its lease ran out) for `lease`."""
    with store.unit_of_work() as session:
        free = (
            col(InboxCommand.platform) == platform,
            col(InboxCommand.done).is_(False),
            or_(col(InboxCommand.lease_until).is_(None), col(InboxCommand.lease_until) < now),
        )
        candidates = session.exec(
            select(InboxCommand.id).where(*free).order_by(col(InboxCommand.id)).limit(8)
        ).all()
        for row_id in candidates:
            # Another worker may have taken it since the select: only a changed row is ours.
            taken = session.connection().execute(
                update(InboxCommand)
                .where(col(InboxCommand.id) == row_id, *free)
                .values(lease_until=now + lease, attempts=InboxCommand.attempts + 1)
            )
            if taken.rowcount == 1:
                row = session.get(InboxCommand, row_id)
                assert row is not None
                session.commit()
                return InboxItem(row.key, row.platform, row.payload, row.attempts)
        return None


def mark_done(store: Store, key: str) -> None:
    """Record that a command has run (or was found to have run); nobody claims it again."""
    with store.unit_of_work() as session:
        session.execute(update(InboxCommand).where(col(InboxCommand.key) == key).values(done=True))
        session.commit()


def pending(store: Store, platform: str | None = None) -> int:
    """Count the commands not yet run, held or not."""
    with store.unit_of_work(readonly=True) as session:
        query = (
            select(func.count()).select_from(InboxCommand).where(col(InboxCommand.done).is_(False))
        )
        if platform is not None:
            query = query.where(col(InboxCommand.platform) == platform)
        return int(session.exec(query).one())
