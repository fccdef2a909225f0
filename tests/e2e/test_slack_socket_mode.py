"""Socket Mode: the same front end, connected by the real AsyncSocketModeHandler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from aiohttp import ClientSession

from govbot.storage.models import Delivery
from tests.e2e import slack_fixtures
from tests.e2e.fakes.slack_server import DEFAULT_USER_ID, FakeSlack
from tests.e2e.slack_fixtures import (
    ADMIN_ID,
    SlackBot,
    command_count,
    count,
    eventually,
    running_slack,
    slack_settings,
)

fake_slack = slack_fixtures.fake_slack


@pytest_asyncio.fixture
async def socket_bot(fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackBot]:
    """Run govbot over Socket Mode: a bot token and an app token, no signing secret."""
    settings = slack_settings(
        tmp_path,
        fake_slack,
        slack_app_token=fake_slack.app_token,
        slack_signing_secret=None,
    )
    async with running_slack(settings, fake_slack) as bot:
        await fake_slack.wait_for_socket_connection()
        yield bot


async def test_a_command_over_socket_mode_is_acked_and_answered(socket_bot: SlackBot) -> None:
    fake = socket_bot.fake
    payload = fake.payloads.slash_command("help")

    envelope = await fake.push_slash_command(payload)

    ack = await fake.wait_for_ack(envelope)
    # Done within the ack budget: the private answer travels on the envelope's ack.
    assert ack.payload is not None
    assert ack.payload["response_type"] == "ephemeral"
    assert "/gov audit export" in ack.payload["text"]
    assert fake.responses == []
    assert fake.calls_to("apps.connections.open")[0].token == fake.app_token


async def test_socket_mode_serves_no_http_events_endpoint(socket_bot: SlackBot) -> None:
    async with (
        ClientSession() as http,
        http.post(f"{socket_bot.base_url}/slack/events", data="{}") as response,
    ):
        assert response.status == 404


async def test_modal_errors_come_back_in_the_socket_ack(socket_bot: SlackBot) -> None:
    fake = socket_bot.fake
    await fake.push_slash_command(fake.payloads.slash_command("setup init", user_id=ADMIN_ID))
    await socket_bot.posted("Governance is set up")
    await fake.push_slash_command(fake.payloads.slash_command("setup set", user_id=ADMIN_ID))
    opened = await fake.wait_for_call("views.open")
    view = fake.views[opened.response["view"]["id"]]
    submission = fake.payloads.view_submission(
        view, fake.payloads.text_inputs({"level2_days": "0"}), user_id=ADMIN_ID
    )

    envelope = await fake.push_interactive(submission)

    ack = await fake.wait_for_ack(envelope)
    assert ack.payload == {
        "response_action": "errors",
        "errors": {"level2_days": "level2_days must be between 1 and 365."},
    }


async def test_a_redelivered_socket_event_has_one_effect(socket_bot: SlackBot) -> None:
    fake = socket_bot.fake
    body = fake.payloads.app_home_opened(DEFAULT_USER_ID)
    await fake.push_event(body)
    await fake.wait_for_call("views.publish")
    duplicates = command_count("app_home", "duplicate")

    envelope = await fake.push_event(body, retry_attempt=1, retry_reason="timeout")

    await fake.wait_for_ack(envelope)
    await eventually(lambda: command_count("app_home", "duplicate") == duplicates + 1)
    assert len(fake.calls_to("views.publish")) == 1
    assert count(socket_bot.store, Delivery) == 1


async def test_socket_mode_is_ready_only_while_the_socket_is_connected(
    socket_bot: SlackBot,
) -> None:
    assert socket_bot.front_end.ready()

    await socket_bot.front_end.stop()

    assert not socket_bot.front_end.ready()
