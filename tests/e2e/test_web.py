"""The web app an operator's monitoring reads (/healthz, /readyz, /metrics), and what
`govbot run` says when a platform refuses it or cannot be reached."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from govbot import __version__
from govbot.bootstrap import open_store
from govbot.config import Settings
from govbot.storage.db import Store
from govbot.web import WebApp
from tests.e2e.fakes.discord_server import FakeDiscord
from tests.e2e.fakes.slack_server import FakeSlack


class DoubleFrontEnd:
    """A front end whose connection the test switches on and off."""

    def __init__(self, *, connected: bool = False, broken_gauges: bool = False) -> None:
        self.connected = connected
        self.broken_gauges = broken_gauges

    def ready(self) -> bool:
        return self.connected

    def gauges(self) -> dict[str, tuple[str, float]]:
        if self.broken_gauges:
            raise RuntimeError("no gauges today")
        return {"govbot_double_connected": ("Whether the double is connected.", self.connected)}


def settings_for(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url, web_port=0)  # type: ignore[call-arg]


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'govbot.db'}")
    yield opened
    opened.dispose()


@pytest_asyncio.fixture
async def web(store: Store) -> AsyncIterator[WebApp]:
    app = WebApp(settings_for(store.url), store)
    await app.start()
    yield app
    await app.stop()


async def get(web: WebApp, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{web.port}{path}") as response,
    ):
        return response.status, await response.text()


async def test_readyz_answers_200_only_while_every_front_end_is_connected(web: WebApp) -> None:
    discord, slack = DoubleFrontEnd(connected=True), DoubleFrontEnd(connected=False)
    web.front_ends.update({"discord": discord, "slack": slack})
    status, body = await get(web, "/readyz")
    assert status == 503
    assert '"slack": "down"' in body and '"discord": "up"' in body
    slack.connected = True
    status, body = await get(web, "/readyz")
    assert status == 200
    assert '"status": "ready"' in body
    # Liveness does not depend on the platforms.
    slack.connected = False
    assert (await get(web, "/healthz"))[0] == 200


async def test_readyz_answers_503_when_the_database_does_not(tmp_path: Path) -> None:
    lost = Store(f"sqlite:///{tmp_path / 'gone' / 'govbot.db'}")
    app = WebApp(settings_for(lost.url), lost)
    app.front_ends["slack"] = DoubleFrontEnd(connected=True)
    await app.start()
    try:
        status, body = await get(app, "/readyz")
    finally:
        await app.stop()
        lost.dispose()
    assert status == 503
    assert '"database": "down"' in body


async def test_metrics_show_build_info_uptime_and_front_end_gauges(web: WebApp) -> None:
    web.front_ends["double"] = DoubleFrontEnd(connected=True)
    web.front_ends["broken"] = DoubleFrontEnd(broken_gauges=True)
    status, body = await get(web, "/metrics")
    assert status == 200
    lines = body.splitlines()
    assert f'govbot_build_info{{version="{__version__}"}} 1' in lines
    uptime = [line for line in lines if line.startswith("govbot_uptime_seconds ")]
    assert len(uptime) == 1 and float(uptime[0].split()[1]) > 0
    assert "govbot_double_connected 1" in lines
    assert "# TYPE govbot_pending_timers gauge" in lines


# --------------------------------------------------------------------- `govbot run` failing


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def govbot_run(tmp_path: Path, **settings: str) -> tuple[int, list[str]]:
    """Run `govbot run` with these settings; return its exit status and its stderr lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    env |= {"GOVBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'govbot.db'}", "GOVBOT_WEB_PORT": "0"}
    env |= settings
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "govbot",
        "run",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    _, err = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode is not None
    return process.returncode, err.decode().splitlines()


def the_one_line(lines: list[str]) -> str:
    """Return the message `govbot run` ended with, checking nothing else failed loudly."""
    assert not any("Traceback" in line for line in lines), "\n".join(lines)
    assert lines and lines[-1].startswith("govbot: "), "\n".join(lines)
    return lines[-1]


async def test_a_wrong_discord_token_names_the_setting(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        status, lines = await govbot_run(
            tmp_path,
            GOVBOT_DISCORD_TOKEN="not-the-token",
            GOVBOT_DISCORD_API_BASE=fake.api_base,
            GOVBOT_DISCORD_GATEWAY=fake.gateway_url,
        )
    assert status == 2
    assert "GOVBOT_DISCORD_TOKEN" in the_one_line(lines)
    assert any(f"govbot {__version__} starting: discord" in line for line in lines)
    assert not any("voice will NOT be supported" in line for line in lines)


async def test_a_wrong_slack_token_names_the_setting(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        status, lines = await govbot_run(
            tmp_path,
            GOVBOT_SLACK_BOT_TOKEN="xoxb-wrong",
            GOVBOT_SLACK_SIGNING_SECRET="secret",
            GOVBOT_SLACK_API_BASE=fake.api_url,
        )
    assert status == 2
    line = the_one_line(lines)
    assert "invalid_auth" in line and "GOVBOT_SLACK_BOT_TOKEN" in line


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_an_unreachable_platform_is_one_line(tmp_path: Path, platform: str) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    if platform == "discord":
        settings = {
            "GOVBOT_DISCORD_TOKEN": "token",
            "GOVBOT_DISCORD_API_BASE": f"{nowhere}/api/v10",
            "GOVBOT_DISCORD_GATEWAY": nowhere.replace("http", "ws"),
        }
    else:
        settings = {
            "GOVBOT_SLACK_BOT_TOKEN": "xoxb-1",
            "GOVBOT_SLACK_SIGNING_SECRET": "secret",
            "GOVBOT_SLACK_API_BASE": f"{nowhere}/api/",
        }
    status, lines = await govbot_run(tmp_path, **settings)
    assert status == 2
    line = the_one_line(lines)
    assert f"cannot reach {platform.capitalize()}" in line
    assert f"GOVBOT_{platform.upper()}_API_BASE" in line


async def test_a_taken_web_port_names_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        status, lines = await govbot_run(
            tmp_path, GOVBOT_DISCORD_TOKEN="token", GOVBOT_WEB_PORT=port
        )
    assert status == 2
    assert "GOVBOT_WEB_PORT" in the_one_line(lines)


async def test_with_json_logs_the_one_line_is_json_too(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        status, lines = await govbot_run(
            tmp_path,
            GOVBOT_LOG_FORMAT="json",
            GOVBOT_SLACK_BOT_TOKEN="xoxb-wrong",
            GOVBOT_SLACK_SIGNING_SECRET="secret",
            GOVBOT_SLACK_API_BASE=fake.api_url,
        )
    assert status == 2
    last = json.loads(lines[-1])
    assert last["level"] == "ERROR" and "GOVBOT_SLACK_BOT_TOKEN" in last["message"]
