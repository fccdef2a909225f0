"""The discord.py client: endpoints, command sync, interaction routing, start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from datetime import UTC, datetime

import discord
import yarl
from discord import app_commands

from govbot.adapters.discord.commands import CatalogTranslator, build_commands
from govbot.adapters.discord.respond import Clock, InteractionRunner
from govbot.adapters.discord.views import FORM_ID, CommandButton, FormButton
from govbot.config import Settings
from govbot.replies import Notice
from govbot.services import Store
from govbot.services.bot_state import read_state, write_state

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
        self.ready = asyncio.Event()

    async def setup_hook(self) -> None:
        """Register the buttons, build the commands from the table, and sync them if changed."""
        self.add_dynamic_items(CommandButton, FormButton)
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
        """Signal that the guilds have arrived."""
        log.info("connected to Discord as %s", self.user)
        self.ready.set()

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
            await self.client.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT)
            if not self._task.done():
                self._task.cancel()
        self.client = None
        self._task = None

    async def deliver(self, notice: Notice) -> None:
        """Deliver a later notice: to its channel (public) or as a direct message."""
        if self.client is None:
            log.warning("Discord is not running; notice dropped")
            return
        await self.client.presses.deliver(notice)
