"""Discord under a burst: commands queue on their own threads, and due work goes on."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from govbot.adapters.discord import respond
from govbot.replies import Notice, Reply
from govbot.scheduler import DueWork
from tests.e2e import discord_fixtures
from tests.e2e.discord_fixtures import DiscordHarness, embed_text, set_up_community

fake = discord_fixtures.fake
discord_store = discord_fixtures.discord_store
harness = discord_fixtures.harness

# More than the default thread pool ever has (at most 32 threads).
BURST = 40


async def test_due_work_still_runs_while_a_burst_of_discord_commands_is_stuck(
    harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await set_up_community(harness)
    released = threading.Event()
    real = respond.run_values

    def stuck(*args: Any, **kwargs: Any) -> list[Reply]:
        released.wait(30)  # a database that does not answer, say
        return real(*args, **kwargs)

    monkeypatch.setattr(respond, "run_values", stuck)
    records = [await harness.slash("body", "list", user=harness.fake.member) for _ in range(BURST)]
    try:
        # Every one of them is waiting for a thread or holds one: all were deferred.
        await harness.fake.wait_until(
            lambda: all(r.acknowledged for r in records), timeout=15, description="the defers"
        )
        delivered: list[Notice] = []

        async def deliver(notices: list[Notice]) -> None:
            delivered.extend(notices)

        # The timer tick runs in the default pool, which the stuck commands must not fill.
        await asyncio.wait_for(DueWork(harness.store, deliver).tick(), 10)
    finally:
        released.set()
    for record in records:
        answer = await harness.final_answer(record)
        assert "quality" in embed_text(answer)


async def test_beyond_the_bound_a_member_is_told_busy_at_once_and_nothing_runs(
    harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await set_up_community(harness)
    released = threading.Event()
    real = respond.run_values

    def stuck(*args: Any, **kwargs: Any) -> list[Reply]:
        released.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(respond, "run_values", stuck)
    assert harness.front_end is not None
    harness.front_end.client.presses.max_in_flight = 2
    held = [await harness.slash("body", "list", user=harness.fake.member) for _ in range(2)]
    try:
        await harness.fake.wait_until(
            lambda: all(r.acknowledged for r in held), timeout=15, description="the defers"
        )
        busy = await harness.slash(
            "body", "join", user=harness.fake.member, options={"body": "operations"}
        )
        answer = await harness.final_answer(busy)
        assert "busy" in embed_text(answer)
    finally:
        released.set()
    for record in held:
        assert "quality" in embed_text(await harness.final_answer(record))
    listing = await harness.slash(
        "body", "show", user=harness.fake.member, options={"body": "operations"}
    )
    assert "No members" in embed_text(await harness.final_answer(listing))
