"""Wake-ups for due work. The store is the truth; a wake-up only asks it what is due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from govbot.replies import Notice
from govbot.services import Store
from govbot.services.timers import run_due

log = logging.getLogger(__name__)

TICK_SECONDS = 30

Deliver = Callable[[list[Notice]], Awaitable[None]]


def utc_now() -> datetime:
    """Return the real clock, aware, in UTC."""
    return datetime.now(UTC)


class DueWork:
    """Ask the store for due work every tick and hand the resulting notices to the front ends."""

    def __init__(self, store: Store, deliver: Deliver, clock: Callable[[], datetime] = utc_now):
        self.store = store
        self.deliver = deliver
        self.clock = clock
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    def start(self) -> None:
        """Start ticking (and run once now, so work that fell due while down is done at once)."""
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=TICK_SECONDS,
            next_run_time=self.clock(),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.start()

    def stop(self) -> None:
        """Stop ticking."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def tick(self) -> None:
        """Run what is due in a worker thread, then deliver the notices."""
        try:
            notices = await asyncio.to_thread(run_due, self.store, self.clock())
            if notices:
                await self.deliver(notices)
        except asyncio.CancelledError:
            # Shutting down mid-tick: the thread finishes what it claimed, and what it did not
            # reach stays due in the store for the next start. Nothing to report as a failure.
            log.info("due work interrupted by shutdown; what is left stays due")
        except Exception:
            log.exception("due work failed; it stays due and is retried next tick")
