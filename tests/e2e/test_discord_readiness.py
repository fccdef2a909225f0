"""What operators see of the Discord front end: readiness, gauges, and what it can reach."""

from __future__ import annotations

import dataclasses
import logging
import math

import pytest

from govbot.adapters.discord import DiscordFrontEnd
from govbot.storage.db import Store
from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import DiscordHarness, set_up_community
from tests.e2e.fakes.discord_server import FakeDiscord

fake, discord_store, harness = fx.fake, fx.discord_store, fx.harness

LATENCY = "govbot_discord_gateway_latency_seconds"
GUILDS = "govbot_discord_guilds"
SEND_MESSAGES = 1 << 11


def _running(harness: DiscordHarness) -> DiscordFrontEnd:
    assert harness.front_end is not None
    return harness.front_end


async def test_the_front_end_is_ready_after_ready_with_its_guilds_and_latency(
    harness: DiscordHarness,
) -> None:
    front_end = _running(harness)

    await harness.fake.wait_until(lambda: LATENCY in front_end.gauges(), description="latency")

    assert front_end.ready()
    gauges = front_end.gauges()
    assert gauges[GUILDS][1] == 1.0
    help_text, latency = gauges[LATENCY]
    assert help_text
    assert math.isfinite(latency)
    assert 0.0 <= latency < 5.0


async def test_the_front_end_is_not_ready_while_the_gateway_is_down(
    harness: DiscordHarness,
) -> None:
    fake = harness.fake
    front_end = _running(harness)
    fake.hold_gateway()

    await fake.drop_gateway(None)

    await fake.wait_until(lambda: not front_end.ready(), description="not ready")
    assert LATENCY not in front_end.gauges()
    assert front_end.gauges()[GUILDS][1] == 0.0
    fake.release_gateway()
    await fake.wait_until(front_end.ready, description="ready again")
    assert fake.resume_count == 1
    assert fake.identify_count == 1


async def test_the_front_end_is_not_ready_before_start_nor_after_stop(
    fake: FakeDiscord, discord_store: Store
) -> None:
    settings = fx.discord_settings(fake, "sqlite://")
    front_end = DiscordFrontEnd(settings, discord_store, guild_ready_timeout=0.05)
    assert not front_end.ready()
    assert front_end.gauges() == {GUILDS: (front_end.gauges()[GUILDS][0], 0.0)}

    await front_end.start()
    try:
        assert front_end.ready()
    finally:
        await front_end.stop()

    assert not front_end.ready()


async def _restart_with_announce_channel(
    harness: DiscordHarness, caplog: pytest.LogCaptureFixture
) -> list[str]:
    """Restart the front end (a new READY) and return what it logged."""
    await harness.stop()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="govbot.adapters.discord.bot"):
        await harness.start()
    return [r.getMessage() for r in caplog.records]


async def _set_announce_channel(harness: DiscordHarness) -> None:
    await set_up_community(harness)
    configured = await harness.slash(
        "setup", "set", user=harness.fake.steward, options={"announce": harness.announcements}
    )
    await harness.answer(configured)


async def test_start_up_logs_the_guilds_and_a_postable_announce_channel(
    harness: DiscordHarness, caplog: pytest.LogCaptureFixture
) -> None:
    fake = harness.fake
    await _set_announce_channel(harness)

    logged = await _restart_with_announce_channel(harness, caplog)

    guild = f"guild {fake.guild_id} (Govbot Test Guild)"
    announce = harness.announcements
    assert f"{guild}: can post in announce channel #announcements ({announce.id})" in logged
    assert any(f"client_id={fake.application_id}" in line for line in logged)
    assert any("permissions=19456" in line for line in logged)


async def test_start_up_logs_an_announce_channel_the_bot_cannot_post_in(
    harness: DiscordHarness, caplog: pytest.LogCaptureFixture
) -> None:
    fake = harness.fake
    await _set_announce_channel(harness)
    # The bot loses Administrator, and the announce channel denies its role Send Messages.
    fake.roles[fake.bot_role.id] = dataclasses.replace(fake.bot_role, permissions=0)
    fake.channels[harness.announcements.id]["permission_overwrites"] = [
        {"id": str(fake.bot_role.id), "type": 0, "allow": "0", "deny": str(SEND_MESSAGES)}
    ]

    logged = await _restart_with_announce_channel(harness, caplog)

    guild = f"guild {fake.guild_id} (Govbot Test Guild)"
    announce = harness.announcements
    expected = (
        f"{guild}: cannot post in announce channel #announcements ({announce.id}): "
        "missing send_messages, embed_links"  # without Send Messages, embeds are off too
    )
    assert expected in logged
    assert not any("can post in" in line for line in logged)
