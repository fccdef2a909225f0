"""Ballot controls on Slack: a select menu, preset forms, posts updated in place, member counts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from govbot.adapters.slack.members import MemberCounts
from govbot.replies import CommunityRef, Notice, Reply, Visibility
from govbot.services import messages
from tests.e2e import ballot_commands as ballots
from tests.e2e import slack_fixtures
from tests.e2e.ballot_commands import KEY, Ballots, Pick
from tests.e2e.fakes.slack_server import DEFAULT_CHANNEL_ID, DEFAULT_USER_ID, FakeSlack
from tests.e2e.slack_fixtures import ADMIN_ID, SlackBot, eventually

fake_slack = slack_fixtures.fake_slack
slack_bot = slack_fixtures.slack_bot
ballot_commands = ballots.ballot_commands

Json = dict[str, Any]


def _posted_at(bot: SlackBot) -> tuple[str, str] | None:
    return messages.find(bot.store, "slack", bot.fake.team_id, KEY)


def _message(fake: FakeSlack, ts: str) -> Json:
    return next(m for m in fake.messages if m["ts"] == ts)


def _actions(message: Json) -> dict[str, Json]:
    return {b["block_id"]: b for b in message.get("blocks") or [] if b["type"] == "actions"}


async def _open_ballot(bot: SlackBot) -> Json:
    """Type `/gov ballot open`; return the ballot message once it is known."""
    await bot.gov("ballot open")
    posted = await bot.posted("Ballot 1: which fruit?")
    await eventually(lambda: _posted_at(bot) is not None)
    return _message(bot.fake, posted.response["ts"])


async def test_a_ballot_post_carries_a_menu_of_the_options_and_is_remembered(
    slack_bot: SlackBot, ballot_commands: Ballots
) -> None:
    ballot = await _open_ballot(slack_bot)

    assert _posted_at(slack_bot) == (DEFAULT_CHANNEL_ID, ballot["ts"])
    actions = _actions(ballot)
    assert list(actions) == ["gov_select:ballot pick 1", "gov_buttons"]
    menu = actions["gov_select:ballot pick 1"]["elements"][0]
    assert menu["type"] == "multi_static_select"
    assert menu["action_id"] == "gov_select"
    assert menu["max_selected_items"] == 3
    assert menu["placeholder"]["text"] == "Pick the fruit you want"
    assert [(o["text"]["text"], o["value"]) for o in menu["options"]] == [
        ("Apples", "A"),
        ("Big bananas", "big banana"),
        ("Cherries", "C"),
    ]
    assert actions["gov_buttons"]["elements"][0]["value"] == "ballot pick 1 -1"


async def test_picking_runs_the_command_with_the_picks_as_the_picker_and_updates_the_post(
    slack_bot: SlackBot, ballot_commands: Ballots
) -> None:
    fake = slack_bot.fake
    ballot = await _open_ballot(slack_bot)
    # The workspace was counted at start: the member and ada (no bots, no Slackbot).
    await eventually(lambda: slack_bot.front_end.members.last(fake.team_id) == 2)
    pick = fake.payloads.select_actions(ballot, ["A", "big banana"], user_id=ADMIN_ID)

    answer = await slack_bot.slack.send_interaction(pick)

    assert answer.status == 200
    private = await fake.wait_for_response(pick["response_url"])
    assert private.body["response_type"] == "ephemeral"
    assert private.body["text"] == "Recorded A,big banana for ada."
    assert ballot_commands.picks == [Pick(ADMIN_ID, "ada", "A,big banana", None, 2)]
    update = await fake.wait_for_call("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (DEFAULT_CHANNEL_ID, ballot["ts"])
    shown = _message(fake, ballot["ts"])
    assert shown["text"] == "Ballot 1: 1 picks, the last A,big banana."
    assert list(_actions(shown)) == ["gov_select:ballot pick 1", "gov_buttons"]
    assert len(fake.calls_to("chat.postMessage")) == 1  # edited in place, never posted again


async def test_an_objection_opens_a_modal_whose_submission_keeps_the_preset_values(
    slack_bot: SlackBot, ballot_commands: Ballots
) -> None:
    fake = slack_bot.fake
    ballot = await _open_ballot(slack_bot)
    button = _actions(ballot)["gov_buttons"]["elements"][0]
    click = fake.payloads.block_actions(
        button["action_id"], button["value"], block_id="gov_buttons", message=ballot
    )

    await slack_bot.slack.send_interaction(click)
    opened = await fake.wait_for_call("views.open")
    view = fake.views[opened.response["view"]["id"]]
    assert json.loads(view["private_metadata"])["command"] == "ballot pick 1 -1"
    assert [b["block_id"] for b in view["blocks"]] == ["reason"]
    submission = fake.payloads.view_submission(
        view, fake.payloads.text_inputs({"reason": "Too sour"})
    )
    answer = await slack_bot.slack.send_interaction(submission)

    assert answer.status == 200
    assert answer.text == ""  # the modal closes
    said = await fake.wait_for_call("chat.postEphemeral")
    assert said.args["text"] == "Recorded -1 for member."
    assert ballot_commands.picks == [Pick(DEFAULT_USER_ID, "member", "-1", "Too sour", 2)]


async def test_closing_removes_the_controls_and_an_unknown_key_is_dropped(
    slack_bot: SlackBot, ballot_commands: Ballots
) -> None:
    fake = slack_bot.fake
    ballot = await _open_ballot(slack_bot)
    community = CommunityRef("slack", fake.team_id)

    await slack_bot.front_end.deliver(
        Notice(community, Reply("Nobody knows this one.", Visibility.PUBLIC, updates="ballot:9"))
    )
    await slack_bot.gov("ballot close 1")

    await fake.wait_for_call("chat.update")
    closed = _message(fake, ballot["ts"])
    assert closed["text"] == "Ballot 1 closed after 0 picks."
    assert _actions(closed) == {}
    await slack_bot.posted("Result of ballot 1: apples.")
    assert len(fake.calls_to("chat.update")) == 1


async def test_a_burst_of_updates_becomes_two_edits_ending_with_the_newest(
    slack_bot: SlackBot, ballot_commands: Ballots
) -> None:
    fake = slack_bot.fake
    ballot = await _open_ballot(slack_bot)
    # Slack takes its time over the first edit: everything after it waits meanwhile.
    held = fake.hold("chat.update")
    burst = [fake.payloads.select_actions(ballot, ["A"]) for _ in range(50)]

    answers = await asyncio.gather(*(slack_bot.slack.send_interaction(p) for p in burst))
    assert {a.status for a in answers} == {200}
    for pick in burst:
        await fake.wait_for_response(pick["response_url"])
    newest = fake.payloads.select_actions(ballot, ["C"])
    await slack_bot.slack.send_interaction(newest)
    await fake.wait_for_response(newest["response_url"])
    await eventually(lambda: held.arrived == 1)
    held.release()

    await eventually(
        lambda: len(fake.calls_to("chat.update")) == 2 and not slack_bot.front_end.edits.busy()
    )
    sent = fake.calls_to("chat.update")
    assert len(sent) == 2
    assert sent[-1].args["text"] == "Ballot 1: 51 picks, the last C."
    assert _message(fake, ballot["ts"])["text"] == "Ballot 1: 51 picks, the last C."
    assert len(ballot_commands.picks) == 51


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
    assert _message(fake, posted.response["ts"])["text"] == "Proposal 7: 1 vote."
