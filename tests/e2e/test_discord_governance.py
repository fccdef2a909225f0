"""Command groups through Discord: setup and body; admins, buttons, public posts (audit: see
test_discord_audit)."""

from __future__ import annotations

from sqlmodel import select

from govbot.storage.models import AuditEntry, Community, Member
from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import (
    DiscordHarness,
    callback_data,
    custom_ids,
    embed_text,
    is_ephemeral,
    set_up_community,
)
from tests.e2e.fakes.discord_server import FakeUser

fake, discord_store, harness = fx.fake, fx.discord_store, fx.harness

NO_MENTIONS = {"parse": []}


def _display_name(harness: DiscordHarness, user: FakeUser) -> str | None:
    with harness.store.unit_of_work() as session:
        member = session.exec(select(Member).where(Member.platform_user_id == str(user.id))).first()
        return member.display_name if member else None


async def test_a_manage_server_member_sets_governance_up_in_public(
    harness: DiscordHarness,
) -> None:
    record = await harness.slash("setup", "init", user=harness.fake.steward)

    call = await harness.answer(record)

    data = callback_data(call)
    assert call.body["type"] == 4
    assert not is_ephemeral(data)
    assert "Governance is set up" in embed_text(data)
    assert "quality" in embed_text(data)
    with harness.store.unit_of_work() as session:
        community = session.exec(select(Community)).one()
        assert community.platform == "discord"
        assert community.external_id == str(harness.fake.guild_id)


async def test_a_plain_member_is_refused_setup_privately_and_nothing_is_written(
    harness: DiscordHarness,
) -> None:
    record = await harness.slash("setup", "init", user=harness.fake.member)

    data = callback_data(await harness.answer(record))

    assert is_ephemeral(data)
    assert "You do not have permission" in embed_text(data)
    assert harness.count(AuditEntry) == 0


async def test_settings_are_shown_privately(harness: DiscordHarness) -> None:
    await set_up_community(harness)

    record = await harness.slash("setup", "show", user=harness.fake.member)

    data = callback_data(await harness.answer(record))
    assert is_ephemeral(data)
    assert "timezone: UTC" in embed_text(data)


async def test_a_member_option_carries_the_display_name_into_the_reply(
    harness: DiscordHarness,
) -> None:
    await set_up_community(harness)
    fake = harness.fake

    record = await harness.slash(
        "body", "add", user=fake.steward, options={"body": "tsc", "member": fake.member}
    )

    data = callback_data(await harness.answer(record))
    assert "@Member now sits on tsc as member." in embed_text(data)
    assert not is_ephemeral(data)
    assert _display_name(harness, fake.member) == "Member"


async def test_join_button_on_body_show_seats_the_presser(harness: DiscordHarness) -> None:
    await set_up_community(harness)
    fake = harness.fake
    shown = await harness.slash("body", "show", user=fake.member, options={"body": "quality"})
    show_data = callback_data(await harness.answer(shown))
    assert is_ephemeral(show_data)
    assert "quality: Quality committee" in embed_text(show_data)
    assert custom_ids(show_data) == ["gov:body join quality"]
    assert show_data["components"][0]["components"][0]["label"] == "Join"

    press = await fake.push_interaction(
        fake.build_component("gov:body join quality", user=fake.member)
    )
    joined = callback_data(await harness.answer(press))
    again = await fake.push_interaction(
        fake.build_component("gov:body join quality", user=fake.member)
    )
    refused = callback_data(await harness.answer(again))

    assert "@Member joined quality." in embed_text(joined)
    assert not is_ephemeral(joined)
    assert is_ephemeral(refused)
    assert "You already sit on quality." in embed_text(refused)
    reshown = await harness.slash("body", "show", user=fake.member, options={"body": "quality"})
    reshown_data = callback_data(await harness.answer(reshown))
    assert "@Member, chair" in embed_text(reshown_data)
    assert custom_ids(reshown_data) == []


async def test_public_replies_go_to_the_announce_channel_with_a_private_pointer(
    harness: DiscordHarness,
) -> None:
    await set_up_community(harness)
    fake = harness.fake
    announce = harness.announcements
    configured = await harness.slash(
        "setup", "set", user=fake.steward, options={"announce": announce}
    )
    assert "Settings changed: announce." in await harness.said(configured)

    record = await harness.slash("body", "join", user=fake.member, options={"body": "operations"})

    pointer = callback_data(await harness.answer(record))
    post = await fake.wait_for_call(method="POST", path=rf"/channels/{announce.id}/messages")
    assert is_ephemeral(pointer)
    assert embed_text(pointer) == f"Posted in <#{announce.id}>."
    assert embed_text(post.body) == "@Member joined operations."
    assert post.body["allowed_mentions"] == NO_MENTIONS
    assert [m["embeds"][0]["description"] for m in fake.channel_messages(announce)] == [
        "@Member joined operations."
    ]


async def test_body_create_list_term_and_leave(harness: DiscordHarness) -> None:
    await set_up_community(harness)
    fake = harness.fake
    created = await harness.slash(
        "body",
        "create",
        user=fake.steward,
        options={"name": "docs", "kind": "custom", "title": "Docs team", "open": "yes"},
    )
    assert "Body docs (Docs team) created." in await harness.said(created)
    term = await harness.slash(
        "body", "term", user=fake.steward, options={"body": "docs", "length": "6mo"}
    )
    assert "Terms on docs now last 6 months." in await harness.said(term)
    joined = await harness.slash("body", "join", user=fake.member, options={"body": "docs"})
    assert "@Member joined docs." in await harness.said(joined)
    left = await harness.slash("body", "leave", user=fake.member, options={"body": "docs"})
    assert "@Member left docs." in await harness.said(left)
    removed = await harness.slash(
        "body", "remove", user=fake.steward, options={"body": "docs", "member": fake.member}
    )
    assert "does not sit on docs" in await harness.said(removed)

    listed = await harness.slash("body", "list", user=fake.member)

    data = callback_data(await harness.answer(listed))
    assert is_ephemeral(data)
    assert "• docs: Docs team (open), 0 members" in embed_text(data)


async def test_user_text_with_everyone_never_pings(harness: DiscordHarness) -> None:
    await set_up_community(harness)
    fake = harness.fake

    record = await harness.slash(
        "body",
        "create",
        user=fake.steward,
        options={
            "name": "party",
            "kind": "custom",
            "title": "@everyone come <@&123456789012345678>",
        },
    )

    data = callback_data(await harness.answer(record))
    text = embed_text(data)
    assert data["allowed_mentions"] == NO_MENTIONS
    assert "@\u200beveryone come <@\u200b&123456789012345678>" in text
    assert "@everyone" not in text
    assert fake.messages[record.original_message_id or 0]["mention_everyone"] is False
