"""Slow services, dropped gateways, redelivery, later notices, and the full `serve` path."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from pydantic import SecretStr

from govbot.adapters.discord import DiscordFrontEnd
from govbot.bootstrap import serve
from govbot.replies import CommunityRef, Notice, Reply, Visibility
from govbot.services import runner
from govbot.services.timers import run_due
from govbot.storage.db import Store
from govbot.storage.models import AuditEntry
from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import (
    DiscordHarness,
    callback_data,
    custom_ids,
    discord_settings,
    embed_text,
    is_ephemeral,
    set_up_community,
)
from tests.e2e.fakes.discord_server import EPHEMERAL, FakeDiscord

fake, discord_store, harness = fx.fake, fx.discord_store, fx.harness


class SlowService:
    """Make every use case wait until the test lets it go (as a slow database would)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self._execute = runner.execute

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        self.release.wait(timeout=10)
        return self._execute(*args, **kwargs)


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowService]:
    """Slow every service down until released; always released at the end."""
    service = SlowService()
    monkeypatch.setattr(runner, "execute", service)
    try:
        yield service
    finally:
        service.release.set()


def _hook(fake: FakeDiscord, token: str) -> str:
    return f"/webhooks/{fake.application_id}/{token}"


async def test_a_slow_service_is_deferred_in_time_and_answered_later(
    harness: DiscordHarness, slow: SlowService
) -> None:
    fake = harness.fake

    record = await harness.slash("body", "list", user=fake.member)
    defer = await harness.answer(record)
    assert defer.body == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert defer.at - record.pushed_at < fake.deadline
    assert slow.entered.is_set()
    fake.advance_time(60)  # the service takes a minute: far past the 3 s, within the token
    slow.release.set()

    edit = await fake.wait_for_call(
        method="PATCH", path=_hook(fake, record.token) + "/messages/@original"
    )
    assert edit.status == 200
    assert "No bodies yet" in embed_text(edit.body)
    message = fake.messages[record.original_message_id or 0]
    assert message["flags"] & EPHEMERAL
    assert "No bodies yet" in embed_text(message)


async def test_a_slow_public_reply_is_posted_in_the_channel_after_the_defer(
    harness: DiscordHarness, slow: SlowService
) -> None:
    fake = harness.fake
    slow.release.set()
    await set_up_community(harness)
    slow.release.clear()

    record = await harness.slash("body", "join", user=fake.member, options={"body": "operations"})
    await harness.answer(record)
    slow.release.set()

    post = await fake.wait_for_call(method="POST", path=rf"/channels/{fake.channel.id}/messages")
    edit = await fake.wait_for_call(
        method="PATCH", path=_hook(fake, record.token) + "/messages/@original"
    )
    assert embed_text(post.body) == "@Member joined operations."
    assert embed_text(edit.body) == f"Posted in <#{fake.channel.id}>."


async def test_a_slow_form_is_offered_as_a_button_that_opens_the_modal(
    harness: DiscordHarness, slow: SlowService
) -> None:
    fake = harness.fake
    slow.release.set()
    await set_up_community(harness)
    slow.release.clear()

    record = await harness.slash("setup", "set", user=fake.steward)
    assert (await harness.answer(record)).body["type"] == 5
    slow.release.set()
    edit = await fake.wait_for_call(
        method="PATCH", path=_hook(fake, record.token) + "/messages/@original"
    )
    assert "use the form" in embed_text(edit.body)
    assert custom_ids(edit.body) == ["govform:0/3:setup set"]

    press = await fake.push_interaction(
        fake.build_component("govform:0/3:setup set", user=fake.steward)
    )
    opened = await harness.answer(press)
    assert opened.body["type"] == 9
    assert callback_data(opened)["custom_id"] == "govform:0/3:setup set"


async def test_commands_work_after_the_gateway_drops_and_resumes(
    harness: DiscordHarness,
) -> None:
    fake = harness.fake

    await fake.drop_gateway(None)
    missed = await harness.slash("help", user=fake.member)
    await fake.wait_until(lambda: fake.resume_count == 1, description="a resume")
    await fake.wait_for_session()
    after = await harness.slash("body", "list", user=fake.member)

    assert "/help [group:<group>]" in await harness.said(missed)
    assert "No bodies yet" in await harness.said(after)
    assert fake.identify_count == 1


