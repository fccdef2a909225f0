"""The due-work tick: a shutdown in the middle of it is not a failure."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from govbot import scheduler
from govbot.replies import Notice


async def test_a_tick_interrupted_by_shutdown_ends_quietly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="govbot.scheduler")
    started, release = threading.Event(), threading.Event()

    def slow_run_due(store: Any, now: Any) -> list[Notice]:
        started.set()
        release.wait(5)
        return []

    async def deliver(notices: list[Notice]) -> None:
        raise AssertionError("nothing is delivered after a shutdown")

    monkeypatch.setattr(scheduler, "run_due", slow_run_due)
    work = scheduler.DueWork(store=None, deliver=deliver)  # type: ignore[arg-type]
    tick = asyncio.create_task(work.tick())
    await asyncio.to_thread(started.wait, 5)

    tick.cancel()
    await asyncio.wait_for(tick, 5)  # ends without raising CancelledError
    release.set()

    assert tick.done() and not tick.cancelled()
    assert "interrupted by shutdown" in caplog.text
    assert "Traceback" not in caplog.text
