"""The fake Discord server, driven by the real discord.py client over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from tests.e2e.fakes.discord_server import (
    EPHEMERAL,
    FakeDiscord,
    OptionValue,
    point_discord_py_at,
)


class ProbeBot(commands.Bot):
    """Run a small command tree whose handlers report back to the test."""

    def __init__(self, fake: FakeDiscord) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
            help_command=None,
        )
        self.fake = fake
        self.ready = asyncio.Event()
        self.resumed_count = 0
        self.service_started = asyncio.Event()
        self.service_done = asyncio.Event()
        self.late_error: discord.NotFound | None = None
        self.errors: list[BaseException] = []

    async def setup_hook(self) -> None:
        """Register the probe commands, one of them guild-only."""
        self.tree.add_command(ping)
        self.tree.add_command(proposal)
        self.tree.add_command(slow)
        self.tree.add_command(late)
        self.tree.add_command(vote)
        self.tree.add_command(report_member)
        self.tree.add_command(steward, guild=discord.Object(self.fake.guild_id))
        self.tree.on_error = self.record_error  # type: ignore[method-assign]

    async def record_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Keep command errors so the fixture can fail the test on them."""
        self.errors.append(error)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Identify again at once: discord.py waits 5 s before a repeated IDENTIFY."""

    async def on_ready(self) -> None:
        """Signal that the guild has arrived."""
        self.ready.set()

    async def on_resumed(self) -> None:
        """Count gateway resumes."""
        self.resumed_count += 1


def probe(interaction: discord.Interaction) -> ProbeBot:
    """Return the bot handling an interaction."""
    return cast(ProbeBot, interaction.client)


@app_commands.command(name="ping", description="Answer privately")
async def ping(interaction: discord.Interaction) -> None:
    """Answer with an ephemeral pong."""
    await interaction.response.send_message("pong", ephemeral=True)


proposal = app_commands.Group(name="proposal", description="Work with proposals")


@proposal.command(name="create", description="Table a proposal")
@app_commands.describe(title="Short title", seconder="Who seconds it")
async def proposal_create(
    interaction: discord.Interaction, title: str, seconder: discord.Member
) -> None:
    """Echo the options and whether the caller may manage the server."""
    can_manage = interaction.permissions.manage_guild
    await interaction.response.send_message(
        f"{title} seconded by {seconder.name}; manage_guild={can_manage}"
    )


@proposal_create.autocomplete("title")
async def proposal_titles(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Suggest titles containing what was typed."""
    titles = ["Budget 2025", "Bylaws amendment", "Code of conduct"]
    return [app_commands.Choice(name=t, value=t) for t in titles if current.lower() in t.lower()]


@app_commands.command(name="slow", description="Defer, wait for a slow service, follow up")
async def slow(interaction: discord.Interaction) -> None:
    """Acknowledge at once, then answer when the slow service is done."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    probe(interaction).service_started.set()
    await probe(interaction).service_done.wait()
    await interaction.followup.send("slow result", ephemeral=True)
    await interaction.edit_original_response(content="done")


@app_commands.command(name="late", description="Answer only after a slow service")
async def late(interaction: discord.Interaction) -> None:
    """Try to answer after the slow service, keeping the error Discord gives."""
    probe(interaction).service_started.set()
    await probe(interaction).service_done.wait()
    try:
        await interaction.response.send_message("too late")
    except discord.NotFound as exc:
        probe(interaction).late_error = exc


class ReasonModal(discord.ui.Modal, title="Why?"):
    """Ask for the reason behind a vote."""

    reason: discord.ui.TextInput[ReasonModal] = discord.ui.TextInput(
        label="Reason", custom_id="vote:reason"
    )

    def __init__(self) -> None:
        super().__init__(custom_id="vote:modal")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Confirm the recorded reason privately."""
        await interaction.response.send_message(f"recorded: {self.reason.value}", ephemeral=True)


