"""Public posts after Discord answered 5xx: made once, and the member is told the truth."""

from __future__ import annotations

import pytest

from govbot.adapters.discord import respond
from govbot.replies import CommunityRef, Notice, Reply, Visibility
from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import DiscordHarness, embed_text, is_ephemeral, set_up_community

fake, discord_store, harness = fx.fake, fx.discord_store, fx.harness


async def _announce_in(harness: DiscordHarness) -> str:
    """Set the community up with an announce channel; return its messages route."""
    await set_up_community(harness)
    announce = harness.announcements
    configured = await harness.slash(
        "setup", "set", user=harness.fake.steward, options={"announce": announce}
    )
    await harness.answer(configured)
    return rf"/channels/{announce.id}/messages"


@pytest.mark.parametrize("status", [500, 503])
async def test_a_post_made_despite_a_server_error_appears_once_and_is_reported_posted(
    harness: DiscordHarness, status: int
) -> None:
    fake = harness.fake
    route = await _announce_in(harness)
    fake.server_error("POST", route, status=status, applied=True)

    record = await harness.slash("body", "join", user=fake.member, options={"body": "operations"})

    answer = await harness.final_answer(record)
    posts = fake.find_calls(method="POST", path=route)
    assert [c.status for c in posts] == [status, 200]
    assert posts[0].body["nonce"] == posts[1].body["nonce"]
    assert posts[1].body["enforce_nonce"] is True
    assert [embed_text(m) for m in fake.channel_messages(harness.announcements)] == [
        "@Member joined operations."
    ]
    assert is_ephemeral(answer)
    assert embed_text(answer) == f"Posted in <#{harness.announcements.id}>."


async def test_a_post_discord_never_confirms_is_reported_as_unconfirmed(
    harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = harness.fake
    route = await _announce_in(harness)
    monkeypatch.setattr(respond, "POST_RETRY_DELAYS", (0.05, 0.05))
    fake.server_error("POST", route, status=503, applied=False, count=3)

    record = await harness.slash("body", "join", user=fake.member, options={"body": "operations"})

    answer = await harness.final_answer(record)
    assert [c.status for c in fake.find_calls(method="POST", path=route)] == [503, 503, 503]
    assert fake.channel_messages(harness.announcements) == []
    text = embed_text(answer)
    assert "Discord did not confirm my post" in text
    assert "could not post" not in text


async def test_a_refused_post_is_reported_as_failed(harness: DiscordHarness) -> None:
    fake = harness.fake
    route = await _announce_in(harness)
    fake.inject_error("POST", route, status=403, body={"code": 50013, "message": "Missing"})

    record = await harness.slash("body", "join", user=fake.member, options={"body": "operations"})

    answer = await harness.final_answer(record)
    assert len(fake.find_calls(method="POST", path=route)) == 1
    assert "I could not post in" in embed_text(answer)


async def test_a_later_notice_after_a_server_error_is_posted_once(
    harness: DiscordHarness,
) -> None:
    fake = harness.fake
    assert harness.front_end is not None
    route = rf"/channels/{fake.channel.id}/messages"
    fake.server_error("POST", route, status=503, applied=True)
    notice = Notice(
        CommunityRef("discord", str(fake.guild_id)), Reply("The vote closed.", Visibility.PUBLIC)
    )

    await harness.front_end.deliver(notice)

    assert [c.status for c in fake.find_calls(method="POST", path=route)] == [503, 200]
    assert [embed_text(m) for m in fake.channel_messages(fake.channel)] == ["The vote closed."]
