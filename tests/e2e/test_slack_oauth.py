"""Many workspaces: the OAuth install flow stores an installation, then serves with its token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientSession
from sqlmodel import select

from govbot.replies import CommunityRef, Notice, Reply, Visibility
from govbot.services.slack_installations import find_installation
from govbot.storage.models import SlackInstallation, SlackOAuthState
from tests.e2e import slack_fixtures
from tests.e2e.fakes.slack_server import FakeSlack
from tests.e2e.slack_fixtures import SlackBot, count, eventually, running_slack, slack_settings

fake_slack = slack_fixtures.fake_slack

OTHER_TEAM = "T0OTHER"
INSTALLER = "U0INSTALLER"
COOKIE = "slack-app-oauth-state"

# slack_sdk 3.47 itself still builds aiohttp.BasicAuth for oauth.v2.access.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest_asyncio.fixture
async def oauth_bot(fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackBot]:
    """Run govbot for many workspaces: OAuth credentials, no bot token."""
    fake_slack.add_user(INSTALLER, name="ines", is_admin=True, team_id=OTHER_TEAM)
    settings = slack_settings(
        tmp_path,
        fake_slack,
        slack_bot_token=None,
        slack_client_id=fake_slack.client_id,
        slack_client_secret=fake_slack.client_secret,
    )
    async with running_slack(settings, fake_slack) as bot:
        yield bot


async def _install(bot: SlackBot, http: ClientSession) -> tuple[str, str]:
    """Walk the install flow as a browser would; return the state used and the bot token."""
    async with http.get(f"{bot.base_url}/slack/install", allow_redirects=False) as page:
        assert page.status == 200
        html = await page.text()
        cookie = page.cookies[COOKIE].value
    match = re.search(r"state=([^&\"]+)", html)
    assert match is not None
    state = match.group(1)
    assert cookie == state
    code = bot.fake.issue_oauth_code(
        team_id=OTHER_TEAM, team_name="Other Co-op", installer_user_id=INSTALLER
    )
    async with http.get(
        f"{bot.base_url}/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers={"Cookie": f"{COOKIE}={state}"},
        allow_redirects=False,
    ) as done:
        assert done.status == 200, await done.text()
    granted = bot.fake.calls_to("oauth.v2.access")[-1]
    assert granted.ok
    return state, str(granted.response["access_token"])


def _as_other_team(payload: dict[str, Any]) -> dict[str, Any]:
    payload["team_id"] = OTHER_TEAM
    return payload


async def test_installing_stores_the_workspace_and_its_token_in_govbots_tables(
    oauth_bot: SlackBot,
) -> None:
    async with ClientSession() as http:
        _, token = await _install(oauth_bot, http)

    record = find_installation(oauth_bot.store, enterprise_id=None, team_id=OTHER_TEAM)
    assert record is not None
    assert record.bot_token == token
    assert record.user_id == INSTALLER
    assert record.team_name == "Other Co-op"
    assert "commands" in record.bot_scopes
    assert token not in repr(record)
    assert count(oauth_bot.store, SlackOAuthState) == 0  # the state was used up
    with oauth_bot.store.unit_of_work() as session:
        row = session.exec(select(SlackInstallation)).one()
        assert token not in repr(row)


async def test_a_state_cannot_be_used_twice(oauth_bot: SlackBot) -> None:
    async with ClientSession() as http:
        state, _ = await _install(oauth_bot, http)
        code = oauth_bot.fake.issue_oauth_code(team_id="T0THIRD")
        async with http.get(
            f"{oauth_bot.base_url}/slack/oauth_redirect",
            params={"code": code, "state": state},
            headers={"Cookie": f"{COOKIE}={state}"},
        ) as replayed:
            assert replayed.status >= 400

    assert count(oauth_bot.store, SlackInstallation) == 1


async def test_a_command_from_an_installed_workspace_is_served_with_its_token(
    oauth_bot: SlackBot,
) -> None:
    fake = oauth_bot.fake
    async with ClientSession() as http:
        _, token = await _install(oauth_bot, http)
    payload = fake.payloads.slash_command("setup init", user_id=INSTALLER)

    answer = await oauth_bot.slack.send_slash_command(_as_other_team(payload))

    assert answer.status == 200
    posted = await oauth_bot.posted("Governance is set up")
    assert posted.token == token
    info = fake.calls_to("users.info", lambda c: c.args["user"] == INSTALLER)[0]
    assert info.token == token


async def test_a_later_notice_for_an_installed_workspace_uses_its_token(
    oauth_bot: SlackBot,
) -> None:
    async with ClientSession() as http:
        _, token = await _install(oauth_bot, http)
    notice = Notice(
        CommunityRef("slack", OTHER_TEAM),
        Reply("The term of @ines on tsc has ended.", Visibility.DM, recipient=INSTALLER),
    )

    await oauth_bot.front_end.deliver(notice)

    dm = await oauth_bot.posted("The term of @ines on tsc has ended.")
    assert dm.token == token
    assert dm.args["channel"] == oauth_bot.fake.dm_channel(INSTALLER)


async def test_uninstalling_the_app_deletes_the_stored_tokens(oauth_bot: SlackBot) -> None:
    fake = oauth_bot.fake
    async with ClientSession() as http:
        await _install(oauth_bot, http)
    body = fake.payloads.event_callback({"type": "app_uninstalled", "event_ts": fake.next_ts()})
    body["team_id"] = OTHER_TEAM
    body["authorizations"][0]["team_id"] = OTHER_TEAM

    answer = await oauth_bot.slack.send_event(body)

    assert answer.status == 200
    await eventually(lambda: count(oauth_bot.store, SlackInstallation) == 0)