class VoteView(discord.ui.View):
    """Offer a Yes button that opens the reason modal."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Yes", custom_id="vote:yes", style=discord.ButtonStyle.success)
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        """Open the reason modal."""
        await interaction.response.send_modal(ReasonModal())


@app_commands.command(name="vote", description="Post a ballot")
async def vote(interaction: discord.Interaction) -> None:
    """Post a public message with the ballot button."""
    await interaction.response.send_message("Ballot: adopt the budget?", view=VoteView())


@app_commands.context_menu(name="Report member")
async def report_member(interaction: discord.Interaction, member: discord.Member) -> None:
    """Acknowledge a report about a member."""
    await interaction.response.send_message(f"reported {member.name}", ephemeral=True)


@app_commands.command(name="steward", description="Steward tools")
@app_commands.default_permissions(manage_guild=True)
async def steward(interaction: discord.Interaction) -> None:
    """Answer from a guild-only command."""
    await interaction.response.send_message("steward tools", ephemeral=True)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Run a fake Discord with discord.py pointed at it."""
    async with FakeDiscord() as server:
        with point_discord_py_at(server):
            yield server


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[ProbeBot]:
    """Run the probe bot against the fake until it is ready; fail on command errors."""
    client = ProbeBot(fake)
    running = asyncio.create_task(client.start(fake.token))
    ready = asyncio.create_task(client.ready.wait())
    done, _ = await asyncio.wait({running, ready}, timeout=5, return_when="FIRST_COMPLETED")
    if ready not in done:
        ready.cancel()
        await client.close()
        raise AssertionError(f"bot never became ready: {running.exception()!r}")
    try:
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(running, 5)
    assert client.errors == []


async def sync_commands(bot: ProbeBot, fake: FakeDiscord) -> None:
    """Sync the global and the guild command trees."""
    await bot.tree.sync()
    await bot.tree.sync(guild=discord.Object(fake.guild_id))


