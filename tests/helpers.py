"""A small driver for tests: type commands as console members against a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from govbot.commands import run_text
from govbot.replies import Reply
from govbot.services.base import Caller
from govbot.storage.db import Store
from govbot.storage.models import AuditEntry, Body, Member, Membership

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Community:
    """One console community with a movable clock."""

    def __init__(
        self, store: Store, *, admins: tuple[str, ...] = ("admin",), community_id: str = "c1"
    ) -> None:
        self.store = store
        self.admins = set(admins)
        self.community_id = community_id
        self.now = START

    def run(self, user: str, text: str, *, channel: str = "general") -> list[Reply]:
        """Run a command as `@user` and return its replies."""
        caller = Caller("console", self.community_id, user, user, user in self.admins, channel)
        return run_text(self.store, caller, text, self.now)

    def say(self, user: str, text: str) -> str:
        """Run a command and return all reply texts joined."""
        return "\n".join(r.text for r in self.run(user, text))

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)

    def counts(self) -> dict[str, int]:
        """Count the governance rows, to show a refused command wrote nothing."""
        with self.store.unit_of_work() as session:
            return {
                model.__name__: session.execute(
                    select(func.count()).select_from(model)
                ).scalar_one()
                for model in (AuditEntry, Body, Membership)
            } | {"Member": session.execute(select(func.count()).select_from(Member)).scalar_one()}
