"""Every command group over `/gov`, buttons and the settings modal."""

from __future__ import annotations

import json
from typing import Any

from govbot.storage.models import AuditEntry, Body
from tests.e2e import slack_fixtures
from tests.e2e.fakes.slack_server import DEFAULT_CHANNEL_ID
from tests.e2e.slack_fixtures import ADMIN_ID, SlackBot, count, private_answer

fake_slack = slack_fixtures.fake_slack
slack_bot = slack_fixtures.slack_bot
slack_bot_each_db = slack_fixtures.slack_bot_each_db


def _texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


async def _set_up(bot: SlackBot) -> None:
    answer = await bot.gov("setup init", user_id=ADMIN_ID)
    assert answer[1].status == 200
    await bot.posted("Governance is set up")


async def test_help_lists_every_group_privately_with_usage_escaped(slack_bot: SlackBot) -> None:
    payload, answer = await slack_bot.gov("help")

    assert answer.status == 200
    # Done within the ack budget: the private answer is the ack itself, nothing follows.
    post = await private_answer(slack_bot.fake, payload, answer)
    assert post.on_ack
    assert post.body["response_type"] == "ephemeral"
    for group in ("setup init", "body join", "audit export"):
        assert group in post.body["text"]
    # Placeholders such as <body> are escaped, so Slack shows them instead of parsing them.
    assert "&lt;body&gt;" in post.body["text"]
    assert "<body>" not in post.body["text"]
    assert slack_bot.fake.calls_to("chat.postMessage") == []
    assert slack_bot.fake.responses == []


async def test_an_unknown_command_answers_privately_with_the_nearest_usage(
    slack_bot: SlackBot,
) -> None:
    post = await slack_bot.ephemeral("body jion quality")

    assert post.body["response_type"] == "ephemeral"
    assert "Unknown command: body jion" in post.body["text"]
    assert "Usage: /gov body join" in post.body["text"]


async def test_a_workspace_admin_may_set_up_governance_and_everyone_sees_it(
    slack_bot: SlackBot,
) -> None:
    await slack_bot.gov("setup init", user_id=ADMIN_ID)

    posted = await slack_bot.posted("Governance is set up")
    assert posted.args["channel"] == DEFAULT_CHANNEL_ID
    assert "committee, tsc, quality, moderators, operations, mediators" in posted.args["text"]
    assert count(slack_bot.store, Body) == 6
    info = slack_bot.fake.calls_to("users.info", lambda c: c.args["user"] == ADMIN_ID)
    assert len(info) == 1


async def test_a_member_who_is_not_an_admin_is_refused_privately_and_nothing_is_written(
    slack_bot: SlackBot,
) -> None:
    post = await slack_bot.ephemeral("setup init")

    assert post.body["response_type"] == "ephemeral"
    assert "You do not have permission" in post.body["text"]
    assert count(slack_bot.store, Body) == 0
    assert count(slack_bot.store, AuditEntry) == 0
    assert slack_bot.fake.calls_to("chat.postMessage") == []


async def test_admin_answers_are_cached_so_a_second_command_asks_slack_no_more(
    slack_bot: SlackBot,
) -> None:
    await _set_up(slack_bot)
    await slack_bot.ephemeral("setup show", user_id=ADMIN_ID)

    assert len(slack_bot.fake.calls_to("users.info")) == 1


async def test_setup_show_lists_the_settings_privately(slack_bot: SlackBot) -> None:
    await _set_up(slack_bot)

    post = await slack_bot.ephemeral("setup show")

    assert "language: en" in post.body["text"]
    assert "level1_days: 7" in post.body["text"]


async def test_body_list_and_show_answer_privately(slack_bot: SlackBot) -> None:
    await _set_up(slack_bot)

    listing = await slack_bot.ephemeral("body list")
    shown = await slack_bot.ephemeral("body show tsc")

    assert listing.body["response_type"] == "ephemeral"
    assert "quality: Quality committee" in listing.body["text"]
    assert "tsc: Technical steering committee" in shown.body["text"]
    assert "No members." in shown.body["text"]


async def test_the_join_button_on_an_open_body_seats_the_member_who_presses_it(
    slack_bot: SlackBot,
) -> None:
    await _set_up(slack_bot)
    shown = await slack_bot.ephemeral("body show quality")
    actions = next(b for b in shown.body["blocks"] if b["type"] == "actions")
    button = actions["elements"][0]
    assert button["text"]["text"] == "Join"

    click = slack_bot.fake.payloads.block_actions(
        button["action_id"], button["value"], block_id=actions["block_id"], button_text="Join"
    )
    answer = await slack_bot.slack.send_interaction(click)

    assert answer.status == 200
    joined = await slack_bot.posted("@member joined quality.")
    assert joined.args["channel"] == DEFAULT_CHANNEL_ID
    again = await slack_bot.ephemeral("body show quality")
    assert "@member" in again.body["text"]
    assert not any(b["type"] == "actions" for b in again.body["blocks"])