@pytest.mark.asyncio
async def test_client_logs_in_and_receives_the_guild_on_ready(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    guild = bot.get_guild(fake.guild_id)
    assert guild is not None
    assert guild.name == fake.guild_name
    assert guild.owner_id == fake.owner.id
    assert guild.default_role.id == fake.guild_id
    assert guild.get_channel(fake.channel.id) is not None
    assert guild.me is not None
    assert bot.user is not None
    assert bot.user.id == fake.bot_user.id
    assert bot.application_id == fake.application_id
    assert fake.identify_count == 1
    assert fake.heartbeat_count >= 1
    assert fake.find_calls(method="GET", path="/users/@me")[0].status == 200
    assert fake.find_calls(method="GET", path="/oauth2/applications/@me")[0].status == 200


@pytest.mark.asyncio
async def test_command_sync_records_global_and_guild_payloads(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    synced = await bot.tree.sync()
    guild_synced = await bot.tree.sync(guild=discord.Object(fake.guild_id))

    app = fake.application_id
    put = await fake.wait_for_call(method="PUT", path=f"/applications/{app}/commands")
    sent = {(c["name"], c.get("type", 1)): c for c in put.body}
    assert set(sent) == {
        ("ping", 1),
        ("proposal", 1),
        ("slow", 1),
        ("late", 1),
        ("vote", 1),
        ("Report member", 2),
    }
    create = sent["proposal", 1]["options"][0]
    assert create["name"] == "create"
    assert [(o["name"], o["type"], o.get("autocomplete")) for o in create["options"]] == [
        ("title", 3, True),
        ("seconder", 6, None),
    ]
    guild_put = await fake.wait_for_call(
        method="PUT", path=f"/applications/{app}/guilds/{fake.guild_id}/commands"
    )
    assert [(c["name"], str(c["default_member_permissions"])) for c in guild_put.body] == [
        ("steward", "32")
    ]
    assert {c.name for c in synced} == {"ping", "proposal", "slow", "late", "vote", "Report member"}
    assert [c.guild_id for c in guild_synced] == [fake.guild_id]
    fetched = await bot.tree.fetch_commands()
    assert {c.id for c in fetched} == {c.id for c in synced}


@pytest.mark.asyncio
async def test_invalid_command_names_are_refused_on_sync(fake: FakeDiscord, bot: ProbeBot) -> None:
    bot.tree.add_command(app_commands.Command(name="ok", description="", callback=ping.callback))

    with pytest.raises(discord.HTTPException) as caught:
        await bot.tree.sync()

    assert caught.value.status == 400
    assert caught.value.code == 50035
    bot.tree.remove_command("ok")


@pytest.mark.asyncio
async def test_slash_command_is_answered_ephemerally(fake: FakeDiscord, bot: ProbeBot) -> None:
    await sync_commands(bot, fake)

    record = await fake.push_interaction(fake.build_slash_command("ping", user=fake.member))
    call = await fake.wait_for_callback(record)

    assert call.path == f"/interactions/{record.id}/{record.token}/callback"
    assert call.query == {"with_response": "1"}
    assert call.status == 200
    assert call.body == {"type": 4, "data": call.body["data"]}
    assert call.body["data"]["content"] == "pong"
    assert call.body["data"]["flags"] & EPHEMERAL
    assert record.original_message_id is not None
    assert fake.messages[record.original_message_id]["flags"] & EPHEMERAL


@pytest.mark.asyncio
async def test_subcommand_options_resolve_users_and_member_permissions(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    await sync_commands(bot, fake)
    options: dict[str, OptionValue] = {"title": "Budget 2025", "seconder": fake.member}

    by_steward = await fake.push_interaction(
        fake.build_slash_command(
            "proposal", subcommand="create", options=options, user=fake.steward
        )
    )
    by_member = await fake.push_interaction(
        fake.build_slash_command("proposal", subcommand="create", options=options, user=fake.member)
    )

    steward_reply = (await fake.wait_for_callback(by_steward)).body["data"]["content"]
    member_reply = (await fake.wait_for_callback(by_member)).body["data"]["content"]
    assert steward_reply == "Budget 2025 seconded by member; manage_guild=True"
    assert member_reply == "Budget 2025 seconded by member; manage_guild=False"


@pytest.mark.asyncio
async def test_autocomplete_answers_with_choices(fake: FakeDiscord, bot: ProbeBot) -> None:
    await sync_commands(bot, fake)

    record = await fake.push_interaction(
        fake.build_autocomplete(
            "proposal", subcommand="create", focused="title", value="by", user=fake.member
        )
    )
    call = await fake.wait_for_callback(record)

    assert call.body == {
        "type": 8,
        "data": {"choices": [{"name": "Bylaws amendment", "value": "Bylaws amendment"}]},
    }


@pytest.mark.asyncio
async def test_deferred_command_can_follow_up_after_the_deadline(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    await sync_commands(bot, fake)

    record = await fake.push_interaction(fake.build_slash_command("slow", user=fake.member))
    defer = await fake.wait_for_callback(record)
    await asyncio.wait_for(bot.service_started.wait(), 5)
    fake.advance_time(60)
    bot.service_done.set()
    hook = f"/webhooks/{fake.application_id}/{record.token}"
    followup = await fake.wait_for_call(method="POST", path=hook)
    edit = await fake.wait_for_call(method="PATCH", path=hook + "/messages/@original")

    assert (defer.status, defer.body) == (200, {"type": 5, "data": {"flags": EPHEMERAL}})
    assert followup.status == 200
    assert followup.body["content"] == "slow result"
    assert followup.body["flags"] & EPHEMERAL
    assert edit.status == 200
    assert record.original_message_id is not None
    assert fake.messages[record.original_message_id]["content"] == "done"


@pytest.mark.asyncio
async def test_response_after_the_deadline_is_an_unknown_interaction(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    await sync_commands(bot, fake)

    record = await fake.push_interaction(fake.build_slash_command("late", user=fake.member))
    await asyncio.wait_for(bot.service_started.wait(), 5)
    fake.advance_time(fake.deadline + 0.5)
    bot.service_done.set()
    call = await fake.wait_for_callback(record)

    assert call.status == 404
    assert call.response == {"code": 10062, "message": "Unknown interaction"}
    await fake.wait_until(lambda: bot.late_error is not None)
    assert bot.late_error is not None
    assert bot.late_error.code == 10062
    assert not record.acknowledged


@pytest.mark.asyncio
async def test_second_callback_and_stale_webhook_token_are_rejected(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    await sync_commands(bot, fake)
    record = await fake.push_interaction(fake.build_slash_command("ping", user=fake.member))
    await fake.wait_for_callback(record)
    callback = f"{fake.api_base}/interactions/{record.id}/{record.token}/callback"
    followup = f"{fake.api_base}/webhooks/{fake.application_id}/{record.token}?wait=1"

    async with aiohttp.ClientSession() as session:
        async with session.post(callback, json={"type": 4, "data": {"content": "x"}}) as again:
            assert again.status == 400
            assert (await again.json())["code"] == 40060
        async with session.post(followup, json={"content": "within 15 min"}) as fresh:
            assert fresh.status == 200
        fake.advance_time(fake.token_lifetime + 1)
        async with session.post(followup, json={"content": "too late"}) as stale:
            assert stale.status == 401
            assert (await stale.json())["code"] == 50027


@pytest.mark.asyncio
async def test_button_opens_a_modal_whose_submission_is_answered(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    await sync_commands(bot, fake)
    ballot = await fake.push_interaction(fake.build_slash_command("vote", user=fake.owner))
    await fake.wait_for_callback(ballot)

    press = await fake.push_interaction(fake.build_component("vote:yes", user=fake.member))
    opened = await fake.wait_for_callback(press)
    submit = await fake.push_interaction(
        fake.build_modal_submit("vote:modal", user=fake.member, values={"vote:reason": "fair"})
    )
    answered = await fake.wait_for_callback(submit)

    assert press.payload["message"]["id"] == str(ballot.original_message_id)
    assert opened.body["type"] == 9
    assert opened.body["data"]["custom_id"] == "vote:modal"
    assert answered.status == 200
    assert answered.body["data"]["content"] == "recorded: fair"
    assert answered.body["data"]["flags"] & EPHEMERAL


@pytest.mark.asyncio
async def test_user_context_menu_and_guild_command_reach_their_handlers(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    await sync_commands(bot, fake)

    report = await fake.push_interaction(
        fake.build_user_command("Report member", user=fake.member, target=fake.steward)
    )
    tools = await fake.push_interaction(fake.build_slash_command("steward", user=fake.steward))

    assert (await fake.wait_for_callback(report)).body["data"]["content"] == "reported steward"
    assert tools.payload["data"]["guild_id"] == str(fake.guild_id)
    assert (await fake.wait_for_callback(tools)).body["data"]["content"] == "steward tools"


@pytest.mark.asyncio
async def test_rate_limited_request_is_retried_after_retry_after(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    route = rf"/channels/{fake.channel.id}/messages"
    rule = fake.rate_limit("POST", route, retry_after=0.05)
    channel = bot.get_channel(fake.channel.id)
    assert isinstance(channel, discord.TextChannel)

    message = await channel.send("hello, members")

    attempts = fake.find_calls(method="POST", path=route)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[0].response == {
        "message": "You are being rate limited.",
        "retry_after": 0.05,
        "global": False,
    }
    assert attempts[1].at - attempts[0].at >= 0.05
    assert rule.remaining == 0
    assert fake.messages[message.id]["content"] == "hello, members"


@pytest.mark.asyncio
@pytest.mark.parametrize("close_code", [4000, None], ids=["close-4000", "abrupt-1006"])
async def test_gateway_drop_is_resumed_without_identifying_again(
    fake: FakeDiscord, bot: ProbeBot, close_code: int | None
) -> None:
    await sync_commands(bot, fake)

    await fake.drop_gateway(close_code)
    missed = await fake.push_interaction(fake.build_slash_command("ping", user=fake.member))
    await fake.wait_until(lambda: fake.resume_count == 1 and bot.resumed_count == 1)
    call = await fake.wait_for_callback(missed)
    after = await fake.push_interaction(fake.build_slash_command("ping", user=fake.member))

    assert call.status == 200
    assert (await fake.wait_for_callback(after)).status == 200
    assert fake.identify_count == 1
    resume = [f for f in fake.gateway_frames if f["op"] == 6]
    assert resume[0]["d"]["token"] == fake.token


@pytest.mark.asyncio
async def test_reconnect_request_resumes_and_invalid_session_identifies_again(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    await fake.send_reconnect()
    await fake.wait_until(lambda: bot.resumed_count == 1)
    bot.ready.clear()

    await fake.invalidate_session()
    await asyncio.wait_for(bot.ready.wait(), 5)

    assert (fake.resume_count, fake.identify_count) == (1, 2)
    assert bot.get_guild(fake.guild_id) is not None


@pytest.mark.asyncio
async def test_threads_dms_events_and_moderation_calls_are_served(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    guild = bot.get_guild(fake.guild_id)
    channel = bot.get_channel(fake.channel.id)
    assert guild is not None
    assert isinstance(channel, discord.TextChannel)

    thread = await channel.create_thread(
        name="Budget debate", type=discord.ChannelType.public_thread
    )
    await thread.send("Debate opens")
    dm = await (await bot.fetch_user(fake.member.id)).send("Your ballot is open")
    start = datetime.now(UTC) + timedelta(days=1)
    event = await guild.create_scheduled_event(
        name="Assembly",
        start_time=start,
        end_time=start + timedelta(hours=1),
        entity_type=discord.EntityType.external,
        location="Town hall",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    await event.edit(name="General assembly")
    await event.delete()
    member = await guild.fetch_member(fake.member.id)
    await member.timeout(timedelta(hours=1), reason="cooling off")
    await guild.ban(discord.Object(fake.member.id), reason="repeated abuse")
    await guild.unban(discord.Object(fake.member.id))
    with pytest.raises(discord.Forbidden):
        await guild.ban(discord.Object(fake.owner.id))

    assert thread.parent_id == fake.channel.id
    assert fake.channel_messages(thread.id)[0]["content"] == "Debate opens"
    assert dm.channel.type is discord.ChannelType.private
    assert [c.status for c in fake.find_calls(path=r"/guilds/\d+/scheduled-events.*")] == [
        200,
        200,
        204,
    ]
    timeout = fake.find_calls(method="PATCH", path=rf"/guilds/\d+/members/{fake.member.id}")[0]
    assert timeout.body["communication_disabled_until"] is not None
    assert timeout.audit_reason == "cooling off"
    ban = fake.find_calls(method="PUT", path=rf"/guilds/\d+/bans/{fake.member.id}")[0]
    assert (ban.status, ban.audit_reason) == (204, "repeated abuse")


@pytest.mark.asyncio
async def test_replies_are_exact_json_and_unknown_routes_are_recorded(fake: FakeDiscord) -> None:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{fake.api_base}/users/@me") as me:
            assert me.headers["Content-Type"] == "application/json"
        async with session.get(f"{fake.api_base}/no/such/route") as missing:
            assert missing.status == 404
        async with session.get(
            f"{fake.api_base}/users/@me", headers={"Authorization": "Bot wrong"}
        ) as unauthorized:
            assert unauthorized.status == 401

    assert [(c.path, c.status) for c in fake.calls] == [
        ("/users/@me", 200),
        ("/no/such/route", 404),
        ("/users/@me", 401),
    ]


@pytest.mark.asyncio
async def test_unknown_commands_and_missing_options_reach_the_client_as_sent(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    await sync_commands(bot, fake)

    await fake.push_interaction(fake.build_slash_command("gone", user=fake.member))
    await fake.push_interaction(
        fake.build_slash_command("proposal", subcommand="gone", user=fake.member)
    )
    await fake.push_interaction(
        fake.build_slash_command(
            "proposal", subcommand="create", user=fake.member, options={"title": "Budget"}
        )
    )
    await fake.wait_until(lambda: len(bot.errors) == 3, description="three command errors")

    kinds = [type(e) for e in bot.errors]
    bot.errors.clear()
    assert kinds == [
        app_commands.CommandNotFound,
        app_commands.CommandNotFound,
        app_commands.CommandSignatureMismatch,
    ]


@pytest.mark.asyncio
async def test_the_same_enforced_nonce_returns_the_message_made_first(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    channel = bot.get_channel(fake.channel.id)
    assert isinstance(channel, discord.TextChannel)

    first = await channel.send("once", nonce="n-1")
    again = await channel.send("once", nonce="n-1")
    other = await channel.send("twice")
    fake.advance_time(10 * 60)
    later = await channel.send("once", nonce="n-1")
    await later.delete()
    with pytest.raises(discord.NotFound):
        await channel.send("once", nonce="n-1")

    assert again.id == first.id
    assert len({first.id, other.id, later.id}) == 3
    assert [m["content"] for m in fake.channel_messages(fake.channel)] == ["once", "twice"]
    assert fake.messages[first.id]["nonce"] == "n-1"


@pytest.mark.asyncio
async def test_a_nonce_without_enforce_nonce_makes_a_new_message(fake: FakeDiscord) -> None:
    url = f"{fake.api_base}/channels/{fake.channel.id}/messages"
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        for _ in range(2):
            async with session.post(url, json={"content": "hi", "nonce": "n-2"}) as posted:
                assert posted.status == 200

    assert [m["content"] for m in fake.channel_messages(fake.channel)] == ["hi", "hi"]


@pytest.mark.asyncio
async def test_a_server_error_can_come_after_the_message_was_made(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    route = rf"/channels/{fake.channel.id}/messages"
    channel = bot.get_channel(fake.channel.id)
    assert isinstance(channel, discord.TextChannel)
    fake.server_error("POST", route, status=503)

    with pytest.raises(discord.DiscordServerError):
        await channel.send("made anyway", nonce="n-3")
    resent = await channel.send("made anyway", nonce="n-3")

    assert [c.status for c in fake.find_calls(method="POST", path=route)] == [503, 200]
    assert [m["id"] for m in fake.channel_messages(fake.channel)] == [str(resent.id)]


@pytest.mark.asyncio
async def test_a_held_gateway_keeps_the_client_away_until_released(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    fake.hold_gateway()
    await fake.drop_gateway(4000)
    await fake.wait_until(lambda: bool(fake._open_sockets), description="a held connection")
    assert fake.resume_count == 0

    fake.release_gateway()

    await fake.wait_until(lambda: bot.resumed_count == 1, description="a resume")
    assert fake.identify_count == 1
