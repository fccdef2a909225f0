"""Proposals and ballots on Slack, through the Bolt app against the fake, with real proposals.

Every ballot type is cast the way a member would (Block Kit buttons, the reason modal, the
multi-select, the ranking modal); the proposal's message is updated in place (chat.update);
closing posts the result and removes the controls; a secret ballot names nobody next to a
choice in anything Slack was sent; a community's electorate is the workspace's member count.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from govbot.adapters.slack.members import MemberCounts
from govbot.replies import CommunityRef, Notice, Reply, Visibility
from govbot.services import messages
from govbot.services.timers import run_due
from tests.e2e import slack_fixtures
from tests.e2e.fakes.slack_server import (
    DEFAULT_CHANNEL_ID,
    DEFAULT_USER_ID,
    AppReply,
    FakeSlack,
    ResponseUrlPost,
)
from tests.e2e.slack_fixtures import ADMIN_ID, SlackBot, eventually, running_slack, slack_settings

fake_slack = slack_fixtures.fake_slack
slack_bot = slack_fixtures.slack_bot

Json = dict[str, Any]
ANNOUNCE_ID = "C0ANNOUNCE"
VOTERS = {"U0ASHWINI": "ashwini", "U0BARTHOLOMEW": "bartholomew", "U0CORDELIA": "cordelia"}
ANN, BART, CORD = VOTERS
# The workspace's people: the member, ada (an admin) and the three voters.
WORKSPACE = 5


@dataclass
class Seen:
    """What one answer showed, and to whom (a user id), or None when a channel saw it."""

    to: str | None
    text: str


@dataclass
class Ballots:
    """govbot on Slack, with every answer the test's own requests got back."""

    bot: SlackBot
    acks: list[Seen] = field(default_factory=list)
    # Who each response_url and trigger belongs to: what goes through them, they alone see.
    owners: dict[str, str] = field(default_factory=dict)

    @property
    def fake(self) -> FakeSlack:
        """Return the fake Slack."""
        return self.bot.fake

    def _noted(self, payload: Mapping[str, Any], user: str) -> None:
        for key in ("response_url", "trigger_id"):
            if payload.get(key):
                self.owners[str(payload[key])] = user

    async def gov(self, text: str, user: str = ADMIN_ID) -> tuple[dict[str, str], AppReply]:
        """Type `/gov text` as `user`; return the payload and the ack."""
        payload = self.fake.payloads.slash_command(text, user_id=user)
        self._noted(payload, user)
        answer = await self.bot.slack.send_slash_command(payload)
        assert answer.status == 200, answer.text
        if answer.text:
            self.acks.append(Seen(user, answer.text))
        return payload, answer

    async def said(self, text: str, user: str) -> str:
        """Type `/gov text` and return the private answer (on the ack or its response_url)."""
        payload, answer = await self.gov(text, user)
        if answer.text:
            return str(answer.json()["text"])
        post = await self.fake.wait_for_response(payload["response_url"])
        return str(post.body["text"])

    async def press(self, message: Json, command: str, user: str) -> Json:
        """Click the button of `message` that runs `command`; return the payload sent."""
        block, button = next(
            (block, element)
            for block in message.get("blocks") or []
            if block["type"] == "actions"
            for element in block["elements"]
            if element.get("value") == command
        )
        # An ephemeral message has no ts: Slack sends its clicks without the message.
        shown = message if "ts" in message else None
        payload = self.fake.payloads.block_actions(
            button["action_id"], command, block_id=block["block_id"], user_id=user, message=shown
        )
        self._noted(payload, user)
        answer = await self.bot.slack.send_interaction(payload)
        assert answer.status == 200, answer.text
        return payload

    async def pick(self, message: Json, values: list[str], user: str) -> Json:
        """Pick `values` in the select menu of `message`; return the payload sent."""
        payload = self.fake.payloads.select_actions(message, values, user_id=user)
        self._noted(payload, user)
        answer = await self.bot.slack.send_interaction(payload)
        assert answer.status == 200, answer.text
        return payload

    async def private(self, payload: Json) -> str:
        """Return what a click or pick answered its user (through its response_url)."""
        post = await self.fake.wait_for_response(payload["response_url"])
        assert post.body["response_type"] == "ephemeral"
        return str(post.body["text"])

    async def modal(self, since: int) -> Json:
        """Wait for the modal opened after call `since`; return the view as Slack keeps it."""
        opened = await self.fake.wait_for_call("views.open", since=since)
        return self.fake.views[opened.response["view"]["id"]]

    async def submit(self, view: Json, user: str, values: Mapping[str, Any]) -> AppReply:
        """Submit a modal as `user` with plain-text `values` (or prepared state values)."""
        state = {
            key: value if isinstance(value, dict) else {key: _plain(value)}
            for key, value in values.items()
        }
        payload = self.fake.payloads.view_submission(view, state, user_id=user)
        answer = await self.bot.slack.send_interaction(payload)
        assert answer.status == 200, answer.text
        if answer.text:
            self.acks.append(Seen(user, answer.text))
        return answer

    async def ephemeral_to(self, user: str, since: int) -> str:
        """Wait for a chat.postEphemeral to `user` after call `since`; return its text."""
        call = await self.fake.wait_for_call(
            "chat.postEphemeral", lambda c: c.args.get("user") == user, since=since
        )
        return str(call.args["text"])

    async def create(self, options: str) -> Json:
        """Open proposal 1 as ada by `/gov proposal create`; return its message as posted.

        A copy: the fake updates its own message in place, which `message` reads.
        """
        await self.gov(f"proposal create {options}")
        await eventually(lambda: self.posted(1) is not None)
        return copy.deepcopy(self.message(1))

    def posted(self, number: int) -> tuple[str, str] | None:
        """Say where proposal `number` was posted, as the front end noted it."""
        return messages.find(self.bot.store, "slack", self.fake.team_id, f"proposal:{number}")

    def message(self, number: int) -> Json:
        """Return proposal `number`'s message as it stands now."""
        posted = self.posted(number)
        assert posted is not None
        channel, ts = posted
        return next(m for m in self.fake.messages if (m["channel"], m["ts"]) == (channel, ts))

    async def updated_to(self, number: int, fragment: str) -> Json:
        """Wait until proposal `number`'s message was updated to show `fragment`."""

        def shows() -> bool:
            return (
                bool(self.fake.calls_to("chat.update")) and fragment in self.message(number)["text"]
            )

        await eventually(shows)
        return self.message(number)

    async def settled(self) -> None:
        """Wait until every edit the front end was handed has been sent."""
        await eventually(lambda: not self.bot.front_end.edits.busy())

    async def close_by_timer(self, days: int = 8) -> None:
        """Run the timers as if `days` had passed and deliver what they say."""
        for notice in run_due(self.bot.store, datetime.now(UTC) + timedelta(days=days)):
            await self.bot.front_end.deliver(notice)