async def test_a_redelivered_interaction_has_one_effect(
    harness: DiscordHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await set_up_community(harness)
    fake = harness.fake
    record = await harness.slash("body", "join", user=fake.member, options={"body": "operations"})
    assert "@Member joined operations." in await harness.said(record)
    entries = harness.count(AuditEntry)

    with caplog.at_level(logging.INFO, logger="govbot.adapters.discord.respond"):
        await fake.dispatch("INTERACTION_CREATE", record.payload)
        await fake.wait_until(
            lambda: any("already handled" in r.getMessage() for r in caplog.records),
            description="the redelivery to be handled",
        )

    assert harness.count(AuditEntry) == entries
    assert len(record.callbacks) == 1
    assert fake.find_calls(path=_hook(fake, record.token) + ".*") == []


async def test_later_notices_go_by_dm_and_to_the_announce_channel(
    harness: DiscordHarness,
) -> None:
    await set_up_community(harness)
    fake = harness.fake
    front_end = harness.front_end
    assert front_end is not None
    announce = harness.announcements
    for options, user in (
        ({"announce": announce}, fake.steward),
        ({"body": "tsc", "member": fake.member, "until": "1h"}, fake.steward),
    ):
        sub = "set" if "announce" in options else "add"
        group = "setup" if sub == "set" else "body"
        await harness.answer(await harness.slash(group, sub, user=user, options=options))
    for user in (fake.member, fake.steward):
        joined = await harness.slash("body", "join", user=user, options={"body": "quality"})
        await harness.answer(joined)
    fake.advance_time(fake.token_lifetime * 100)  # days later: every interaction token expired
    since = len(fake.calls)

    notices = run_due(harness.store, datetime.now(UTC) + timedelta(days=100))
    for notice in notices:
        await front_end.deliver(notice)

    later = fake.calls[since:]
    assert [c for c in later if c.path.startswith(("/webhooks", "/interactions"))] == []
    dm_channel = await fake.wait_for_call(method="POST", path=r"/users/@me/channels", since=since)
    assert int(dm_channel.body["recipient_id"]) == fake.member.id
    dm = await fake.wait_for_call(
        method="POST", path=rf"/channels/{dm_channel.response['id']}/messages", since=since
    )
    assert "The term of @Member on tsc has ended." in embed_text(dm.body)
    assert dm.body["allowed_mentions"] == {"parse": []}
    public = await fake.wait_for_call(
        method="POST", path=rf"/channels/{announce.id}/messages", since=since
    )
    assert "The chair of quality passes to @Steward" in embed_text(public.body)
    assert all(c.status == 200 for c in later)


async def test_a_public_notice_without_an_announce_channel_goes_to_the_system_channel(
    harness: DiscordHarness,
) -> None:
    fake = harness.fake
    assert harness.front_end is not None
    notice = Notice(
        CommunityRef("discord", str(fake.guild_id)), Reply("The vote closed.", Visibility.PUBLIC)
    )
    route = rf"/channels/{fake.channel.id}/messages"
    fake.rate_limit("POST", route, retry_after=0.05)

    await harness.front_end.deliver(notice)

    assert [c.status for c in fake.find_calls(method="POST", path=route)] == [429, 200]
    assert [embed_text(m) for m in fake.channel_messages(fake.channel)] == ["The vote closed."]


async def test_serve_runs_discord_until_sigterm_and_stops_cleanly(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    settings = discord_settings(fake, f"sqlite:///{tmp_path / 'serve.db'}", web_port=0)
    serving = asyncio.create_task(serve(settings, ["discord"]))
    try:
        await fake.wait_for_session(timeout=15)
        record = await fake.push_interaction(fake.build_slash_command("help", user=fake.member))
        call = await fake.wait_for_callback(record, timeout=15)
        assert is_ephemeral(callback_data(call))

        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(serving, 15)
    finally:
        if not serving.done():
            serving.cancel()

    assert serving.exception() is None
    # The client said goodbye: the fake has no gateway connection left.
    await fake.wait_until(lambda: fake._conn is None, description="the gateway to close")
    with pytest.raises(RuntimeError):
        await fake.drop_gateway()


async def test_start_raises_when_discord_refuses_the_token(
    fake: FakeDiscord, discord_store: Store, tmp_path: Path
) -> None:
    settings = discord_settings(fake, f"sqlite:///{tmp_path / 'govbot.db'}")
    settings.discord_token = SecretStr("not-the-token")
    front_end = DiscordFrontEnd(settings, discord_store, guild_ready_timeout=0.05)

    with pytest.raises(RuntimeError) as raised:
        await front_end.start()

    assert isinstance(raised.value.__cause__, discord.LoginFailure)
    assert fake.identify_count == 0
