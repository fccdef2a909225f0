"""The one place that wires settings, the store, the scheduler and the front ends."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from typing import Any

from govbot.config import Settings
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


async def serve(settings: Settings, platforms: list[str]) -> None:
    """Run the chosen front ends, the web app and the scheduler until SIGTERM or SIGINT."""
    from govbot.scheduler import DueWork
    from govbot.web import WebApp

    store = open_store(settings.database_url)
    web = WebApp(settings, store)
    front_ends: dict[str, Any] = {}
    if "discord" in platforms:
        from govbot.adapters.discord import DiscordFrontEnd

        front_ends["discord"] = DiscordFrontEnd(settings, store)
    if "slack" in platforms:
        from govbot.adapters.slack import SlackFrontEnd

        front_ends["slack"] = SlackFrontEnd(settings, store, web)

    async def deliver(notices: list[Any]) -> None:
        for notice in notices:
            front_end = front_ends.get(notice.community.platform)
            if front_end is not None:
                await front_end.deliver(notice)

    due = DueWork(store, deliver)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await web.start()
    for front_end in front_ends.values():
        await front_end.start()
    due.start()
    logging.getLogger(__name__).info("govbot running: %s", ", ".join(platforms))
    try:
        await stop.wait()
    finally:
        due.stop()
        for front_end in front_ends.values():
            await front_end.stop()
        await web.stop()
        store.dispose()
