"""Discord and Slack in one process: `govbot run` with both platforms' settings."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from govbot.bootstrap import serve
from tests.e2e import discord_fixtures, slack_fixtures
from tests.e2e.discord_fixtures import callback_data, embed_text, is_ephemeral
from tests.e2e.fakes.discord_server import FakeDiscord
from tests.e2e.fakes.slack_server import FakeSlack
from tests.e2e.slack_fixtures import slack_settings

fake = discord_fixtures.fake
fake_slack = slack_fixtures.fake_slack
discord_endpoints_restored = discord_fixtures.discord_endpoints_restored


async def test_one_process_serves_discord_and_slack_from_one_database(
    fake: FakeDiscord, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    settings = slack_settings(
        tmp_path,
        fake_slack,
        slack_app_token=fake_slack.app_token,
        slack_signing_secret=None,
        discord_token=fake.token,
        discord_api_base=fake.api_base,
        discord_gateway=fake.gateway_url,
    )
    with discord_endpoints_restored():
        serving = asyncio.create_task(serve(settings, ["discord", "slack"]))
        try:
            await fake.wait_for_session(timeout=15)
            await fake_slack.wait_for_socket_connection(timeout=15)

            record = await fake.push_interaction(fake.build_slash_command("help", user=fake.member))
            answer = callback_data(await fake.wait_for_callback(record, timeout=15))
            assert is_ephemeral(answer) and "/body join body:<body>" in embed_text(answer)
            assert "/gov" not in embed_text(answer)

            payload = fake_slack.payloads.slash_command("body list")
            envelope = await fake_slack.push_slash_command(payload)
            ack = await fake_slack.wait_for_ack(envelope, timeout=15)
            assert ack.payload is not None  # the private answer rides on the ack
            assert "setup init" in ack.payload["text"]  # no bodies yet in this workspace

            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(serving, 15)
        finally:
            if not serving.done():
                serving.cancel()
    assert serving.exception() is None
