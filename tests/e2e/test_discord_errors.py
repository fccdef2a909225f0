"""Interactions discord.py cannot run as commands still get one private answer."""

from __future__ import annotations

from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import (
    DiscordHarness,
    callback_data,
    embed_text,
    is_ephemeral,
    set_up_community,
)
from tests.e2e.fakes.discord_server import CommandOption, InteractionRecord

fake, discord_store, harness = fx.fake, fx.discord_store, fx.harness

USER = 6


async def _only_private_answer(harness: DiscordHarness, record: InteractionRecord) -> str:
    """Return the text of an interaction's answer, which must be its one and only response."""
    call = await harness.answer(record)
    await harness.settle()
    data = callback_data(call)
    assert call.body["type"] == 4
    assert is_ephemeral(data)
    assert len(record.callbacks) == 1
    assert harness.fake.find_calls(path=rf"/webhooks/\d+/{record.token}.*") == []
    return embed_text(data)


async def test_an_unknown_command_is_answered_privately_with_a_pointer_to_help(
    harness: DiscordHarness,
) -> None:
    record = await harness.slash("ballot", "box", user=harness.fake.member)

    text = await _only_private_answer(harness, record)

    assert "I do not know the command /ballot box" in text
    assert "Type `/help` to see every command." in text


async def test_an_unknown_action_of_a_known_group_names_the_group_commands(
    harness: DiscordHarness,
) -> None:
    record = await harness.slash("body", "frobnicate", user=harness.fake.member)

    text = await _only_private_answer(harness, record)

    assert "I do not know the command /body frobnicate" in text
    assert "The commands of /body are `/body create`, `/body add`" in text
    assert "`/body term`" in text
    assert "/setup" not in text


async def test_a_group_sent_without_an_action_names_the_group_commands(
    harness: DiscordHarness,
) -> None:
    record = await harness.slash("audit", user=harness.fake.member)

    text = await _only_private_answer(harness, record)

    assert "I do not know the command /audit" in text
    assert "The commands of /audit are `/audit log`, `/audit verify`, `/audit export`." in text


async def test_a_missing_required_option_is_explained_with_the_usage_line(
    harness: DiscordHarness,
) -> None:
    await set_up_community(harness)

    record = await harness.slash("body", "join", user=harness.fake.member)

    text = await _only_private_answer(harness, record)
    assert "Missing value: body." in text
    assert "Usage: /body join body:<body>" in text


async def test_the_private_answer_is_in_the_community_language(harness: DiscordHarness) -> None:
    await set_up_community(harness)
    fake = harness.fake
    switched = await harness.slash("setup", "set", user=fake.steward, options={"language": "zh-CN"})
    await harness.answer(switched)

    unknown = await harness.slash("body", "frobnicate", user=fake.member)
    missing = await harness.slash("body", "join", user=fake.member)

    unknown_text = await _only_private_answer(harness, unknown)
    missing_text = await _only_private_answer(harness, missing)
    assert "我不认识命令 /body frobnicate" in unknown_text
    assert "/body 的命令有：`/body create`" in unknown_text
    assert "用法：/机构 加入 机构:<body>" in missing_text


async def test_an_unresolved_member_option_is_read_as_a_mention_not_a_python_repr(
    harness: DiscordHarness,
) -> None:
    await set_up_community(harness)
    fake = harness.fake
    # Discord sent the user's id but no resolved user: discord.py passes a bare Object.
    unresolved = CommandOption(str(fake.member.id), USER)

    record = await harness.slash(
        "body", "add", user=fake.steward, options={"body": "tsc", "member": unresolved}
    )

    text = await harness.said(record)
    assert "Object" not in text
    assert "now sits on tsc as member." in text
    shown = await harness.slash("body", "show", user=fake.member, options={"body": "tsc"})
    assert "Object" not in await harness.said(shown)
