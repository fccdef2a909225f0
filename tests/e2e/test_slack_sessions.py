"""A committee meeting on Slack, driven by the session message's buttons against the fake.

The chair opens a session; members press Present; the chair presses Next; Yes votes come
from the session message's own buttons; the one message is updated in place (chat.update);
a member who is not the chair is refused privately; closing posts the minutes.
On a secret item nothing anyone else saw puts a voter beside a ballot, and no tally shows
before the item ends.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from govbot.services import messages
from tests.e2e import slack_fixtures
from tests.e2e.fakes.slack_server import DEFAULT_CHANNEL_ID, AppReply, FakeSlack
from tests.e2e.slack_fixtures import eventually, running_slack, slack_settings
from tests.e2e.test_slack_ballots import (
    ANN,
    BART,
    CORD,
    RECEIPT,
    VOTERS,
    WORKSPACE,
    Ballots,
    Json,
    Seen,
    _buttons,
    _everything,
)

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


async def chair_panel(meeting: Ballots, payload: dict[str, str], answer: AppReply) -> Json:
    """Return the chair's own controls: on the ack, or posted to the command's response_url."""
    if answer.text and "Your controls as chair" in answer.json().get("text", ""):
        return dict(answer.json())
    post = await meeting.fake.wait_for_response(payload["response_url"])
    assert "Your controls as chair" in post.body["text"]
    return dict(post.body)


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
    opened, answer = await meeting.gov('session open body:tsc agenda:"1"', ANN)
    panel = await chair_panel(meeting, opened, answer)
    await eventually(
        lambda: messages.find(meeting.bot.store, "slack", fake.team_id, "session:1") is not None
    )
    post = copy.deepcopy(session_message(meeting))
    assert post["text"].startswith("Session #1 of tsc, chaired by @ashwini")
    # Everyone sees Present; the chair's controls come to the chair alone.
    assert _buttons(post) == {"Present": "session present session:1"}
    assert _buttons(panel) == {
        "Next item": "session next session:1",
        "Close session": "session close session:1",
    }

    for voter in (ANN, BART):
        here = await meeting.private(await meeting.press(post, "session present session:1", voter))
        assert "You are on the roll of session #1" in here
    await updated_to(meeting, "Present (2): @ashwini, @bartholomew")

    refused = await meeting.private(await meeting.press(panel, "session next session:1", CORD))
    assert "Only the chair of tsc" in refused

    await meeting.press(panel, "session next session:1", ANN)
    live = await updated_to(meeting, "1. #1 Adopt the style guide: voting now")
    assert _buttons(live)["Yes"] == "vote cast 1 yes"
    cast = await meeting.private(await meeting.press(live, "vote cast 1 yes", ANN))
    assert cast.startswith("Your ballot on #1 is recorded: Yes.")
    await updated_to(meeting, "Voted: 1 of 2 present (@ashwini)")
    await meeting.press(live, "vote cast 1 yes", BART)
    await updated_to(meeting, "1. #1 Adopt the style guide: passed")

    since = len(fake.calls)
    await meeting.press(panel, "session close session:1", ANN)
    closing = await meeting.bot.posted("Session #1 of tsc has closed", since=since)
    assert closing.args["channel"] == DEFAULT_CHANNEL_ID
    assert "# Minutes of session #1 (tsc)" in str(closing.args["blocks"])
    done = await updated_to(meeting, "The session closed")
    assert _buttons(done) == {}
    await meeting.settled()
    posts = [c.args["text"] for c in fake.calls_to("chat.postMessage")]
    assert len([t for t in posts if t.startswith("Session #1 of tsc, chaired")]) == 1


# --- a secret item: who can see what ----------------------------------------------------------

Given = dict[str, tuple[set[str], set[str]]]


def _lines(value: Any) -> list[str]:
    """Every line of text in what Slack was sent, leaving out controls (actions blocks)."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value.splitlines()
        return _lines(parsed) if isinstance(parsed, dict | list) else value.splitlines()
    if isinstance(value, list):
        return [line for item in value for line in _lines(item)]
    if isinstance(value, dict):
        if value.get("type") == "actions":
            return []
        return [line for item in value.values() for line in _lines(item)]
    return []


def read(seen: Seen) -> list[str]:
    """Every line a person could read in one thing Slack was sent."""
    return _lines(seen.text)


