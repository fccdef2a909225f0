"""Shared set-up for the Slack e2e tests: govbot's own Slack front end and web app, on FakeSlack.

A test module takes the fixtures it uses by name (`slack_bot = slack_fixtures.slack_bot`),
since the folder has no conftest of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
from sqlalchemy import func, select

from govbot import metrics
from govbot.adapters.slack import SlackFrontEnd
from govbot.bootstrap import open_store
from govbot.config import Settings
from govbot.storage.db import Store
from govbot.web import WebApp
from tests.e2e.fakes.slack_server import (
    DEFAULT_CHANNEL_ID,
    DEFAULT_USER_ID,
    ApiCall,
    AppReply,
    FakeSlack,
    ResponseUrlPost,
    SignedRequestClient,
)

SIGNING_SECRET = "govbot-e2e-signing-secret"
ADMIN_ID = "U0ADMIN"


def slack_settings(tmp_path: Path, fake: FakeSlack, **overrides: Any) -> Settings:
    """Build settings for one workspace over HTTP against the fake, on a SQLite file."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'govbot.db'}",
        "discord_token": None,
        "slack_bot_token": fake.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_client_id": None,
        "slack_client_secret": None,
        "slack_app_token": None,
        "slack_api_base": fake.api_url,
        "web_host": "127.0.0.1",
        "web_port": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def count(store: Store, model: Any) -> int:
    """Count the rows of one table."""
    with store.unit_of_work() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@dataclass
class SlackBot:
    """govbot's Slack front end served by its web app, the fake it talks to, and a signer."""

    fake: FakeSlack
    store: Store
    web: WebApp
    front_end: SlackFrontEnd
    slack: SignedRequestClient

    @property
    def base_url(self) -> str:
        """Return the web app's `http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.web.port}"

    async def gov(
        self,
        text: str,
        *,
        user_id: str = DEFAULT_USER_ID,
        channel_id: str = DEFAULT_CHANNEL_ID,
    ) -> tuple[dict[str, str], AppReply]:
        """Type `/gov text` as a user; return the payload sent and the HTTP answer."""
        payload = self.fake.payloads.slash_command(text, user_id=user_id, channel_id=channel_id)
        return payload, await self.slack.send_slash_command(payload)

    async def ephemeral(
        self,
        text: str,
        *,
        user_id: str = DEFAULT_USER_ID,
        channel_id: str = DEFAULT_CHANNEL_ID,
    ) -> PrivateAnswer:
        """Type `/gov text` and return the private answer: on the ack, else its response_url."""
        payload, answer = await self.gov(text, user_id=user_id, channel_id=channel_id)
        assert answer.status == 200, answer.text
        return await private_answer(self.fake, payload, answer)

    async def posted(self, fragment: str, *, since: int = 0) -> ApiCall:
        """Wait for a public message (chat.postMessage) whose text contains a fragment."""
        return await self.fake.wait_for_call(
            "chat.postMessage", lambda c: c.ok and fragment in c.args["text"], since=since
        )


@dataclass(frozen=True)
class PrivateAnswer:
    """The answer only the caller sees, and how it came: on the ack or through response_url."""

    body: dict[str, Any]
    on_ack: bool


async def private_answer(
    fake: FakeSlack, payload: dict[str, str], answer: AppReply
) -> PrivateAnswer:
    """Read the private answer to a slash command from its ack, or wait for its response_url."""
    if answer.text:
        return PrivateAnswer(answer.json(), on_ack=True)
    post: ResponseUrlPost = await fake.wait_for_response(payload["response_url"])
    return PrivateAnswer(post.body, on_ack=False)


@asynccontextmanager
async def running_slack(settings: Settings, fake: FakeSlack) -> AsyncIterator[SlackBot]:
    """Start the store, the web app and the Slack front end as bootstrap does; stop them after."""
    store = open_store(settings.database_url)
    web = WebApp(settings, store)
    front_end = SlackFrontEnd(settings, store, web)
    await web.start()
    try:
        await front_end.start()
        try:
            async with SignedRequestClient(
                f"http://127.0.0.1:{web.port}/slack/events", SIGNING_SECRET
            ) as slack:
                yield SlackBot(fake, store, web, front_end, slack)
        finally:
            await front_end.stop()
    finally:
        await web.stop()
        store.dispose()


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """Run a fake Slack with a member (the default user) and a workspace admin."""
    async with FakeSlack() as fake:
        fake.add_user(ADMIN_ID, name="ada", is_admin=True)
        yield fake


@pytest_asyncio.fixture
async def slack_bot(fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackBot]:
    """Run govbot on Slack over HTTP, one workspace, against the fake."""
    async with running_slack(slack_settings(tmp_path, fake_slack), fake_slack) as bot:
        yield bot


@pytest_asyncio.fixture
async def slack_bot_each_db(
    fake_slack: FakeSlack, tmp_path: Path, database_url: str
) -> AsyncIterator[SlackBot]:
    """Run govbot on Slack over HTTP on SQLite, then on a fresh Postgres database."""
    settings = slack_settings(tmp_path, fake_slack, database_url=database_url)
    async with running_slack(settings, fake_slack) as bot:
        yield bot


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait until a condition holds, checking often; fail after the timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.01)


def metric(series: str) -> float:
    """Read one series of the process-wide metrics, e.g. `govbot_commands_total{...}`."""
    for line in metrics.REGISTRY.render().splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    return 0.0


def command_count(command: str, outcome: str) -> float:
    """Read how many Slack commands of one name ended with one outcome."""
    return metric(
        f'govbot_commands_total{{platform="slack",command="{command}",outcome="{outcome}"}}'
    )
