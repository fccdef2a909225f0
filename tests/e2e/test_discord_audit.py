"""The audit commands through Discord, on SQLite and on Postgres."""

from __future__ import annotations

import pytest

from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import (
    DiscordHarness,
    callback_data,
    embed_text,
    is_ephemeral,
    set_up_community,
)

fake, discord_store, harness = fx.fake, fx.discord_store, fx.harness

pytestmark = pytest.mark.parametrize("discord_store", ["sqlite", "postgres"], indirect=True)

# `/setup init` writes the community and its six default bodies.
ENTRIES_AFTER_SETUP = 7


async def test_audit_log_lists_the_entries_privately(harness: DiscordHarness) -> None:
    await set_up_community(harness)
    fake = harness.fake

    log = await harness.slash("audit", "log", user=fake.member)
    one = await harness.slash(
        "audit", "log", user=fake.member, options={"kind": "community", "id": "1"}
    )

    log_data = callback_data(await harness.answer(log))
    assert is_ephemeral(log_data)
    assert "body.created" in embed_text(log_data)
    assert "community.initialized" in await harness.said(one)


async def test_audit_verify_reports_an_intact_chain(harness: DiscordHarness) -> None:
    await set_up_community(harness)

    verify = await harness.slash("audit", "verify", user=harness.fake.member)

    data = callback_data(await harness.answer(verify))
    assert is_ephemeral(data)
    assert f"Audit chain intact: {ENTRIES_AFTER_SETUP} entries" in embed_text(data)


async def test_audit_export_sends_the_chain_as_a_private_file(harness: DiscordHarness) -> None:
    await set_up_community(harness)
    fake = harness.fake

    export = await harness.slash("audit", "export", user=fake.member, options={"format": "json"})

    exported = await harness.answer(export)
    data = callback_data(exported)
    assert is_ephemeral(data)
    assert "Audit chain exported as json." in embed_text(data)
    assert len(exported.files) == 1
    assert exported.files[0] == f"audit-discord-{fake.guild_id}.json"
    attachment = fake.messages[export.original_message_id or 0]["attachments"][0]
    assert attachment["filename"] == exported.files[0]
    assert attachment["size"] > 0
