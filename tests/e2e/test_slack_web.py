"""The web app around the Slack endpoint: health, metrics, and the whole `govbot run` process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from aiohttp import ClientSession

from tests.e2e import slack_fixtures
from tests.e2e.fakes.slack_server import DEFAULT_USER_ID, FakeSlack, SignedRequestClient
from tests.e2e.slack_fixtures import (
    ADMIN_ID,
    SIGNING_SECRET,
    SlackBot,
    command_count,
    private_answer,
)

fake_slack = slack_fixtures.fake_slack
slack_bot = slack_fixtures.slack_bot

STARTED = "govbot running: slack"


async def test_healthz_reports_the_database(slack_bot: SlackBot) -> None:
    async with ClientSession() as http, http.get(f"{slack_bot.base_url}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "sqlite"}


async def test_metrics_count_commands_latency_and_pending_timers(slack_bot: SlackBot) -> None:
    before = command_count("body add", "ok")
    await slack_bot.gov("setup init", user_id=ADMIN_ID)
    await slack_bot.posted("Governance is set up")
    await slack_bot.gov(f"body add tsc <@{DEFAULT_USER_ID}|member> until:30d", user_id=ADMIN_ID)
    await slack_bot.posted("now sits on tsc")
    await slack_bot.ephemeral("setup init")  # refused: not an admin

    async with ClientSession() as http, http.get(f"{slack_bot.base_url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        text = await response.text()

    lines = text.splitlines()
    assert "# TYPE govbot_commands_total counter" in lines
    assert "# TYPE govbot_command_duration_seconds histogram" in lines
    assert "# TYPE govbot_errors_total counter" in lines
    assert command_count("body add", "ok") == before + 1
    assert any(
        line.startswith(
            'govbot_commands_total{platform="slack",command="setup init",outcome="refused"}'
        )
        for line in lines
    )
    assert any(
        line.startswith(
            'govbot_command_duration_seconds_bucket{platform="slack",command="body add",le="+Inf"}'
        )
        for line in lines
    )
    # The tsc term that ends in 30 days waits as one piece of due work.
    assert "govbot_pending_timers 1" in lines


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _read_until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> None:
    while True:
        line = await stream.readline()
        if not line:
            raise AssertionError("govbot exited before it was ready:\n" + "".join(seen))
        seen.append(line.decode(errors="replace"))
        if marker in seen[-1]:
            return


async def _drain(stream: asyncio.StreamReader, seen: list[str]) -> None:
    while line := await stream.readline():
        seen.append(line.decode(errors="replace"))


async def test_govbot_run_serves_slack_and_stops_cleanly_on_sigterm(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    env |= {
        "GOVBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'govbot.db'}",
        "GOVBOT_SLACK_BOT_TOKEN": fake_slack.bot_token,
        "GOVBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "GOVBOT_SLACK_API_BASE": fake_slack.api_url,
        "GOVBOT_WEB_HOST": "127.0.0.1",
        "GOVBOT_WEB_PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "govbot",
        "run",
        "--platform",
        "slack",
        cwd=tmp_path,  # no stray .env
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    log: list[str] = []
    try:
        await asyncio.wait_for(_read_until(process.stderr, STARTED, log), timeout=30)
        draining = asyncio.create_task(_drain(process.stderr, log))
        base = f"http://127.0.0.1:{port}"
        async with SignedRequestClient(f"{base}/slack/events", SIGNING_SECRET) as slack:
            payload = fake_slack.payloads.slash_command("help")
            answer = await slack.send_slash_command(payload)
            assert answer.status == 200
            post = await private_answer(fake_slack, payload, answer)
            assert "/gov body join" in post.body["text"]
        async with ClientSession() as http, http.get(f"{base}/healthz") as health:
            assert health.status == 200

        process.send_signal(signal.SIGTERM)

        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
        await asyncio.wait_for(draining, timeout=5)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert not any("Traceback" in line for line in log), "".join(log)


async def test_http_mode_is_ready_once_started_and_reports_its_gauges(
    slack_bot: SlackBot,
) -> None:
    front_end = slack_bot.front_end

    assert front_end.ready()
    gauges = front_end.gauges()
    assert gauges["govbot_slack_commands_in_flight"][1] == 0
    assert gauges["govbot_slack_inbox_pending"][1] == 0
    assert all(help_text for help_text, _ in gauges.values())
    await front_end.stop()
    assert not front_end.ready()
