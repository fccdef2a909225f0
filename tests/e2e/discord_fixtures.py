"""Fixtures for the Discord front end against the fake Discord (import them explicitly).

The front end is started the production way: the settings name the fake's REST base and
gateway, and `DiscordFrontEnd.start` points discord.py at them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from govbot.adapters.discord import DiscordFrontEnd
from govbot.bootstrap import open_store
from govbot.config import Settings
from govbot.storage.db import Store
from tests import postgres
from tests.e2e.fakes.discord_server import (
    EPHEMERAL,
    LOADING,
    FakeChannel,
    FakeDiscord,
    FakeUser,
    InteractionRecord,
    OptionValue,
    RecordedCall,
)

Json = dict[str, Any]


@contextlib.contextmanager
def discord_endpoints_restored() -> Iterator[None]:
    """Put discord.py's REST base and gateway back as they were after the test."""
    saved_base = discord.http.Route.BASE
    saved_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        yield
    finally:
        discord.http.Route.BASE = saved_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved_gateway


def discord_settings(fake: FakeDiscord, database_url: str, **extra: Any) -> Settings:
    """Build settings that point the Discord front end at the fake."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        discord_token=fake.token,
        discord_api_base=fake.api_base,
        discord_gateway=fake.gateway_url,
        **extra,
    )


def embed_text(body: Json | None) -> str:
    """Join what a message body shows: its content and its embeds' descriptions."""
    if not body:
        return ""
    parts = [str(body.get("content") or "")]
    parts += [str(e.get("description") or "") for e in body.get("embeds") or []]
    return "\n".join(p for p in parts if p)


def callback_data(call: RecordedCall) -> Json:
    """Return the `data` of an interaction callback."""
    data: Json = call.body.get("data") or {}
    return data


def is_ephemeral(body: Json) -> bool:
    """Say whether a message body asks to be seen by the caller only."""
    return bool(int(body.get("flags") or 0) & EPHEMERAL)


def custom_ids(body: Json) -> list[str]:
    """List the custom ids of a message body's components."""
    found: list[str] = []
    for row in body.get("components") or []:
        for component in row.get("components") or []:
            if "custom_id" in component:
                found.append(component["custom_id"])
    return found


@dataclass
class DiscordHarness:
    """The fake Discord, the store and the running front end, with helpers to drive them."""

    fake: FakeDiscord
    store: Store
    settings: Settings
    announcements: FakeChannel
    front_end: DiscordFrontEnd | None = None
    started: list[DiscordFrontEnd] = field(default_factory=list)

    async def start(self) -> DiscordFrontEnd:
        """Start a front end (a fresh process, as far as Discord can tell)."""
        front_end = DiscordFrontEnd(self.settings, self.store, guild_ready_timeout=0.05)
        await front_end.start()
        self.front_end = front_end
        self.started.append(front_end)
        return front_end

    async def stop(self) -> None:
        """Stop every front end started."""
        for front_end in self.started:
            await front_end.stop()
        self.started.clear()
        self.front_end = None

    async def slash(
        self,
        name: str,
        subcommand: str | None = None,
        *,
        user: FakeUser,
        options: Mapping[str, OptionValue] | None = None,
        channel: FakeChannel | None = None,
    ) -> InteractionRecord:
        """Type a slash command as `user`."""
        payload = self.fake.build_slash_command(
            name, subcommand=subcommand, user=user, options=options, channel=channel
        )
        return await self.fake.push_interaction(payload)

    async def answer(self, record: InteractionRecord) -> RecordedCall:
        """Wait for the first response to an interaction; it must have been accepted."""
        call = await self.fake.wait_for_callback(record)
        assert call.status == 200, call.response
        return call

    async def said(self, record: InteractionRecord) -> str:
        """Wait for a direct answer to an interaction and return the text it shows."""
        return embed_text(callback_data(await self.answer(record)))

    async def final_answer(self, record: InteractionRecord) -> Json:
        """Wait until an interaction's own message shows its answer (direct or after a defer)."""

        def shown() -> bool:
            message = self.fake.messages.get(record.original_message_id or 0)
            return message is not None and not int(message["flags"]) & LOADING

        await self.fake.wait_until(shown, description=f"the answer to {record.id}")
        return self.fake.messages[record.original_message_id or 0]

    async def settle(self) -> None:
        """Wait until the front end has answered an interaction pushed after everything before."""
        barrier = await self.slash("help", user=self.fake.member)
        await self.answer(barrier)

    def count(self, model: Any) -> int:
        """Count the rows of a table."""
        with self.store.unit_of_work() as session:
            return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def discord_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Yield a migrated store: a SQLite file, or a fresh Postgres database when asked.

    Tests ask for Postgres with
    `@pytest.mark.parametrize("discord_store", ["sqlite", "postgres"], indirect=True)`;
    Postgres tests skip without a server unless GOVBOT_REQUIRE_POSTGRES=1.
    """
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'govbot.db'}"
    else:
        request.getfixturevalue("postgres_server")
        url = postgres.create_database()
    store = open_store(url)
    try:
        yield store
    finally:
        store.dispose()
        if kind != "sqlite":
            postgres.drop_database(url)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Run a fake Discord; discord.py's endpoints are restored afterwards."""
    with discord_endpoints_restored():
        async with FakeDiscord() as server:
            yield server


@pytest_asyncio.fixture
async def harness(fake: FakeDiscord, discord_store: Store) -> AsyncIterator[DiscordHarness]:
    """Run the Discord front end against the fake until the test ends."""
    settings = discord_settings(fake, discord_store.engine.url.render_as_string(False))
    # Channels must exist before the client connects: the gateway sends them in GUILD_CREATE.
    announcements = fake.add_text_channel("announcements")
    running = DiscordHarness(fake, discord_store, settings, announcements)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def set_up_community(harness: DiscordHarness) -> None:
    """Run `/setup init` as the steward (Manage Server) and wait for its answer."""
    record = await harness.slash("setup", "init", user=harness.fake.steward)
    await harness.answer(record)