def _named(line: str, voter: str) -> bool:
    return voter in line or VOTERS[voter] in line.lower()


def assert_no_voter_beside_a_choice(everything: list[Seen], given: Given) -> None:
    """No line anyone but the voter saw shows a voter next to a choice or reason they gave.

    By line: minutes list the roll and the (unnamed) reasons in one document.
    """
    for seen in everything:
        for voter, (choices, reasons) in given.items():
            if seen.to == voter:
                continue
            for line in read(seen):
                if not _named(line, voter):
                    continue
                assert not any(reason in line for reason in reasons), (seen.to, line)
                for choice in choices:
                    assert not re.search(rf"\b{choice}\b", line, re.IGNORECASE), (seen.to, line)


async def test_a_secret_item_in_a_meeting_shows_nobody_beside_a_ballot_and_no_tally_until_it_ends(
    meeting: Ballots,
) -> None:
    fake = meeting.fake
    await meeting.gov('proposal create title:"Elect the secretary" electorate:tsc secret:yes')
    await eventually(lambda: meeting.posted(2) is not None)
    panel = await chair_panel(meeting, *await meeting.gov('session open body:tsc agenda:"2"', ANN))
    await eventually(
        lambda: messages.find(meeting.bot.store, "slack", fake.team_id, "session:1") is not None
    )
    post = copy.deepcopy(session_message(meeting))
    for voter in VOTERS:
        await meeting.private(await meeting.press(post, "session present session:1", voter))
    await updated_to(meeting, "Present (3)")
    await meeting.press(panel, "session next session:1", ANN)
    live = await updated_to(meeting, "1. #2 Elect the secretary: voting now")
    assert _buttons(live)["No"] == "vote cast 2 no"
    given: Given = {v: (set(), set()) for v in VOTERS}
    receipts: dict[str, str] = {}

    def cast(voter: str, answer: str, choice: str, reason: str = "") -> str:
        found = RECEIPT.findall(answer)
        assert len(found) == 1, answer
        assert receipts.setdefault(voter, found[0]) == found[0]
        given[voter][0].add(choice)
        if reason:
            given[voter][1].add(reason)
        return answer

    cast(
        ANN, await meeting.private(await meeting.press(live, "vote cast 2 abstain", ANN)), "abstain"
    )
    await updated_to(meeting, "Voted: 1 of 3 present.")
    changed = await meeting.private(await meeting.press(live, "vote cast 2 yes", ANN))
    assert "changed" in cast(ANN, changed, "yes")
    since = len(fake.calls)
    await meeting.press(live, "vote cast 2 no", BART)
    await meeting.submit(await meeting.modal(since), BART, {"reason": "Too soon to say"})
    cast(BART, await meeting.ephemeral_to(BART, since), "no", "Too soon to say")
    await updated_to(meeting, "Voted: 2 of 3 present.")
    since = len(fake.calls)
    cast(CORD, await meeting.private(await meeting.press(live, "vote cast 2 yes", CORD)), "yes")
    result = await meeting.bot.posted("Receipts counted:", since=since)
    since = len(fake.calls)
    await meeting.press(panel, "session close session:1", ANN)
    closing = await meeting.bot.posted("Session #1 of tsc has closed", since=since)
    await updated_to(meeting, "The session closed")
    await meeting.settled()

    assert "Tally: Yes 2, No 1, Abstain 0." in result.args["text"]
    assert "A voter (No): Too soon to say" in result.args["text"]
    minutes = "\n".join(read(Seen(None, json.dumps(closing.args))))
    assert "# Minutes of session #1 (tsc)" in minutes
    assert "Reason (No): Too soon to say" in minutes
    everything = _everything(meeting)
    # Until the item ended, no call showed a tally: not the session message, not anything.
    end = fake.calls.index(result)
    before = [line for c in fake.calls[:end] for line in read(Seen(None, json.dumps(c.args)))]
    assert any("Voted: 2 of 3 present." in line for line in before)
    assert not [t for t in before if "Tally" in t or re.search(r"\b(Yes|No|Abstain) \d", t)]
    assert_no_voter_beside_a_choice(everything, given)
    for voter, code in receipts.items():
        for seen in everything:
            if code in seen.text and seen.to != voter:
                assert "Receipts counted:" in seen.text, seen