def _plain(value: str) -> Json:
    return {"type": "plain_text_input", "value": value}


def _chosen(value: str) -> Json:
    return {"type": "static_select", "selected_option": {"value": value}}


@pytest_asyncio.fixture
async def ballots(fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Ballots]:
    """Run govbot on a workspace with three more members, set up by ada and counted."""
    for user_id, name in VOTERS.items():
        fake_slack.add_user(user_id, name=name)
    async with running_slack(slack_settings(tmp_path, fake_slack), fake_slack) as bot:
        running = Ballots(bot)
        await running.gov("setup init")
        await bot.posted("Governance is set up")
        # Counted at start, in the background: proposals take the count once it is known.
        await eventually(lambda: bot.front_end.members.last(fake_slack.team_id) == WORKSPACE)
        yield running


def _actions(message: Json) -> dict[str, Json]:
    return {b["block_id"]: b for b in message.get("blocks") or [] if b["type"] == "actions"}


def _buttons(message: Json) -> dict[str, str]:
    return {
        element["text"]["text"]: element["value"]
        for block in _actions(message).values()
        for element in block["elements"]
        if element["type"] == "button"
    }


# --- every ballot type -----------------------------------------------------------------------


async def test_yes_no_abstain_buttons_vote_a_no_asks_its_reason_and_the_post_is_updated(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    post = await ballots.create('title:"Paint the shed"')
    assert _buttons(post) == {
        "Yes": "vote cast 1 yes",
        "No": "vote cast 1 no",
        "Abstain": "vote cast 1 abstain",
    }

    yes = await ballots.press(post, "vote cast 1 yes", ANN)
    assert (await ballots.private(yes)).startswith("Your ballot on #1 is recorded: Yes.")
    await ballots.updated_to(1, "Tally: Yes 1, No 0, Abstain 0.")
    since = len(fake.calls)
    await ballots.press(post, "vote cast 1 no", BART)
    view = await ballots.modal(since)
    assert json.loads(view["private_metadata"])["command"] == "vote cast 1 no"
    assert [b["block_id"] for b in view["blocks"]] == ["reason"]
    answer = await ballots.submit(view, BART, {"reason": "Too costly"})
    assert answer.text == ""  # the modal closes; the answer comes privately
    no = await ballots.ephemeral_to(BART, since)
    assert no.startswith("Your ballot on #1 is recorded: No.")
    abstain = await ballots.press(post, "vote cast 1 abstain", CORD)
    assert (await ballots.private(abstain)).startswith("Your ballot on #1 is recorded: Abstain.")

    updated = await ballots.updated_to(1, "Tally: Yes 1, No 1, Abstain 1.")
    assert "Ballots: 3 of 5." in updated["text"]
    assert _buttons(updated) == _buttons(post)  # still open: the buttons stay
    update = fake.calls_to("chat.update")[-1]
    assert (update.args["channel"], update.args["ts"]) == (DEFAULT_CHANNEL_ID, post["ts"])
    # Updated in place, never posted again.
    posts = [c.args["text"] for c in fake.calls_to("chat.postMessage")]
    assert len([text for text in posts if text.startswith("Proposal #1")]) == 1


async def test_consent_buttons_vote_and_a_minus_one_is_cast_through_the_reason_modal(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    post = await ballots.create('title:"Adopt the code of conduct" method:consent')
    assert _buttons(post) == {"+1": "vote cast 1 +1", "0": "vote cast 1 0", "-1": "vote cast 1 -1"}

    plus = await ballots.press(post, "vote cast 1 +1", ANN)
    assert (await ballots.private(plus)).startswith("Your ballot on #1 is recorded: +1.")
    zero = await ballots.press(post, "vote cast 1 0", BART)
    assert (await ballots.private(zero)).startswith("Your ballot on #1 is recorded: 0.")
    since = len(fake.calls)
    await ballots.press(post, "vote cast 1 -1", CORD)
    view = await ballots.modal(since)
    assert json.loads(view["private_metadata"])["command"] == "vote cast 1 -1"
    await ballots.submit(view, CORD, {"reason": "It has no appeals"})

    minus = await ballots.ephemeral_to(CORD, since)
    assert minus.startswith("Your ballot on #1 is recorded: -1")
    await ballots.updated_to(1, "Tally: +1 1, 0 1, -1 1.")


async def test_sign_off_and_a_concern_raised_through_its_reason_modal(ballots: Ballots) -> None:
    fake = ballots.fake
    post = await ballots.create('title:"Freeze the API" method:sign-off')
    assert _buttons(post) == {
        "Sign off": "vote cast 1 sign-off",
        "Raise a concern": "concern raise 1",
    }

    signed = await ballots.press(post, "vote cast 1 sign-off", ANN)
    assert (await ballots.private(signed)).startswith("Your ballot on #1 is recorded: Sign off.")
    await ballots.updated_to(1, "Tally: Sign off 1.")
    since = len(fake.calls)
    await ballots.press(post, "concern raise 1", BART)
    view = await ballots.modal(since)
    assert json.loads(view["private_metadata"])["command"] == "concern raise 1"
    await ballots.submit(view, BART, {"reason": "Errors are not final"})

    raised = await ballots.bot.posted("raised concern 1", since=since)
    assert (
        raised.args["text"] == "@bartholomew raised concern 1 on proposal #1: Errors are not final"
    )
    assert raised.args["channel"] == DEFAULT_CHANNEL_ID  # in the open, where the form was


async def test_approval_is_a_multi_select_of_the_options(ballots: Ballots) -> None:
    post = await ballots.create(
        'title:"Pick the meetup days" method:approval options:"Mon|Wed|Fri"'
    )
    menu_block = _actions(post)["gov_select:vote cast 1"]
    menu = menu_block["elements"][0]
    assert (menu["type"], menu["action_id"]) == ("multi_static_select", "gov_select")
    assert menu["max_selected_items"] == 3
    assert menu["placeholder"]["text"] == "Pick every option you approve of"
    assert [(o["text"]["text"], o["value"]) for o in menu["options"]] == [
        ("Mon", "1"),
        ("Wed", "2"),
        ("Fri", "3"),
    ]

    picked = await ballots.pick(post, ["1", "3"], ANN)
    assert (await ballots.private(picked)).startswith("Your ballot on #1 is recorded: Mon, Fri.")
    await ballots.private(await ballots.pick(post, ["3"], BART))

    updated = await ballots.updated_to(1, "Tally: Mon 1, Wed 0, Fri 2.")
    assert list(_actions(updated)) == ["gov_select:vote cast 1"]


async def test_ranked_and_irv_ballots_are_cast_in_the_ranking_modal(ballots: Ballots) -> None:
    fake = ballots.fake
    await ballots.create('title:"Name the release" method:ranked options:"Aspen|Birch|Cedar"')
    await ballots.gov(
        'proposal create title:"Name the mascot" method:irv options:"Otter|Fox|Crane"'
    )
    await eventually(lambda: ballots.posted(2) is not None)

    # Slack's text escapes `>`: the member sees "Birch > Aspen > Cedar".
    ranked_as = {1: "Birch &gt; Aspen &gt; Cedar", 2: "Fox &gt; Otter &gt; Crane"}
    for number in (1, 2):
        post = ballots.message(number)
        assert _buttons(post) == {"Rank the options": f"vote cast {number}"}
        since = len(fake.calls)
        await ballots.press(post, f"vote cast {number}", ANN)
        view = await ballots.modal(since)
        assert json.loads(view["private_metadata"])["command"] == f"vote cast {number}"
        assert view["title"]["text"] == f"Rank #{number}"
        assert [b["block_id"] for b in view["blocks"]] == ["choice"]
        await ballots.submit(view, ANN, {"choice": "2>1>3"})
        ranked = await ballots.ephemeral_to(ANN, since)
        assert ranked.startswith(f"Your ballot on #{number} is recorded: {ranked_as[number]}.")

    await ballots.updated_to(1, "Tally: Aspen 0, Birch 1, Cedar 0.")
    await ballots.updated_to(2, "Tally: Otter 0, Fox 1, Crane 0.")
    # A ranking that repeats an option is refused inside the modal; nothing is recorded.
    since = len(fake.calls)
    await ballots.press(ballots.message(1), "vote cast 1", BART)
    view = await ballots.modal(since)
    refused = await ballots.submit(view, BART, {"choice": "1>1"})
    assert refused.json()["response_action"] == "errors"
    assert refused.json()["errors"] == {"choice": "`Aspen` appears twice in your ranking."}
    await ballots.settled()
    assert "Ballots: 1 of 5." in ballots.message(1)["text"]


# --- creating from the form ----------------------------------------------------------------


async def test_a_proposal_is_created_from_the_modal(ballots: Ballots) -> None:
    fake = ballots.fake
    since = len(fake.calls)
    _, ack = await ballots.gov("proposal create")
    assert ack.text == ""  # the modal is the answer
    view = await ballots.modal(since)
    assert json.loads(view["private_metadata"])["command"] == "proposal create"
    assert view["title"]["text"] == "New proposal"
    assert [b["block_id"] for b in view["blocks"]] == [
        "title",
        "text",
        "electorate",
        "method",
        "more",
    ]

    answer = await ballots.submit(
        view,
        ADMIN_ID,
        {
            "title": "Choose a logo",
            "text": "Three drafts",
            "method": {"method": _chosen("approval")},
            "more": 'options:"Circle|Square|Star" closes:3d',
        },
    )

    assert answer.text == ""
    await eventually(lambda: ballots.posted(1) is not None)
    post = ballots.message(1)
    assert post["text"].startswith("Proposal #1: Choose a logo\nThree drafts\n")
    assert "Method: Approval." in post["text"]
    assert "Options: 1. Circle, 2. Square, 3. Star." in post["text"]
    assert list(_actions(post)) == ["gov_select:vote cast 1"]
    # A bad pair is refused at the "more" field, inside the modal (what was typed stays),
    # and nothing is opened.
    since = len(fake.calls)
    await ballots.gov("proposal create")
    view = await ballots.modal(since)
    refused = await ballots.submit(view, ADMIN_ID, {"title": "Odd", "more": "colour:red"})
    assert refused.json()["response_action"] == "errors"
    assert refused.json()["errors"]["more"].startswith(
        "Unknown key colour.\nUsage: /gov proposal create"
    )
    await ballots.settled()
    assert ballots.posted(2) is None


# --- closing ---------------------------------------------------------------------------------


async def test_a_chair_close_posts_the_result_and_removes_the_controls(ballots: Ballots) -> None:
    fake = ballots.fake
    post = await ballots.create('title:"Move the meeting"')
    await ballots.private(await ballots.press(post, "vote cast 1 yes", ANN))
    await ballots.private(await ballots.press(post, "vote cast 1 yes", BART))
    await ballots.updated_to(1, "Tally: Yes 2, No 0, Abstain 0.")
    since = len(fake.calls)

    await ballots.gov('proposal close 1 reason:"Agreed"')

    result = await ballots.bot.posted("has closed early", since=since)
    assert result.args["channel"] == DEFAULT_CHANNEL_ID
    text = result.args["text"]
    assert text.startswith("Proposal #1 (Move the meeting) has closed early.\n")
    assert "Outcome: passed." in text
    assert "Tally: Yes 2, No 0, Abstain 0." in text
    assert "Closed because: Agreed" in text
    await eventually(lambda: _actions(ballots.message(1)) == {})
    closed = ballots.message(1)
    assert "Tally:" not in closed["text"]
    assert "Ballots: 2 of 5." in closed["text"]


async def test_a_timer_closes_the_vote_in_place_and_an_update_nobody_posted_is_dropped(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    await ballots.gov(f"setup set announce:<#{ANNOUNCE_ID}|announce>")
    post = await ballots.create('title:"Buy a projector" method:consent closes:2d')
    assert post["channel"] == ANNOUNCE_ID
    await ballots.private(await ballots.press(post, "vote cast 1 +1", ANN))
    await ballots.private(await ballots.press(post, "vote cast 1 +1", BART))
    await ballots.updated_to(1, "Tally: +1 2, 0 0, -1 0.")
    await ballots.settled()
    community = CommunityRef("slack", fake.team_id)
    since = len(fake.calls)

    unknown = Reply("Nobody posted this.", Visibility.PUBLIC, updates="proposal:9")
    await ballots.bot.front_end.deliver(Notice(community, unknown))
    await ballots.close_by_timer()

    await eventually(lambda: _actions(ballots.message(1)) == {})
    await ballots.settled()
    sent = [c for c in fake.calls[since:] if c.method.startswith("chat.")]
    assert [(c.method, c.args["channel"]) for c in sent] == [
        ("chat.postMessage", ANNOUNCE_ID),
        ("chat.update", ANNOUNCE_ID),
    ]
    assert sent[0].args["text"].startswith("Proposal #1 (Buy a projector) has closed.\n")
    assert "Outcome: passed." in sent[0].args["text"]
    assert sent[1].args["ts"] == post["ts"]
    late = await ballots.said("vote cast 1 +1", CORD)
    assert "closed" in late


# --- who can see what ------------------------------------------------------------------------

RECEIPT = re.compile(r"\b[A-Z2-7]{5}-[A-Z2-7]{5}\b")


def _everything(ballots: Ballots) -> list[Seen]:
    """Everything Slack was sent (API calls, response_url posts, acks), and who alone saw it."""
    fake = ballots.fake
    direct: dict[str, str] = {}  # a DM channel -> its member
    for call in fake.calls_to("conversations.open"):
        if call.ok:
            direct[call.response["channel"]["id"]] = str(call.args.get("users"))
    seen = list(ballots.acks)
    for call in fake.calls:
        text = json.dumps(call.args, ensure_ascii=False)
        to: str | None = None
        if call.method == "chat.postEphemeral":
            to = str(call.args.get("user"))
        elif call.method.startswith("views."):
            to = ballots.owners.get(str(call.args.get("trigger_id")))
        elif call.method == "chat.postMessage":
            to = direct.get(str(call.args.get("channel")))
        seen.append(Seen(to, text))
    for post in fake.responses:
        private = post.body.get("response_type") == "ephemeral"
        seen.append(Seen(ballots.owners.get(post.url) if private else None, json.dumps(post.body)))
    return seen


def _gave(response: ResponseUrlPost | str) -> str:
    return response if isinstance(response, str) else str(response.body["text"])


async def test_a_secret_ballot_never_shows_a_voter_beside_a_choice_or_reason(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    post = await ballots.create('title:"Elect the treasurer" secret:yes')
    assert "Secret ballot" in post["text"]
    given: dict[str, tuple[set[str], set[str]]] = {v: (set(), set()) for v in VOTERS}
    receipts: dict[str, str] = {}

    def gave(voter: str, answer: str, choice: str | None = None, reason: str | None = None) -> None:
        found = RECEIPT.findall(answer)
        assert len(found) == 1, answer
        assert receipts.setdefault(voter, found[0]) == found[0]  # one receipt per voter
        if choice:
            given[voter][0].add(choice)
        if reason:
            given[voter][1].add(reason)

    since = len(fake.calls)
    await ballots.press(post, "vote cast 1 no", ANN)
    await ballots.submit(await ballots.modal(since), ANN, {"reason": "We cannot afford it"})
    gave(ANN, await ballots.ephemeral_to(ANN, since), "no", "We cannot afford it")
    said = await ballots.said('vote cast 1 no reason:"The hall is small"', BART)
    gave(BART, said, "no", "The hall is small")
    changed = await ballots.private(await ballots.press(post, "vote cast 1 yes", BART))
    assert "changed" in changed  # the last ballot counts
    gave(BART, changed, "yes")
    gave(
        CORD,
        await ballots.said('vote cast 1 yes reason:"Best we have"', CORD),
        "yes",
        "Best we have",
    )
    gave(ANN, await ballots.said("vote receipt 1", ANN))
    peek = await ballots.said("proposal show 1", DEFAULT_USER_ID)
    assert "Ballots: 3 of 5." in peek
    await ballots.settled()
    before_close = list(_everything(ballots))
    assert fake.calls_to("chat.update") == []  # the post was never updated with a tally
    since = len(fake.calls)

    await ballots.gov('proposal close 1 reason:"Time"')
    closing = await ballots.bot.posted("has closed early", since=since)
    await eventually(lambda: _actions(ballots.message(1)) == {})
    await ballots.settled()

    assert not [seen for seen in before_close if "Tally" in seen.text]
    result = closing.args["text"]
    assert result.startswith("Proposal #1 (Elect the treasurer) has closed early.\n")
    assert "Tally: Yes 2, No 1, Abstain 0." in result
    assert "A voter (No): We cannot afford it" in result
    assert "The hall is small" not in result  # a changed ballot's reason went with it
    listed = result.split("Receipts counted:")[1]
    assert sorted(RECEIPT.findall(listed)) == sorted(receipts.values())
    # Everything Slack was sent: no voter next to a choice or a reason they gave (but in what
    # they alone saw), and each receipt only in its voter's own answers and in the result.
    everything = _everything(ballots)
    assert {"chat.postEphemeral", "views.open", "chat.update", "chat.postMessage"} <= {
        c.method for c in fake.calls
    }
    for seen in everything:
        for voter, (choices, reasons) in given.items():
            if seen.to == voter:
                continue
            if voter not in seen.text and VOTERS[voter] not in seen.text.lower():
                continue
            assert not any(reason in seen.text for reason in reasons), seen
            for choice in choices:
                assert not re.search(rf"\b{choice}\b", seen.text, re.IGNORECASE), seen
        for voter, receipt in receipts.items():
            if receipt in seen.text and seen.to != voter:
                assert "Receipts counted:" in seen.text and "has closed" in seen.text, seen


async def test_hidden_results_show_no_tally_until_the_timer_closes_the_vote(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    await ballots.gov(f"setup set announce:<#{ANNOUNCE_ID}|announce>")
    post = await ballots.create('title:"Rename the channel" hide_results:yes closes:3d')
    assert "Results are hidden until close." in post["text"]

    mine = await ballots.private(await ballots.press(post, "vote cast 1 yes", ANN))
    assert mine.startswith("Your ballot on #1 is recorded: Yes.")  # to ann alone
    said = await ballots.said('vote cast 1 no reason:"Confusing"', BART)
    assert said.startswith("Your ballot on #1 is recorded: No.")
    peek = await ballots.said("proposal show 1", DEFAULT_USER_ID)
    await ballots.settled()

    assert "Tally" not in peek
    assert fake.calls_to("chat.update") == []
    assert not [seen for seen in _everything(ballots) if "Tally" in seen.text]
    since = len(fake.calls)
    await ballots.close_by_timer(days=4)
    result = await ballots.bot.posted("has closed", since=since)
    assert "Tally: Yes 1, No 1, Abstain 0." in result.args["text"]
    assert "Outcome: failed." in result.args["text"]
    await eventually(lambda: _actions(ballots.message(1)) == {})


# --- the electorate --------------------------------------------------------------------------


async def test_a_community_vote_counts_its_electorate_from_the_workspace_member_count(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    listed = [u for u in fake.users.values() if not u["deleted"] and not u["is_bot"]]
    assert len(listed) == WORKSPACE

    post = await ballots.create('title:"Hold a summit" electorate:community quorum:50%')
    assert "Ballots: 0 of 5." in post["text"]
    await ballots.private(await ballots.press(post, "vote cast 1 yes", ANN))
    await ballots.updated_to(1, "Ballots: 1 of 5.")
    since = len(fake.calls)
    await ballots.gov('proposal close 1 reason:"Enough"')

    result = await ballots.bot.posted("has closed", since=since)
    assert "Outcome: no quorum." in result.args["text"]
    assert "Quorum missed: 1 ballot, 3 needed, electorate 5." in result.args["text"]


# --- the front end's own handling ------------------------------------------------------------


async def test_a_burst_of_ballots_becomes_two_updates_ending_with_the_newest_tally(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    post = await ballots.create('title:"Pick a colour" method:approval options:"Red|Green|Blue"')
    # Slack takes its time over the first update: everything after it waits meanwhile.
    held = fake.hold("chat.update")
    burst = [fake.payloads.select_actions(post, ["1", "2"], user_id=ANN) for _ in range(30)]

    answers = await asyncio.gather(*(ballots.bot.slack.send_interaction(p) for p in burst))
    assert {a.status for a in answers} == {200}
    for pick in burst:
        await fake.wait_for_response(pick["response_url"])
    newest = fake.payloads.select_actions(post, ["3"], user_id=ANN)
    await ballots.bot.slack.send_interaction(newest)
    assert "Blue" in _gave(await fake.wait_for_response(newest["response_url"]))
    await eventually(lambda: held.arrived == 1)
    held.release()

    await eventually(
        lambda: len(fake.calls_to("chat.update")) == 2 and not ballots.bot.front_end.edits.busy()
    )
    sent = fake.calls_to("chat.update")
    assert len(sent) == 2
    assert "Tally: Red 0, Green 0, Blue 1." in sent[-1].args["text"]
    assert "Ballots: 1 of 5." in ballots.message(1)["text"]


async def test_a_keyed_notice_is_posted_once_and_later_updates_edit_it(
    slack_bot: SlackBot,
) -> None:
    fake = slack_bot.fake
    community = CommunityRef("slack", fake.team_id)
    await slack_bot.gov("setup init", user_id=ADMIN_ID)  # a timer fires for a community
    await slack_bot.posted("Governance is set up")
    opened = Reply("Proposal 7 is open.", Visibility.PUBLIC, DEFAULT_CHANNEL_ID, key="proposal:7")

    await slack_bot.front_end.deliver(Notice(community, opened))
    await slack_bot.front_end.deliver(
        Notice(community, Reply("Proposal 7: 1 vote.", Visibility.PUBLIC, updates="proposal:7"))
    )

    posted = await slack_bot.posted("Proposal 7 is open.")
    assert messages.find(slack_bot.store, "slack", fake.team_id, "proposal:7") == (
        DEFAULT_CHANNEL_ID,
        posted.response["ts"],
    )
    await fake.wait_for_call("chat.update")
    shown = next(m for m in fake.messages if m["ts"] == posted.response["ts"])
    assert shown["text"] == "Proposal 7: 1 vote."


async def test_members_are_counted_page_by_page_without_bots_and_at_most_hourly(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.add_user("U0GONE", name="gone", deleted=True)
    fake_slack.add_user("U0ROBOT", name="robot", is_bot=True)
    fake_slack.add_user("U0CAROL", name="carol")
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    now = [0.0]
    counts = MemberCounts(refresh=3600, clock=lambda: now[0], page_size=2)
    tasks: list[asyncio.Task[None]] = []

    def spawn(work: Any) -> None:
        tasks.append(asyncio.ensure_future(work))

    assert counts.count(client, fake_slack.team_id, spawn) is None  # nobody waits for it
    await asyncio.gather(*tasks)

    # member, ada, carol; not the deleted user, the bot, govbot itself or Slackbot.
    assert counts.count(client, fake_slack.team_id, spawn) == 3
    pages = fake_slack.calls_to("users.list")
    assert [c.args.get("limit") for c in pages] == ["2", "2", "2", "2"]
    assert [bool(c.args.get("cursor")) for c in pages] == [False, True, True, True]
    assert len(tasks) == 1  # counted once within the hour
    now[0] = 3601.0
    assert counts.count(client, fake_slack.team_id, spawn) == 3
    await asyncio.gather(*tasks)
    assert len(fake_slack.calls_to("users.list")) == 8


async def test_a_failed_count_keeps_the_last_one(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    now = [0.0]
    counts = MemberCounts(refresh=60, retry=30, clock=lambda: now[0])
    tasks: list[asyncio.Task[None]] = []

    def spawn(work: Any) -> None:
        tasks.append(asyncio.ensure_future(work))

    counts.count(client, fake_slack.team_id, spawn)
    await asyncio.gather(*tasks)
    fake_slack.fail_next("users.list", "internal_error")
    now[0] = 61.0

    counts.count(client, fake_slack.team_id, spawn)
    await asyncio.gather(*tasks)

    assert counts.last(fake_slack.team_id) == 2
    now[0] = 80.0  # retried only after the pause
    counts.count(client, fake_slack.team_id, spawn)
    assert len(tasks) == 2
