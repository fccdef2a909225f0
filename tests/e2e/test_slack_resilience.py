"""Slack under load and when Slack's API misbehaves: an honest ack, a bound, a durable inbox."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from govbot.adapters.slack.app import Job
from govbot.bootstrap import open_store
from govbot.services import inbox
from govbot.services.base import Caller
from govbot.storage.models import Delivery, InboxCommand, Member, Membership
from tests.e2e import slack_fixtures
from tests.e2e.fakes.slack_server import (
    DEFAULT_CHANNEL_ID,
    DEFAULT_USER_ID,
    Breakage,
    FakeSlack,
)
from tests.e2e.slack_fixtures import (
    ADMIN_ID,
    SlackBot,
    count,
    eventually,
    private_answer,
    running_slack,
    slack_settings,
)

fake_slack = slack_fixtures.fake_slack
slack_bot = slack_fixtures.slack_bot

BUSY = "govbot is busy right now, so your command was not run."
RECEIVED = "Received, working on it."
UNSURE = "Slack could not tell govbot in time whether you are a workspace admin"


async def _set_up(bot: SlackBot) -> None:
    answer = await bot.gov("setup init", user_id=ADMIN_ID)
    assert answer[1].status == 200
    await bot.posted("Governance is set up")


def _seats_of(bot: SlackBot, user_id: str) -> int:
    """Count a user's seats, as member or chair (the first to join takes the chair)."""
    with bot.store.unit_of_work() as session:
        rows = session.execute(
            select(Membership.id)
            .join(Member, Member.id == Membership.member_id)  # type: ignore[arg-type]
            .where(Member.platform_user_id == user_id)
        ).all()
        return len(rows)


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    broken = [r for r in caplog.records if r.exc_info and "AttributeError" in str(r.exc_info[1])]
    assert not broken, broken
    assert not any("AttributeError" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------ the bound and the inbox


async def test_beyond_the_bound_the_user_is_told_busy_and_nothing_is_written(
    slack_bot: SlackBot,
) -> None:
    await _set_up(slack_bot)
    fake = slack_bot.fake
    for user in ("U0ONE", "U0TWO", "U0THREE"):
        fake.add_user(user, name=user.lower())
    slack_bot.front_end.max_in_flight = 2
    # Two commands held up in users.info fill the two slots.
    fake.slow_down("users.info", 0.8, times=2)
    held = [
        asyncio.create_task(slack_bot.gov("body join quality", user_id=user))
        for user in ("U0ONE", "U0TWO")
    ]
    await eventually(
        lambda: slack_bot.front_end.gauges()["govbot_slack_commands_in_flight"][1] == 2
    )

    payload, answer = await slack_bot.gov("body join quality", user_id="U0THREE")

    assert answer.status == 200
    assert answer.json()["response_type"] == "ephemeral"
    assert BUSY in answer.json()["text"]
    for _, first in await asyncio.gather(*held):
        assert first.status == 200 and BUSY not in first.text
    assert _seats_of(slack_bot, "U0THREE") == 0
    assert count(slack_bot.store, InboxCommand) == 0
    with slack_bot.store.unit_of_work() as session:
        assert session.get(Delivery, f"slack:command:{payload['trigger_id']}") is None
    assert _seats_of(slack_bot, "U0ONE") == _seats_of(slack_bot, "U0TWO") == 1


async def test_a_command_past_the_budget_is_in_the_inbox_before_the_ack_and_answered_once(
    slack_bot: SlackBot,
) -> None:
    await _set_up(slack_bot)
    front_end = slack_bot.front_end
    front_end.ack_budget = 0.2
    # users.info gives up after its own timeout: the budget is spent before the command runs.
    slack_bot.fake.slow_down("users.info", 3.0)
    slack_bot.fake.add_user("U0LATE", name="late")

    payload, answer = await slack_bot.gov("body join quality", user_id="U0LATE")

    assert answer.status == 200
    assert RECEIVED in answer.json()["text"]
    # The announcement is public; nothing else was due to the caller.
    await slack_bot.posted("@late joined quality.")
    key = f"slack:command:{payload['trigger_id']}"
    with slack_bot.store.unit_of_work() as session:
        rows = session.exec(select(InboxCommand).where(InboxCommand.key == key)).all()  # type: ignore[call-overload]
    assert len(rows) == 1
    await eventually(lambda: inbox.pending(slack_bot.store, "slack") == 0)
    assert _seats_of(slack_bot, "U0LATE") == 1
    assert (
        len(slack_bot.fake.calls_to("chat.postMessage", lambda c: "@late" in c.args["text"])) == 1
    )


async def test_a_command_left_in_the_inbox_by_a_dead_worker_runs_once_at_start(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    settings = slack_settings(tmp_path, fake_slack)
    async with running_slack(settings, fake_slack) as bot:
        await _set_up(bot)
    # A worker acked this command, wrote it to the inbox, and died: its lease ran out.
    response_url = fake_slack.new_response_url()
    caller = Caller(
        "slack", fake_slack.team_id, DEFAULT_USER_ID, "member", False, DEFAULT_CHANNEL_ID
    )
    job = Job(
        "slack:command:dead", "command", caller, text="body join quality", response_url=response_url
    )
    store = open_store(settings.database_url)
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    inbox.enqueue(store, "slack", job.key or "", job.to_json(), long_ago, timedelta(seconds=10))
    store.dispose()

    async with running_slack(settings, fake_slack) as bot:
        await bot.posted("@member joined quality.")
        await eventually(lambda: inbox.pending(bot.store, "slack") == 0)
        assert _seats_of(bot, DEFAULT_USER_ID) == 1
        with bot.store.unit_of_work() as session:
            assert session.get(Delivery, "slack:command:dead") is not None
        # The gauge is recounted from the store on every pass of the drainer.
        await eventually(lambda: bot.front_end.gauges()["govbot_slack_inbox_pending"][1] == 0)


# ------------------------------------------------------------------ Slack API failures


@pytest.mark.parametrize("breakage", ["html_502", "text_500"])
async def test_a_broken_users_info_still_gets_an_ack_and_the_usual_private_refusal(
    slack_bot: SlackBot, breakage: Breakage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    slack_bot.fake.break_next("users.info", breakage)

    payload, answer = await slack_bot.gov("setup init", user_id=ADMIN_ID)

    assert answer.status == 200
    shown = await private_answer(slack_bot.fake, payload, answer)
    assert "You do not have permission" in shown.body["text"]
    note = await slack_bot.fake.wait_for_response(payload["response_url"])
    assert UNSURE in note.body["text"]
    assert slack_bot.fake.calls_to("chat.postMessage") == []
    _no_tracebacks(caplog)


@pytest.mark.parametrize("breakage", ["html_502", "text_500"])
async def test_a_broken_public_post_reaches_the_caller_privately(
    slack_bot: SlackBot, breakage: Breakage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    slack_bot.fake.break_next("chat.postMessage", breakage)

    payload, answer = await slack_bot.gov("setup init", user_id=ADMIN_ID)

    assert answer.status == 200
    post = await slack_bot.fake.wait_for_response(payload["response_url"])
    assert "Governance is set up" in post.body["text"]
    assert post.body["response_type"] == "ephemeral"
    assert any("chat.postMessage failed: HTTP" in r.getMessage() for r in caplog.records)
    _no_tracebacks(caplog)


@pytest.mark.parametrize("breakage", ["html_502", "text_500"])
async def test_the_home_tab_is_published_when_users_info_is_broken(
    slack_bot: SlackBot, breakage: Breakage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    slack_bot.fake.break_next("users.info", breakage)

    answer = await slack_bot.slack.send_event(slack_bot.fake.payloads.app_home_opened())

    assert answer.status == 200
    published = await slack_bot.fake.wait_for_call("views.publish")
    assert published.ok
    _no_tracebacks(caplog)


async def test_a_broken_views_publish_is_logged_not_raised(
    slack_bot: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    slack_bot.fake.break_next("views.publish", "html_502")

    answer = await slack_bot.slack.send_event(slack_bot.fake.payloads.app_home_opened())

    assert answer.status == 200
    await eventually(lambda: any("views.publish failed" in r.getMessage() for r in caplog.records))
    _no_tracebacks(caplog)


async def _open_settings_modal(bot: SlackBot) -> dict[str, object]:
    await bot.gov("setup set", user_id=ADMIN_ID)
    opened = await bot.fake.wait_for_call("views.open")
    return bot.fake.views[opened.response["view"]["id"]]


async def test_a_slow_users_info_on_a_modal_falls_back_to_the_cached_role(
    slack_bot: SlackBot,
) -> None:
    await _set_up(slack_bot)
    view = await _open_settings_modal(slack_bot)
    slack_bot.front_end.roles.ttl = 0  # the admin answer is remembered, but no longer fresh
    slack_bot.fake.slow_down("users.info", 5.0)
    submission = slack_bot.fake.payloads.view_submission(
        view, slack_bot.fake.payloads.text_inputs({"level1_days": "12"}), user_id=ADMIN_ID
    )
    loop = asyncio.get_running_loop()

    started = loop.time()
    answer = await slack_bot.slack.send_interaction(submission)

    assert answer.status == 200
    assert loop.time() - started < 3.0
    assert answer.text == ""  # the modal closes: the change was made as the admin
    shown = await slack_bot.ephemeral("setup show", user_id=ADMIN_ID)
    assert "level1_days: 12" in shown.body["text"]


async def test_a_slow_users_info_with_nothing_cached_refuses_and_says_why(
    slack_bot: SlackBot,
) -> None:
    await _set_up(slack_bot)
    view = await _open_settings_modal(slack_bot)
    slack_bot.front_end.roles = type(slack_bot.front_end.roles)()  # nothing remembered
    slack_bot.fake.slow_down("users.info", 5.0)
    submission = slack_bot.fake.payloads.view_submission(
        view, slack_bot.fake.payloads.text_inputs({"level1_days": "12"}), user_id=ADMIN_ID
    )
    loop = asyncio.get_running_loop()

    started = loop.time()
    answer = await slack_bot.slack.send_interaction(submission)

    assert answer.status == 200
    assert loop.time() - started < 3.0
    told = await slack_bot.fake.wait_for_call(
        "chat.postEphemeral", lambda c: UNSURE in c.args["text"]
    )
    assert told.args["user"] == ADMIN_ID
    refused = slack_bot.fake.calls_to(
        "chat.postEphemeral", lambda c: "You do not have permission" in c.args["text"]
    )
    assert len(refused) == 1
