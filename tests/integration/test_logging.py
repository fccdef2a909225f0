"""What reaches an operator's log at INFO: govbot's own lines, not the libraries' routine."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import logging, sys
from govbot.bootstrap import configure_logging
from govbot.config import Settings
configure_logging(Settings(_env_file=None, log_format="{fmt}"), logging.INFO)
{body}
"""


def logged(body: str, fmt: str = "text") -> str:
    """Configure logging as `govbot run` does, run `body`, and return what reached stderr."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(fmt=fmt, body=body)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stderr


def test_the_scheduler_tick_stays_out_of_info_logs() -> None:
    body = """
import asyncio
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from datetime import UTC, datetime

async def main():
    ran = asyncio.Event()
    async def tick():
        ran.set()
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(tick, "interval", seconds=30, next_run_time=datetime.now(UTC))
    scheduler.start()
    await asyncio.wait_for(ran.wait(), 30)
    await asyncio.sleep(0)
    scheduler.shutdown(wait=False)
    logging.getLogger("govbot").info("still here")

asyncio.run(main())
"""
    shown = logged(body)
    assert "still here" in shown
    assert "Running job" not in shown and "executed successfully" not in shown
    assert "Scheduler started" not in shown


def test_discord_voice_warnings_stay_out() -> None:
    shown = logged("import discord\ndiscord.Client(intents=discord.Intents.default())")
    assert "voice will NOT be supported" not in shown


def test_a_discord_reconnect_is_one_line_without_a_traceback() -> None:
    body = """
log = logging.getLogger("discord.client")
try:
    raise ConnectionResetError("the gateway went away")
except ConnectionResetError:
    log.exception("Attempting a reconnect in %.2fs", 1.5)
"""
    shown = logged(body).strip().splitlines()
    assert len(shown) == 1
    assert "WARNING discord.client: Attempting a reconnect in 1.50s" in shown[0]
    assert "ConnectionResetError: the gateway went away" in shown[0]


def test_at_debug_the_reconnect_keeps_its_traceback() -> None:
    body = """
logging.getLogger().setLevel(logging.DEBUG)
try:
    raise ConnectionResetError("gone")
except ConnectionResetError:
    logging.getLogger("discord.client").exception("Attempting a reconnect in %.2fs", 1.5)
"""
    assert "Traceback" in logged(body)
