"""Signatures, redelivery, escaping and rate limits on the Slack front end."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from govbot.storage.models import AuditEntry, Community, Delivery, Membership
from tests.e2e import slack_fixtures
from tests.e2e.fakes.slack_server import DEFAULT_CHANNEL_ID, SigningMode
from tests.e2e.slack_fixtures import ADMIN_ID, SlackBot, command_count, count, eventually

fake_slack = slack_fixtures.fake_slack
slack_bot = slack_fixtures.slack_bot


def _world_calls(bot: SlackBot) -> list[str]:
    """Name the Web API calls other than those made at start (the token check, the count)."""
    return [c.method for c in bot.fake.calls if c.method not in ("auth.test", "users.list")]


@pytest.mark.parametrize("signing", ["forged", "stale", "missing"])
async def test_a_badly_signed_command_gets_401_and_writes_nothing(
    slack_bot: SlackBot, signing: SigningMode
) -> None:
    payload = slack_bot.fake.payloads.slash_command("setup init", user_id=ADMIN_ID)

    answer = await slack_bot.slack.send_slash_command(payload, signing=signing)

    assert answer.status == 401
    assert count(slack_bot.store, Community) == 0
    assert count(slack_bot.store, AuditEntry) == 0
    assert _world_calls(slack_bot) == []
    assert slack_bot.fake.responses == []


@pytest.mark.parametrize("signing", ["forged", "stale"])
async def test_a_badly_signed_event_gets_401_and_writes_nothing(
    slack_bot: SlackBot, signing: SigningMode
) -> None:
    body = slack_bot.fake.payloads.app_home_opened()

    answer = await slack_bot.slack.send_event(body, signing=signing)

    assert answer.status == 401
    assert count(slack_bot.store, Delivery) == 0
    assert count(slack_bot.store, Community) == 0
    assert _world_calls(slack_bot) == []


async def test_the_events_url_answers_slacks_challenge(slack_bot: SlackBot) -> None:
    answer = await slack_bot.slack.send_url_verification("prove-it")

    assert answer.status == 200
    assert answer.json() == {"challenge": "prove-it"}


async def test_a_redelivered_event_has_one_effect(slack_bot: SlackBot) -> None:
    fake = slack_bot.fake
    body = fake.payloads.app_home_opened()
    await slack_bot.slack.send_event(body)
    await fake.wait_for_call("views.publish")
    duplicates = command_count("app_home", "duplicate")

    answer = await slack_bot.slack.send_event(body, retry_num=1, retry_reason="http_timeout")

    assert answer.status == 200
    await eventually(lambda: command_count("app_home", "duplicate") == duplicates + 1)
    assert len(fake.calls_to("views.publish")) == 1
    assert count(slack_bot.store, Delivery) == 1


async def test_a_redelivered_slash_command_has_one_effect(slack_bot: SlackBot) -> None:
    await slack_bot.gov("setup init", user_id=ADMIN_ID)
    await slack_bot.posted("Governance is set up")
    payload, _ = await slack_bot.gov("body join operations")
    await slack_bot.posted("@member joined operations.")
    seats, entries = count(slack_bot.store, Membership), count(slack_bot.store, AuditEntry)
    duplicates = command_count("body join", "duplicate")

    answer = await slack_bot.slack.send_slash_command(payload)

    assert answer.status == 200
    await eventually(lambda: command_count("body join", "duplicate") == duplicates + 1)
    assert count(slack_bot.store, Membership) == seats
    assert count(slack_bot.store, AuditEntry) == entries
    joined = slack_bot.fake.calls_to("chat.postMessage", lambda c: "joined" in c.args["text"])
    assert len(joined) == 1
    # The second delivery got no answer at all, not even "already a member".
    assert [p.url for p in slack_bot.fake.responses].count(payload["response_url"]) == 0


async def test_a_redelivered_button_click_has_one_effect(slack_bot: SlackBot) -> None:
    await slack_bot.gov("setup init", user_id=ADMIN_ID)
    await slack_bot.posted("Governance is set up")
    click = slack_bot.fake.payloads.block_actions("gov_button_0", "body join operations")
    await slack_bot.slack.send_interaction(click)
    await slack_bot.posted("@member joined operations.")
    entries = count(slack_bot.store, AuditEntry)
    duplicates = command_count("body join", "duplicate")

    await slack_bot.slack.send_interaction(click)

    await eventually(lambda: command_count("body join", "duplicate") == duplicates + 1)
    assert count(slack_bot.store, AuditEntry) == entries
    joined = slack_bot.fake.calls_to("chat.postMessage", lambda c: "joined" in c.args["text"])
    assert len(joined) == 1


async def test_text_from_users_cannot_ping_the_channel_or_anyone(slack_bot: SlackBot) -> None:
    await slack_bot.gov("setup init", user_id=ADMIN_ID)
    await slack_bot.posted("Governance is set up")

    await slack_bot.gov(
        'body create name:pings kind:custom title:"<!channel> <!here> <!everyone> <@U0ADMIN>"',
        user_id=ADMIN_ID,
    )

    posted = await slack_bot.posted("Body pings")
    text = posted.args["text"]
    blocks = posted.arg("blocks")
    for shown in (text, blocks[0]["text"]["text"]):
        assert "&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;@U0ADMIN&gt;" in shown
        assert "<!" not in shown
        assert "<@" not in shown
    assert blocks[0]["text"]["verbatim"] is True


async def test_channel_links_from_the_bot_stay_links(slack_bot: SlackBot) -> None:
    await slack_bot.gov("setup init", user_id=ADMIN_ID)
    await slack_bot.posted("Governance is set up")
    await slack_bot.ephemeral("setup set announce:<#C0ANNOUNCE|announce>", user_id=ADMIN_ID)

    shown = await slack_bot.ephemeral("setup show")

    assert "announce: <#C0ANNOUNCE>" in shown.body["text"]


async def test_a_rate_limited_post_is_retried_and_arrives(slack_bot: SlackBot) -> None:
    slack_bot.fake.rate_limit("chat.postMessage", times=1, retry_after=1)

    await slack_bot.gov("setup init", user_id=ADMIN_ID)

    posted = await slack_bot.posted("Governance is set up", since=0)
    attempts = slack_bot.fake.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert posted.args["channel"] == DEFAULT_CHANNEL_ID


async def test_a_timestamp_that_is_no_number_gets_401_not_500(slack_bot: SlackBot) -> None:
    payload = slack_bot.fake.payloads.slash_command("setup init", user_id=ADMIN_ID)

    answer = await slack_bot.slack.post(
        urlencode(payload),
        "application/x-www-form-urlencoded",
        headers={"X-Slack-Request-Timestamp": "soon"},
    )

    assert answer.status == 401
    assert count(slack_bot.store, Community) == 0
    assert _world_calls(slack_bot) == []


@pytest.mark.parametrize(
    "field",
    ["team_id", "user_id"],
)
async def test_a_signed_command_naming_no_workspace_or_user_gets_400_and_never_runs(
    slack_bot: SlackBot, field: str
) -> None:
    payload = slack_bot.fake.payloads.slash_command("body list")
    payload[field] = ""

    answer = await slack_bot.slack.send_slash_command(payload)

    assert answer.status == 400
    assert count(slack_bot.store, Community) == 0
    assert count(slack_bot.store, Delivery) == 0
    assert _world_calls(slack_bot) == []
    assert slack_bot.fake.responses == []


@pytest.mark.parametrize(
    "body",
    ["payload=%7Bnot+json", "payload=%5B%5D", "payload=%7B%22type%22%3A%22block_actions%22%7D"],
)
async def test_a_signed_but_malformed_interaction_gets_400(slack_bot: SlackBot, body: str) -> None:
    answer = await slack_bot.slack.post(body, "application/x-www-form-urlencoded")

    assert answer.status == 400
    assert count(slack_bot.store, Community) == 0
    assert _world_calls(slack_bot) == []


async def test_a_signed_event_that_is_no_object_gets_400(slack_bot: SlackBot) -> None:
    answer = await slack_bot.slack.post("[1, 2]", "application/json")

    assert answer.status == 400


async def test_text_slack_already_escaped_is_shown_escaped_once(slack_bot: SlackBot) -> None:
    await slack_bot.gov("setup init", user_id=ADMIN_ID)
    await slack_bot.posted("Governance is set up")

    # What Slack sends when an admin types: title:"R&D <core>"
    await slack_bot.gov(
        'body create name:rd kind:custom title:"R&amp;D &lt;core&gt;"', user_id=ADMIN_ID
    )

    posted = await slack_bot.posted("Body rd")
    assert "(R&amp;D &lt;core&gt;)" in posted.args["text"]
    assert "&amp;amp;" not in posted.args["text"]
    assert "&amp;lt;" not in posted.args["text"]


async def test_a_title_cannot_turn_the_bots_sentence_bold(slack_bot: SlackBot) -> None:
    await slack_bot.gov("setup init", user_id=ADMIN_ID)
    await slack_bot.posted("Governance is set up")

    await slack_bot.gov(
        'body create name:loud kind:custom title:"*all* `of_this"', user_id=ADMIN_ID
    )

    posted = await slack_bot.posted("Body loud")
    shown = posted.arg("blocks")[0]["text"]["text"]
    assert "*all*" not in shown and "`" not in shown
    assert "\u2217all\u2217 \u02cbof_this" in shown
