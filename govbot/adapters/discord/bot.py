"""The discord.py client: endpoints, command sync, interaction routing, start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
from datetime import UTC, datetime

import discord
import yarl
from discord import app_commands

from govbot.adapters.discord.commands import CatalogTranslator, build_commands
from govbot.adapters.discord.permissions import invite_url, missing_to_post
from govbot.adapters.discord.respond import PLATFORM, Clock, InteractionRunner
from govbot.adapters.discord.views import FORM_ID, CommandButton, CommandSelect, FormButton
from govbot.config import Settings
from govbot.replies import Notice
from govbot.services import Store
from govbot.services.bot_state import read_state, write_state
from govbot.services.channels import announce_channels

log = logging.getLogger(__name__)

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def utc_now() -> datetime:
    """Return the real clock, aware, in UTC."""
    return datetime.now(UTC)


def point_at_endpoints(settings: Settings) -> None:
    """Send REST and the gateway where the settings say (a proxy, a test server)."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway)


class GovClient(discord.Client):
    """A Discord client whose slash commands, buttons and modals run govbot commands."""

    def __init__(self, store: Store, clock: Clock, *, guild_ready_timeout: float) -> None:
        # Only the Guilds intent: commands arrive as interactions, so no privileged intents.
        super().__init__(
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout,
        )
        self.store = store
        self.clock = clock
        self.tree: app_commands.CommandTree[GovClient] = app_commands.CommandTree(self)
        self.presses = InteractionRunner(self, store, clock)
        self.tree.error(self.presses.command_error)
        self.ready = asyncio.Event()
        # discord.py keeps is_ready() true while it reconnects; this follows the gateway.
        self.gateway_up = False

    async def setup_hook(self) -> None:
        """Register buttons and menus, build the commands from the table, sync them if changed."""
        self.add_dynamic_items(CommandButton, CommandSelect, FormButton)
        await self.tree.set_translator(CatalogTranslator())
        for command in build_commands(self.presses.run_command, self.presses.suggest_bodies):
            self.tree.add_command(command)
        await self.sync_commands()

    async def sync_commands(self) -> bool:
        """Upload the commands unless the same definitions were uploaded before; say if it did.

        Discord caps how many commands an application may create a day, so a restart with
        unchanged definitions must not upload them again.
        """
        translator = self.tree.translator
        assert translator is not None and self.application_id is not None
        payload = [
            await command.get_translated_payload(self.tree, translator)
            for command in self.tree.get_commands()
        ]
        canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        key = f"discord.commands.{self.application_id}"
        if await asyncio.to_thread(read_state, self.store, key) == digest:
            log.info("slash commands unchanged; not syncing")
            return False
        await self.tree.sync()
        await asyncio.to_thread(write_state, self.store, key, digest, self.clock())
        log.info("slash commands synced (%d)", len(payload))
        return True

    async def on_ready(self) -> None:
        """Signal that the guilds have arrived, and log what the bot can reach."""
        self.gateway_up = True
        log.info("connected to Discord as %s", self.user)
        try:
            await self.log_reach()
        except Exception:
            log.exception("could not check what the bot can reach")
        self.ready.set()

    async def on_resumed(self) -> None:
        """Note that the gateway is back after a drop."""
        self.gateway_up = True
        log.info("Discord gateway resumed")

    async def on_disconnect(self) -> None:
        """Note that the gateway is down until it resumes or reconnects."""
        if self.gateway_up and not self.is_closed():
            log.warning("Discord gateway disconnected; reconnecting")
        self.gateway_up = False

    async def log_reach(self) -> None:
        """Log the guilds, and whether the bot may post in each announce channel set."""
        if self.application_id is not None:
            log.info("invite URL: %s", invite_url(self.application_id))
        announce = await asyncio.to_thread(announce_channels, self.store, PLATFORM)
        log.info("in %d Discord guild(s)", len(self.guilds))
        for guild in self.guilds:
            wanted = announce.get(str(guild.id))
            if wanted is None:
                log.info("guild %s (%s): no announce channel set", guild.id, guild.name)
                continue
            # Permissions come from the cached guild: roles and overwrites arrived with it.
            channel = guild.get_channel(int(wanted)) if wanted.isdigit() else None
            if channel is None or guild.me is None:
                log.warning(
                    "guild %s (%s): announce channel %s is not visible to the bot",
                    guild.id,
                    guild.name,
                    wanted,
                )
                continue
            missing = missing_to_post(channel.permissions_for(guild.me))
            if missing:
                log.warning(
                    "guild %s (%s): cannot post in announce channel #%s (%s): missing %s",
                    guild.id,
                    guild.name,
                    channel.name,
                    channel.id,
                    ", ".join(missing),
                )
            else:
                log.info(
                    "guild %s (%s): can post in announce channel #%s (%s)",
                    guild.id,
                    guild.name,
                    channel.name,
                    channel.id,
                )

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Handle modal submissions of govbot forms (read from the interaction, no stored state)."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: dict[str, object] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if FORM_ID.fullmatch(custom_id):
            await self.presses.submit_form(interaction)


class DiscordFrontEnd:
    """Run govbot on Discord: connect, answer interactions, deliver later notices."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Clock = utc_now,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        if settings.discord_token is None:
            raise ValueError("GOVBOT_DISCORD_TOKEN is not set")
        self.settings = settings
        self.store = store
        self.clock = clock
        self.guild_ready_timeout = guild_ready_timeout
        self.client: GovClient | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect in the background; return once the guilds have arrived, or raise."""
        assert self.settings.discord_token is not None
        point_at_endpoints(self.settings)
        client = GovClient(self.store, self.clock, guild_ready_timeout=self.guild_ready_timeout)
        self.client = client
        self._task = asyncio.create_task(
            client.start(self.settings.discord_token.get_secret_value()), name="govbot-discord"
        )
        ready = asyncio.create_task(client.ready.wait())
        done, _ = await asyncio.wait(
            {self._task, ready}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready in done:
            return
        ready.cancel()
        failed = self._task if self._task in done else None
        await self.stop()
        if failed is not None and failed.exception() is not None:
            raise RuntimeError("Discord did not start") from failed.exception()
        raise TimeoutError(f"Discord was not ready within {READY_TIMEOUT:.0f} s")

    async def stop(self) -> None:
        """Close the connection cleanly and wait for the client to finish."""
        if self.client is not None:
            await self.client.presses.close_edits()
            await self.client.close()
            self.client.presses.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT)
            if not self._task.done():
                self._task.cancel()
        self.client = None
        self._task = None

    def ready(self) -> bool:
        """Say whether the gateway is connected and the bot ready to answer."""
        client = self.client
        return (
            client is not None
            and client.is_ready()
            and not client.is_closed()
            and client.gateway_up
        )

    def gauges(self) -> dict[str, tuple[str, float]]:
        """Return Discord's gauges for /metrics: name -> (help, value)."""
        client = self.client
        guilds = len(client.guilds) if client is not None and self.ready() else 0
        found: dict[str, tuple[str, float]] = {
            "govbot_discord_guilds": ("Discord guilds the bot is in.", float(guilds)),
        }
        latency = client.latency if client is not None and self.ready() else math.nan
        if math.isfinite(latency):
            found["govbot_discord_gateway_latency_seconds"] = (
                "Time from a gateway heartbeat to its acknowledgement.",
                latency,
            )
        return found

    async def deliver(self, notice: Notice) -> None:
        """Deliver a later notice: to its channel (public) or as a direct message."""
        if self.client is None:
            log.warning("Discord is not running; notice dropped")
            return
        await self.client.presses.deliver(notice)