async def test_a_closed_body_offers_no_join_button(slack_bot: SlackBot) -> None:
    await _set_up(slack_bot)

    shown = await slack_bot.ephemeral("body show committee")

    assert not any(b["type"] == "actions" for b in shown.body["blocks"])


async def test_an_admin_creates_a_body_and_the_announcement_is_public(slack_bot: SlackBot) -> None:
    await _set_up(slack_bot)

    await slack_bot.gov(
        'body create name:docs kind:custom title:"Docs team" open:yes', user_id=ADMIN_ID
    )

    await slack_bot.posted("Body docs (Docs team) created.")
    await slack_bot.gov("body join docs")
    await slack_bot.posted("@member joined docs.")


async def test_audit_log_and_verify_answer_privately(slack_bot_each_db: SlackBot) -> None:
    slack_bot = slack_bot_each_db
    await _set_up(slack_bot)

    log = await slack_bot.ephemeral("audit log")
    verify = await slack_bot.ephemeral("audit verify")

    assert "body.created body:" in log.body["text"]
    assert "@ada" in log.body["text"]
    assert "Audit chain intact: 7 entries" in verify.body["text"]


async def test_audit_export_arrives_privately_as_a_code_block(
    slack_bot_each_db: SlackBot,
) -> None:
    slack_bot = slack_bot_each_db
    await _set_up(slack_bot)

    post = await slack_bot.ephemeral("audit export format:json")

    assert post.body["response_type"] == "ephemeral"
    assert "Audit chain exported as json." in post.body["text"]
    code = _texts(post.body["blocks"])
    assert code.count("```") >= 2
    exported = json.loads(code.split("```")[1])
    assert [entry["seq"] for entry in exported] == list(range(1, 8))


async def test_setup_set_opens_a_modal_that_shows_a_validation_error_inside_it(
    slack_bot: SlackBot,
) -> None:
    fake = slack_bot.fake
    await _set_up(slack_bot)

    await slack_bot.gov("setup set", user_id=ADMIN_ID)

    opened = await fake.wait_for_call("views.open")
    assert opened.ok
    view = fake.views[opened.response["view"]["id"]]
    assert view["title"]["text"] == "govbot settings"
    inputs = {block["block_id"]: block for block in view["blocks"]}
    assert inputs["level1_days"]["element"]["initial_value"] == "7"
    assert inputs["announce"]["element"]["type"] == "conversations_select"
    assert inputs["language"]["element"]["initial_option"]["value"] == "en"

    submission = fake.payloads.view_submission(
        view, fake.payloads.text_inputs({"level1_days": "999"}), user_id=ADMIN_ID
    )
    answer = await slack_bot.slack.send_interaction(submission)

    assert answer.status == 200
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"level1_days": "level1_days must be between 1 and 365."},
    }
    shown = await slack_bot.ephemeral("setup show")
    assert "level1_days: 7" in shown.body["text"]


async def test_a_valid_settings_modal_changes_the_settings(slack_bot: SlackBot) -> None:
    fake = slack_bot.fake
    await _set_up(slack_bot)
    await slack_bot.gov("setup set", user_id=ADMIN_ID)
    opened = await fake.wait_for_call("views.open")
    view = fake.views[opened.response["view"]["id"]]
    values = fake.payloads.text_inputs({"level1_days": "10", "timezone": "Europe/Berlin"})
    values["announce"] = {
        "announce": {"type": "conversations_select", "selected_conversation": "C0ANNOUNCE"}
    }
    values["leaderboard"] = {
        "leaderboard": {"type": "static_select", "selected_option": {"value": "no"}}
    }

    answer = await slack_bot.slack.send_interaction(
        fake.payloads.view_submission(view, values, user_id=ADMIN_ID)
    )

    assert answer.status == 200
    assert answer.text == ""  # the modal closes
    changed = await fake.wait_for_call("chat.postEphemeral")
    assert changed.args["user"] == ADMIN_ID
    assert changed.args["channel"] == DEFAULT_CHANNEL_ID
    assert (
        "Settings changed: announce, leaderboard, level1_days, timezone" in (changed.args["text"])
    )
    shown = await slack_bot.ephemeral("setup show")
    assert "announce: <#C0ANNOUNCE>" in shown.body["text"]
    assert "level1_days: 10" in shown.body["text"]
    assert "timezone: Europe/Berlin" in shown.body["text"]


async def test_the_report_shortcut_is_not_offered_until_reporting_works(
    slack_bot: SlackBot,
) -> None:
    shortcut = slack_bot.fake.payloads.message_shortcut("report_message", "something rude")

    answer = await slack_bot.slack.send_interaction(shortcut)

    # No listener: Bolt answers 404 and nothing is posted or written.
    assert answer.status == 404
    assert slack_bot.fake.responses == []
    assert count(slack_bot.store, AuditEntry) == 0
