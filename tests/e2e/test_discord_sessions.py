"""A committee meeting on Discord, driven by the session message's buttons against the fake.

The chair opens a session; members press Present; the chair presses Next; Yes votes come
from the session message's own buttons; the one message is edited in place all along; a
member who is not the chair is refused privately; closing posts the minutes as a file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from govbot.services import messages
from govbot.storage.db import Store
from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import (
    DiscordHarness,
    discord_settings,
    embed_text,
    is_ephemeral,
    set_up_community,
)
from tests.e2e.fakes.discord_server import FakeDiscord
from tests.e2e.test_discord_ballots import VOTERS, Ballots, Json, _buttons

fake, discord_store = fx.fake, fx.discord_store


@pytest_asyncio.fixture
async def meeting(fake: FakeDiscord, discord_store: Store) -> AsyncIterator[Ballots]:
    """Run the Discord front end; the TSC is ann (chair), bart and cord, with proposal #1."""
    voters = tuple(fake.add_user(name) for name in VOTERS)
    announcements = fake.add_text_channel("announcements")
    settings = discord_settings(fake, discord_store.engine.url.render_as_string(False))
    harness = DiscordHarness(fake, discord_store, settings, announcements)
    await harness.start()
    try:
        await set_up_community(harness)
        running = Ballots(harness, voters)
        for index, voter in enumerate(voters):
            options = {"body": "tsc", "member": voter, **({"role": "chair"} if not index else {})}
            await running.shown(await running.slash("body", "add", fake.steward, **options))
        await running.create(title="Adopt the style guide", electorate="tsc")
        yield running
    finally:
        await harness.stop()


async def session_message(meeting: Ballots) -> Json:
    """Wait until the front end knows where session 1's message is; return it as it stands."""
    store, guild = meeting.harness.store, str(meeting.fake.guild_id)

    def known() -> bool:
        return messages.find(store, "discord", guild, "session:1") is not None

    await meeting.fake.wait_until(known, description="session 1 remembered")
    posted = messages.find(store, "discord", guild, "session:1")
    assert posted is not None
    return meeting.fake.messages[int(posted[1])]


async def test_a_meeting_is_run_from_the_buttons_of_one_message_edited_in_place(
    meeting: Ballots,
) -> None:
    fake = meeting.fake
    ann, bart, cord = meeting.voters
    opened = await meeting.slash("session", "open", ann, body="tsc", agenda="1")
    first = await meeting.shown(opened)
    assert not is_ephemeral(first)
    assert embed_text(first).startswith("Session #1 of tsc, chaired by @Ashwini")
    assert _buttons(first) == {
        "Present": "gov:session present session:1",
        "Next item (chair)": "gov:session next session:1",
        "Close session (chair)": "gov:session close session:1",
    }
    post = await session_message(meeting)

    for voter in (ann, bart):
        here = await meeting.shown(await meeting.press("gov:session present session:1", voter))
        assert is_ephemeral(here) and "You are on the roll of session #1" in embed_text(here)
    await meeting.edited_to(post, "Present (2): @Ashwini, @Bartholomew")

    refused = await meeting.shown(await meeting.press("gov:session next session:1", cord))
    assert is_ephemeral(refused)
    assert "Only the chair of tsc" in embed_text(refused)

    await meeting.press("gov:session next session:1", ann)
    live = await meeting.edited_to(post, "1. #1 Adopt the style guide: voting now")
    assert _buttons(live)["Yes"] == "gov:vote cast 1 yes"
    cast = await meeting.shown(await meeting.press("gov:vote cast 1 yes", ann))
    assert is_ephemeral(cast) and "recorded: Yes" in embed_text(cast)
    await meeting.edited_to(post, "Voted: 1 of 2 present (@Ashwini)")
    # The last present member's ballot ends the item: the result is posted in the open.
    await meeting.press("gov:vote cast 1 yes", bart)
    await meeting.edited_to(post, "1. #1 Adopt the style guide: passed")

    closed = await meeting.shown(await meeting.press("gov:session close session:1", ann))
    assert "Session #1 of tsc has closed" in embed_text(closed)
    done = await meeting.edited_to(post, "The session closed")
    assert _buttons(done) == {}
    await meeting.settled()
    public = [embed_text(m) for m in fake.channel_messages(fake.channel) if not is_ephemeral(m)]
    assert len([t for t in public if t.startswith("Session #1 of tsc, chaired")]) == 1
    with_file = [
        m
        for m in fake.channel_messages(fake.channel)
        if m.get("attachments") and not is_ephemeral(m)
    ]
    assert [a["filename"] for m in with_file for a in m["attachments"]] == ["session-1.md"]
