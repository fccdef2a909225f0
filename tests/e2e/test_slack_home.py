"""The App Home tab, and notices that arrive later (a term ended) as direct messages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from govbot.replies import CommunityRef, Notice, Reply, Visibility
from govbot.services.timers import run_due
from tests.e2e import slack_fixtures
from tests.e2e.fakes.slack_server import DEFAULT_USER_ID
from tests.e2e.slack_fixtures import ADMIN_ID, SlackBot

fake_slack = slack_fixtures.fake_slack
slack_bot = slack_fixtures.slack_bot


def _home_text(view: dict[str, object]) -> str:
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    parts = []
    for block in blocks:
        if block["type"] in ("header", "section"):
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts += [element["text"] for element in block["elements"]]
    return "\n".join(parts)


async def _set_up(bot: SlackBot) -> None:
    await bot.gov("setup init", user_id=ADMIN_ID)
    await bot.posted("Governance is set up")


async def test_the_home_tab_tells_a_newcomer_they_sit_on_no_body(slack_bot: SlackBot) -> None:
    answer = await slack_bot.slack.send_event(slack_bot.fake.payloads.app_home_opened())

    assert answer.status == 200
    published = await slack_bot.fake.wait_for_call("views.publish")
    assert published.args["user_id"] == DEFAULT_USER_ID
    text = _home_text(slack_bot.fake.home_tabs[DEFAULT_USER_ID])
    assert "Your place in the community" in text
    assert "You sit on no body yet" in text
    assert "/gov help" in text


async def test_the_home_tab_shows_the_members_bodies_and_terms(slack_bot: SlackBot) -> None:
    await _set_up(slack_bot)
    await slack_bot.gov("body join operations")
    await slack_bot.posted("joined operations")
    await slack_bot.gov(
        f"body add tsc <@{DEFAULT_USER_ID}|member> until:2030-01-31T00:00Z", user_id=ADMIN_ID
    )
    await slack_bot.posted("now sits on tsc")

    await slack_bot.slack.send_event(slack_bot.fake.payloads.app_home_opened())

    await slack_bot.fake.wait_for_call("views.publish")
    text = _home_text(slack_bot.fake.home_tabs[DEFAULT_USER_ID])
    assert "• operations: member" in text
    assert "• tsc: member, until 2030-01-31 00:00 (UTC)" in text


async def test_the_home_tab_speaks_the_communitys_language(slack_bot: SlackBot) -> None:
    await _set_up(slack_bot)
    changed = await slack_bot.ephemeral("setup set language:zh-CN", user_id=ADMIN_ID)
    assert "language" in changed.body["text"]

    await slack_bot.slack.send_event(slack_bot.fake.payloads.app_home_opened())

    await slack_bot.fake.wait_for_call("views.publish")
    text = _home_text(slack_bot.fake.home_tabs[DEFAULT_USER_ID])
    assert "你在社区中的位置" in text


async def test_the_messages_tab_publishes_nothing(slack_bot: SlackBot) -> None:
    body = slack_bot.fake.payloads.app_home_opened(tab="messages")

    answer = await slack_bot.slack.send_event(body)
    await slack_bot.slack.send_event(slack_bot.fake.payloads.app_home_opened())

    assert answer.status == 200
    await slack_bot.fake.wait_for_call("views.publish")
    assert len(slack_bot.fake.calls_to("views.publish")) == 1
    assert slack_bot.fake.home_tabs[DEFAULT_USER_ID]["type"] == "home"


async def test_a_term_that_ends_later_is_told_to_the_member_by_direct_message(
    slack_bot: SlackBot,
) -> None:
    fake = slack_bot.fake
    await _set_up(slack_bot)
    await slack_bot.gov(f"body add tsc <@{DEFAULT_USER_ID}|member> until:1h", user_id=ADMIN_ID)
    await slack_bot.posted("now sits on tsc")

    later = datetime.now(UTC) + timedelta(hours=2)
    notices = await asyncio.to_thread(run_due, slack_bot.store, later)
    for notice in notices:
        await slack_bot.front_end.deliver(notice)

    opened = await fake.wait_for_call("conversations.open")
    assert opened.args["users"] == DEFAULT_USER_ID
    dm = await slack_bot.posted("The term of @member on tsc has ended.")
    assert dm.args["channel"] == fake.dm_channel(DEFAULT_USER_ID)


async def test_a_later_public_notice_goes_to_the_announce_channel(slack_bot: SlackBot) -> None:
    await _set_up(slack_bot)
    notice = Notice(
        CommunityRef("slack", slack_bot.fake.team_id),
        Reply("The chair of quality passes to @ada.", Visibility.PUBLIC, recipient="C0ANNOUNCE"),
    )

    await slack_bot.front_end.deliver(notice)

    posted = await slack_bot.posted("The chair of quality passes to @ada.")
    assert posted.args["channel"] == "C0ANNOUNCE"
