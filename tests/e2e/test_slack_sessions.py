"""A committee meeting on Slack, driven by the session message's buttons against the fake.

The chair opens a session; members press Present; the chair presses Next; Yes votes come
from the session message's own buttons; the one message is updated in place (chat.update);
a member who is not the chair is refused privately; closing posts the minutes.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from govbot.services import messages
from tests.e2e import slack_fixtures
from tests.e2e.fakes.slack_server import DEFAULT_CHANNEL_ID, FakeSlack
from tests.e2e.slack_fixtures import eventually, running_slack, slack_settings
from tests.e2e.test_slack_ballots import ANN, BART, CORD, VOTERS, WORKSPACE, Ballots, Json, _buttons

fake_slack = slack_fixtures.fake_slack


@pytest_asyncio.fixture
async def meeting(fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Ballots]:
    """Run govbot on a workspace whose TSC is ashwini (chair), bartholomew and cordelia."""
    for user_id, name in VOTERS.items():
        fake_slack.add_user(user_id, name=name)
    async with running_slack(slack_settings(tmp_path, fake_slack), fake_slack) as bot:
        running = Ballots(bot)
        await running.gov("setup init")
        await bot.posted("Governance is set up")
        await eventually(lambda: bot.front_end.members.last(fake_slack.team_id) == WORKSPACE)
        for user_id, name in VOTERS.items():
            role = " role:chair" if user_id == ANN else ""
            await running.gov(f"body add tsc <@{user_id}|{name}>{role}")
            await bot.posted(f"@{name}")
        await running.create('title:"Adopt the style guide" electorate:tsc')
        yield running


def session_message(meeting: Ballots) -> Json:
    """Return session 1's message as it stands now."""
    posted = messages.find(meeting.bot.store, "slack", meeting.fake.team_id, "session:1")
    assert posted is not None
    channel, ts = posted
    return next(m for m in meeting.fake.messages if (m["channel"], m["ts"]) == (channel, ts))


async def updated_to(meeting: Ballots, fragment: str) -> Json:
    """Wait until session 1's message was updated (chat.update) to show `fragment`."""

    def shows() -> bool:
        updated = any(
            "Session #1" in call.args.get("text", "")
            for call in meeting.fake.calls_to("chat.update")
        )
        return updated and fragment in session_message(meeting)["text"]

    await eventually(shows)
    return copy.deepcopy(session_message(meeting))


async def test_a_meeting_is_run_from_the_buttons_of_one_message_updated_in_place(
    meeting: Ballots,
) -> None:
    fake = meeting.fake
    await meeting.gov('session open body:tsc agenda:"1"', ANN)
    await eventually(
        lambda: messages.find(meeting.bot.store, "slack", fake.team_id, "session:1") is not None
    )
    post = copy.deepcopy(session_message(meeting))
    assert post["text"].startswith("Session #1 of tsc, chaired by @ashwini")
    assert _buttons(post) == {
        "Present": "session present session:1",
        "Next item (chair)": "session next session:1",
        "Close session (chair)": "session close session:1",
    }

    for voter in (ANN, BART):
        here = await meeting.private(await meeting.press(post, "session present session:1", voter))
        assert "You are on the roll of session #1" in here
    await updated_to(meeting, "Present (2): @ashwini, @bartholomew")

    refused = await meeting.private(await meeting.press(post, "session next session:1", CORD))
    assert "Only the chair of tsc" in refused

    await meeting.press(post, "session next session:1", ANN)
    live = await updated_to(meeting, "1. #1 Adopt the style guide: voting now")
    assert _buttons(live)["Yes"] == "vote cast 1 yes"
    cast = await meeting.private(await meeting.press(live, "vote cast 1 yes", ANN))
    assert cast.startswith("Your ballot on #1 is recorded: Yes.")
    await updated_to(meeting, "Voted: 1 of 2 present (@ashwini)")
    await meeting.press(live, "vote cast 1 yes", BART)
    await updated_to(meeting, "1. #1 Adopt the style guide: passed")

    since = len(fake.calls)
    await meeting.press(live, "session close session:1", ANN)
    closing = await meeting.bot.posted("Session #1 of tsc has closed", since=since)
    assert closing.args["channel"] == DEFAULT_CHANNEL_ID
    assert "# Minutes of session #1 (tsc)" in str(closing.args["blocks"])
    done = await updated_to(meeting, "The session closed")
    assert _buttons(done) == {}
    await meeting.settled()
    posts = [c.args["text"] for c in fake.calls_to("chat.postMessage")]
    assert len([t for t in posts if t.startswith("Session #1 of tsc, chaired")]) == 1
