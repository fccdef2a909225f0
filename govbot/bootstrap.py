"""The one place that wires settings, the store, the scheduler and the front ends."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from contextlib import AsyncExitStack
from typing import Any, Protocol

from govbot.config import Settings
from govbot.replies import Notice
from govbot.storage import migrate
from govbot.storage.db import Store


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """Log to stderr as text or as one JSON object a line."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def open_store(url: str) -> Store:
    """Open the database and bring its schema up to date."""
    store = Store(url)
    migrate.upgrade(store.engine)
    return store


class FrontEnd(Protocol):
    """What bootstrap needs of a platform front end."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, notice: Notice) -> None: ...


async def serve(settings: Settings, platforms: list[str]) -> None:
    """Run the chosen front ends, the web app and the scheduler until SIGTERM or SIGINT."""
    from govbot.scheduler import DueWork
    from govbot.web import WebApp

    log = logging.getLogger(__name__)
    store = open_store(settings.database_url)
    web = WebApp(settings, store)
    front_ends: dict[str, FrontEnd] = {}
    if "discord" in platforms:
        from govbot.adapters.discord import DiscordFrontEnd

        front_ends["discord"] = DiscordFrontEnd(settings, store)
    if "slack" in platforms:
        from govbot.adapters.slack import SlackFrontEnd

        front_ends["slack"] = SlackFrontEnd(settings, store, web)

    async def deliver(notices: list[Notice]) -> None:
        for notice in notices:
            front_end = front_ends.get(notice.community.platform)
            if front_end is None:
                continue
            try:
                await front_end.deliver(notice)
            except Exception:
                log.exception("a notice for %s could not be delivered", notice.community)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # Whatever started is stopped again, in reverse order, also when a later start fails.
    async with AsyncExitStack() as running:
        running.callback(store.dispose)
        await web.start()
        running.push_async_callback(web.stop)
        for front_end in front_ends.values():
            await front_end.start()
            running.push_async_callback(front_end.stop)
        due = DueWork(store, deliver)
        due.start()
        running.callback(due.stop)
        log.info("govbot running: %s", ", ".join(platforms))
        await stop.wait()
