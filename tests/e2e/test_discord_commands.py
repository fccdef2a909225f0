"""Slash commands built from the command table: sync, localisation, help, autocomplete."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from govbot.commands import COMMANDS, GROUPS
from govbot.services.bot_state import write_state
from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import (
    DiscordHarness,
    callback_data,
    embed_text,
    is_ephemeral,
    set_up_community,
)
from tests.e2e.fakes.discord_server import RecordedCall

fake, discord_store, harness = fx.fake, fx.discord_store, fx.harness

# Discord's rule for names in any locale (letters of any script, digits, - _ ').
_NAME = re.compile(r"^[-_'\w]{1,32}$")
USER, CHANNEL, STRING, INTEGER = 6, 7, 3, 4


def _puts(harness: DiscordHarness) -> list[RecordedCall]:
    return harness.fake.find_calls(
        method="PUT", path=rf"/applications/{harness.fake.application_id}/commands"
    )


def _synced(harness: DiscordHarness) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in _puts(harness)[0].body}


def _option(command: dict[str, object], *path: str) -> dict[str, object]:
    options: list[dict[str, object]] = command["options"]  # type: ignore[assignment]
    found: dict[str, object] = {}
    for name in path:
        found = next(o for o in options if o["name"] == name)
        options = found.get("options") or []  # type: ignore[assignment]
    return found


async def test_help_answers_privately_with_every_group(harness: DiscordHarness) -> None:
    record = await harness.slash("help", user=harness.fake.member)

    call = await harness.answer(record)

    data = callback_data(call)
    assert call.body["type"] == 4
    assert is_ephemeral(data)
    text = embed_text(data)
    assert "/setup init" in text
    assert "/body join body:<body>" in text
    assert "/audit verify" in text
    assert "/gov" not in text


async def test_help_for_one_group_lists_only_that_group(harness: DiscordHarness) -> None:
    record = await harness.slash("help", user=harness.fake.member, options={"group": "audit"})

    text = await harness.said(record)

    assert "/audit export format:json|csv" in text
    assert "/gov body" not in text


async def test_each_group_is_one_guild_only_command_with_its_actions(
    harness: DiscordHarness,
) -> None:
    synced = _synced(harness)

    assert sorted(synced) == sorted(GROUPS)
    for name, command in synced.items():
        assert command["contexts"] == [0], name
        assert command["dm_permission"] is False, name
    actions = {c.action for c in COMMANDS if c.group == "body"}
    assert {o["name"] for o in synced["body"]["options"]} == actions  # type: ignore[attr-defined]
    assert [o["type"] for o in synced["setup"]["options"]] == [1, 1, 1]  # type: ignore[attr-defined]
    group = _option(synced["help"], "group")
    assert group["type"] == STRING
    assert group["required"] is False
    assert [c["value"] for c in group["choices"]] == [  # type: ignore[attr-defined]
        "setup",
        "body",
        "audit",
        "proposal",
        "vote",
        "concern",
        "delegate",
        "session",
    ]


async def test_options_are_typed_with_choices_and_autocomplete(harness: DiscordHarness) -> None:
    synced = _synced(harness)

    member = _option(synced["body"], "add", "member")
    body = _option(synced["body"], "add", "body")
    role = _option(synced["body"], "add", "role")
    announce = _option(synced["setup"], "set", "announce")
    days = _option(synced["setup"], "set", "level1_days")
    language = _option(synced["setup"], "set", "language")
    timezone = _option(synced["setup"], "set", "timezone")
    assert (member["type"], member["required"]) == (USER, True)
    assert (body["type"], body["required"], body["autocomplete"]) == (STRING, True, True)
    assert [c["value"] for c in role["choices"]] == ["member", "chair"]  # type: ignore[attr-defined]
    assert (announce["type"], announce["channel_types"]) == (CHANNEL, [0, 5])
    assert days["type"] == INTEGER
    assert [c["value"] for c in language["choices"]] == ["en", "zh-CN"]  # type: ignore[attr-defined]
    assert timezone["type"] == STRING
    assert "autocomplete" not in timezone
    assert _option(synced["body"], "show", "body")["autocomplete"] is True


async def test_names_and_descriptions_are_localised_for_simplified_chinese(
    harness: DiscordHarness,
) -> None:
    synced = _synced(harness)
    body = synced["body"]
    join = _option(body, "join")
    member = _option(body, "add", "member")

    assert body["name_localizations"] == {"zh-CN": "机构"}
    assert body["description_localizations"] == {"zh-CN": "机构：委员会、团队及其成员"}
    assert join["name_localizations"] == {"zh-CN": "加入"}
    assert join["description_localizations"] == {"zh-CN": "加入开放的机构。"}
    assert member["name_localizations"] == {"zh-CN": "成员"}
    assert synced["help"]["name_localizations"] == {"zh-CN": "帮助"}

    def names(item: dict[str, object]) -> None:
        localised = item.get("name_localizations") or {}
        for name in [item["name"], *localised.values()]:  # type: ignore[attr-defined]
            assert _NAME.fullmatch(str(name)), name
        for option in item.get("options") or []:  # type: ignore[attr-defined]
            names(option)

    for command in synced.values():
        names(command)


async def test_commands_are_synced_once_and_not_again_after_a_restart(
    harness: DiscordHarness,
) -> None:
    assert len(_puts(harness)) == 1

    await harness.stop()
    await harness.start()
    await harness.stop()
    await harness.start()

    assert harness.fake.identify_count == 3
    assert len(_puts(harness)) == 1
    record = await harness.slash("help", user=harness.fake.member)
    assert "/help [group:<group>]" in await harness.said(record)


async def test_changed_definitions_are_synced_again_on_start(harness: DiscordHarness) -> None:
    await harness.stop()
    key = f"discord.commands.{harness.fake.application_id}"
    write_state(harness.store, key, "an older definition", datetime.now(UTC))

    await harness.start()

    assert len(_puts(harness)) == 2
    assert _puts(harness)[1].body == _puts(harness)[0].body


async def test_body_option_autocompletes_the_community_bodies(harness: DiscordHarness) -> None:
    await set_up_community(harness)
    fake = harness.fake

    typed = await fake.push_interaction(
        fake.build_autocomplete(
            "body", subcommand="show", focused="body", value="qu", user=fake.member
        )
    )
    everything = await fake.push_interaction(
        fake.build_autocomplete("body", subcommand="add", focused="body", user=fake.member)
    )

    call = await harness.answer(typed)
    assert call.body == {
        "type": 8,
        "data": {"choices": [{"name": "quality: Quality committee", "value": "quality"}]},
    }
    listed = callback_data(await harness.answer(everything))["choices"]
    assert [c["value"] for c in listed] == [
        "committee",
        "mediators",
        "moderators",
        "operations",
        "quality",
        "tsc",
    ]
