"""Drive the real slack-bolt AsyncApp against the project's fake Slack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltRequest, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.e2e.fakes.slack_server import (
    DEFAULT_CHANNEL_ID,
    DEFAULT_USER_ID,
    Breakage,
    FakeSlack,
    SignedRequestClient,
    SigningMode,
    running_web_app,
)

SIGNING_SECRET = "govbot-test-signing-secret"
ACK_TEXT = "Working on it..."
PROPOSAL_MODAL = "proposal_modal"
TITLE_REQUIRED = "Give the proposal a title."


@dataclass
class GovTestBot:
    """Hold a small Bolt app shaped like govbot's Slack adapter, and what it observed."""

    app: AsyncApp
    seen_event_ids: set[str] = field(default_factory=set)
    skipped_retry_nums: list[str] = field(default_factory=list)
    redelivery_skipped: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Harness:
    """Bundle the fake, the bot served over HTTP and a signed-request client."""

    fake: FakeSlack
    bot: GovTestBot
    slack: SignedRequestClient


def build_bot(fake: FakeSlack) -> GovTestBot:
    """Build a Bolt app whose Web API client talks to the fake and retries 429s."""
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    bot = GovTestBot(app=AsyncApp(client=client, signing_secret=SIGNING_SECRET))
    app = bot.app

    @app.command("/gov")
    async def gov(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack(ACK_TEXT)
        text: str = command["text"]
        if text.startswith("announce "):
            await client.chat_postMessage(
                channel=command["channel_id"], text=text.removeprefix("announce ")
            )
            return
        await respond(f"Received: {text}")
        await client.chat_postEphemeral(
            channel=command["channel_id"], user=command["user_id"], text="Only you can see this"
        )

    @app.action("approve")
    async def approve(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text=f"Approved by <@{body['user']['id']}>: {action['value']}",
        )

    @app.shortcut("propose_from_message")
    async def propose(ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(
            trigger_id=shortcut["trigger_id"],
            view={
                "type": "modal",
                "callback_id": PROPOSAL_MODAL,
                "title": {"type": "plain_text", "text": "New proposal"},
                "submit": {"type": "plain_text", "text": "Propose"},
                "private_metadata": shortcut["message"]["text"],
                "blocks": [
                    {
                        "type": "input",
                        "block_id": "title",
                        "label": {"type": "plain_text", "text": "Title"},
                        "element": {"type": "plain_text_input", "action_id": "title"},
                    }
                ],
            },
        )

    @app.view(PROPOSAL_MODAL)
    async def submit_proposal(ack: AsyncAck, view: dict[str, Any]) -> None:
        title = view["state"]["values"]["title"]["title"].get("value") or ""
        if not title.strip():
            await ack(response_action="errors", errors={"title": TITLE_REQUIRED})
            return
        await ack()

    @app.event("app_home_opened")
    async def home(
        body: dict[str, Any],
        event: dict[str, Any],
        request: AsyncBoltRequest,
        client: AsyncWebClient,
    ) -> None:
        if body["event_id"] in bot.seen_event_ids:
            bot.skipped_retry_nums.append(request.headers.get("x-slack-retry-num", [""])[0])
            bot.redelivery_skipped.set()
            return
        bot.seen_event_ids.add(body["event_id"])
        await client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "*Open proposals*"}}
                ],
            },
        )

    return bot


def slack_endpoint(bolt_app: AsyncApp) -> web.Application:
    """Mount the Bolt app at ``POST /slack/events`` of an aiohttp application."""

    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await bolt_app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    web_app = web.Application()
    web_app.router.add_post("/slack/events", slack_events)
    return web_app


@pytest_asyncio.fixture
async def harness() -> AsyncIterator[Harness]:
    """Run the fake, serve the bot over HTTP and open a signed-request client."""
    async with AsyncExitStack() as stack:
        fake = await stack.enter_async_context(FakeSlack())
        bot = build_bot(fake)
        base_url = await stack.enter_async_context(running_web_app(slack_endpoint(bot.app)))
        slack = await stack.enter_async_context(
            SignedRequestClient(f"{base_url}/slack/events", SIGNING_SECRET)
        )
        yield Harness(fake=fake, bot=bot, slack=slack)


@asynccontextmanager
async def connected_over_socket_mode(bolt_app: AsyncApp, fake: FakeSlack) -> AsyncIterator[None]:
    """Connect the Bolt app to the fake through the real AsyncSocketModeHandler."""
    handler = AsyncSocketModeHandler(bolt_app, app_token=fake.app_token)
    # slack_bolt leaves these two methods unannotated.
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


@pytest.mark.asyncio
async def test_signed_slash_command_is_acked_then_answered_by_respond_and_ephemeral(
    harness: Harness,
) -> None:
    fake = harness.fake
    payload = fake.payloads.slash_command("status", user_id=DEFAULT_USER_ID)

    reply = await harness.slack.send_slash_command(payload)

    assert reply.status == 200
    assert reply.text == ACK_TEXT
    posted = await fake.wait_for_response(payload["response_url"])
    assert posted.body["text"] == "Received: status"
    ephemeral = await fake.wait_for_call("chat.postEphemeral")
    assert ephemeral.ok
    assert ephemeral.args["user"] == DEFAULT_USER_ID
    assert ephemeral.args["channel"] == DEFAULT_CHANNEL_ID
    assert ephemeral.headers["authorization"] == f"Bearer {fake.bot_token}"
    assert fake.calls_to("auth.test")[0].ok


@pytest.mark.asyncio
@pytest.mark.parametrize("signing", ["forged", "stale", "missing"])
async def test_badly_signed_slash_command_is_refused_with_401(
    harness: Harness, signing: SigningMode
) -> None:
    payload = harness.fake.payloads.slash_command("status")

    reply = await harness.slack.send_slash_command(payload, signing=signing)

    assert reply.status == 401
    assert harness.fake.calls == []
    assert harness.fake.responses == []


@pytest.mark.asyncio
async def test_url_verification_echoes_the_challenge(harness: Harness) -> None:
    reply = await harness.slack.send_url_verification("challenge-123")

    assert reply.status == 200
    assert reply.json() == {"challenge": "challenge-123"}


@pytest.mark.asyncio
async def test_button_click_reaches_the_action_handler_which_updates_the_message(
    harness: Harness,
) -> None:
    fake = harness.fake
    message = fake.seed_message(DEFAULT_CHANNEL_ID, "Proposal 7: adopt the charter")
    payload = fake.payloads.block_actions("approve", "proposal-7", message=message)

    reply = await harness.slack.send_interaction(payload)

    assert reply.status == 200
    update = await fake.wait_for_call("chat.update")
    assert update.ok
    assert update.args["ts"] == message["ts"]
    assert fake.messages_in(DEFAULT_CHANNEL_ID)[0]["text"] == (
        f"Approved by <@{DEFAULT_USER_ID}>: proposal-7"
    )


@pytest.mark.asyncio
async def test_message_shortcut_opens_a_modal_with_its_trigger_id(harness: Harness) -> None:
    fake = harness.fake
    payload = fake.payloads.message_shortcut("propose_from_message", "We should meet weekly")

    reply = await harness.slack.send_interaction(payload)

    assert reply.status == 200
    opened = await fake.wait_for_call("views.open")
    assert opened.ok
    assert opened.args["trigger_id"] == payload["trigger_id"]
    view = fake.views[opened.response["view"]["id"]]
    assert view["callback_id"] == PROPOSAL_MODAL
    assert view["private_metadata"] == "We should meet weekly"


@pytest.mark.asyncio
async def test_view_submission_errors_come_back_in_the_http_response(harness: Harness) -> None:
    fake = harness.fake
    shortcut = fake.payloads.message_shortcut("propose_from_message", "Budget idea")
    await harness.slack.send_interaction(shortcut)
    opened = await fake.wait_for_call("views.open")
    view = fake.views[opened.response["view"]["id"]]
    payload = fake.payloads.view_submission(view, fake.payloads.text_inputs({"title": "  "}))

    reply = await harness.slack.send_interaction(payload)

    assert reply.status == 200
    assert reply.json() == {"response_action": "errors", "errors": {"title": TITLE_REQUIRED}}


@pytest.mark.asyncio
async def test_app_home_opened_event_publishes_the_home_tab(harness: Harness) -> None:
    fake = harness.fake
    body = fake.payloads.app_home_opened(DEFAULT_USER_ID)

    reply = await harness.slack.send_event(body)

    assert reply.status == 200
    published = await fake.wait_for_call("views.publish")
    assert published.ok
    assert fake.home_tabs[DEFAULT_USER_ID]["blocks"][0]["text"]["text"] == "*Open proposals*"


@pytest.mark.asyncio
async def test_redelivered_event_carries_retry_headers_and_has_one_effect(
    harness: Harness,
) -> None:
    fake, bot = harness.fake, harness.bot
    body = fake.payloads.app_home_opened(DEFAULT_USER_ID)
    await harness.slack.send_event(body)
    await fake.wait_for_call("views.publish")

    reply = await harness.slack.send_event(body, retry_num=1, retry_reason="http_timeout")

    assert reply.status == 200
    await asyncio.wait_for(bot.redelivery_skipped.wait(), timeout=5)
    assert bot.skipped_retry_nums == ["1"]
    assert len(fake.calls_to("views.publish")) == 1


@pytest.mark.asyncio
async def test_rate_limited_post_message_is_retried_by_the_installed_handler(
    harness: Harness,
) -> None:
    fake = harness.fake
    fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    payload = fake.payloads.slash_command("announce Assembly on Friday")

    reply = await harness.slack.send_slash_command(payload)

    assert reply.status == 200
    posted = await fake.wait_for_call("chat.postMessage", lambda c: c.ok, timeout=8)
    attempts = fake.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert posted.args["text"] == "Assembly on Friday"
    assert posted.received_at - attempts[0].received_at >= 1.0


@pytest.mark.asyncio
async def test_rate_limited_call_fails_without_a_retry_handler() -> None:
    async with FakeSlack() as fake:
        fake.rate_limit("chat.postMessage")
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)

        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel=DEFAULT_CHANNEL_ID, text="hi")

        assert raised.value.response.status_code == 429
        assert raised.value.response.headers["Retry-After"] == "1"
        assert raised.value.response["error"] == "ratelimited"


@pytest.mark.asyncio
@pytest.mark.parametrize(("breakage", "status"), [("html_502", 502), ("text_500", 500)])
async def test_a_broken_proxy_answer_reaches_the_client_as_no_json(
    breakage: Breakage, status: int
) -> None:
    async with FakeSlack() as fake:
        fake.break_next("chat.postMessage", breakage)
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)

        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel=DEFAULT_CHANNEL_ID, text="hi")

        assert raised.value.response.status_code == status
        assert not isinstance(raised.value.response.data, dict) or not raised.value.response.data
        assert [c.status for c in fake.calls_to("chat.postMessage")] == [status]
        await client.chat_postMessage(channel=DEFAULT_CHANNEL_ID, text="again")  # only once


@pytest.mark.asyncio
async def test_a_slowed_down_method_answers_late() -> None:
    async with FakeSlack() as fake:
        fake.slow_down("users.info", 0.3)
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        loop = asyncio.get_running_loop()

        started = loop.time()
        answer = await client.users_info(user=DEFAULT_USER_ID)

        assert loop.time() - started >= 0.3
        assert answer["user"]["id"] == DEFAULT_USER_ID


@pytest.mark.asyncio
async def test_slash_command_over_socket_mode_is_acked_over_the_websocket() -> None:
    async with FakeSlack() as fake, connected_over_socket_mode(build_bot(fake).app, fake):
        await fake.wait_for_socket_connection()
        payload = fake.payloads.slash_command("status")

        envelope_id = await fake.push_slash_command(payload)

        ack = await fake.wait_for_ack(envelope_id)
        assert ack.payload == {"text": ACK_TEXT}
        posted = await fake.wait_for_response(payload["response_url"])
        assert posted.body["text"] == "Received: status"
        assert fake.calls_to("apps.connections.open")[0].token == fake.app_token


@pytest.mark.asyncio
async def test_socket_mode_client_reconnects_when_asked_and_keeps_acking() -> None:
    async with FakeSlack() as fake, connected_over_socket_mode(build_bot(fake).app, fake):
        await fake.wait_for_socket_connection()

        await fake.request_socket_refresh()

        await fake.wait_for_socket_connection(count=2)
        envelope_id = await fake.push_event(fake.payloads.app_home_opened())
        ack = await fake.wait_for_ack(envelope_id)
        assert ack.payload is None
        await fake.wait_for_call("views.publish")
        assert len(fake.calls_to("apps.connections.open")) == 2


@pytest.mark.asyncio
async def test_trigger_ids_are_single_use_and_expire() -> None:
    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        modal = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
        trigger_id = fake.issue_trigger_id()
        await client.views_open(trigger_id=trigger_id, view=modal)

        with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
            await client.views_open(trigger_id=trigger_id, view=modal)
        late = fake.issue_trigger_id()
        fake.expire_trigger_id(late)
        with pytest.raises(SlackApiError, match="expired_trigger_id"):
            await client.views_open(trigger_id=late, view=modal)


@pytest.mark.asyncio
async def test_users_info_reports_roles_and_bad_tokens_are_refused() -> None:
    async with FakeSlack() as fake:
        fake.add_user("U0ADMIN", name="ada", is_admin=True)
        fake.add_user("U0OWNER", name="olu", is_owner=True, is_primary_owner=True)
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)

        admin = (await client.users_info(user="U0ADMIN"))["user"]
        owner = (await client.users_info(user="U0OWNER"))["user"]
        member = (await client.users_info(user=DEFAULT_USER_ID))["user"]

        assert (admin["is_admin"], admin["is_owner"]) == (True, False)
        assert (owner["is_admin"], owner["is_owner"]) == (False, True)
        assert (member["is_admin"], member["is_owner"]) == (False, False)
        with pytest.raises(SlackApiError, match="user_not_found"):
            await client.users_info(user="U0NOBODY")
        stranger = AsyncWebClient(token="xoxb-not-a-real-token", base_url=fake.api_url)
        with pytest.raises(SlackApiError, match="invalid_auth"):
            await stranger.auth_test()


@pytest.mark.asyncio
# slack_sdk 3.47 itself still builds aiohttp.BasicAuth for oauth.v2.access.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_code_exchange_installs_a_workspace_with_a_working_token() -> None:
    async with FakeSlack() as fake:
        code = fake.issue_oauth_code(team_id="T0OTHER", team_name="Other Co-op")
        client = AsyncWebClient(base_url=fake.api_url)

        granted = await client.oauth_v2_access(
            client_id=fake.client_id, client_secret=fake.client_secret, code=code
        )

        assert granted["team"] == {"id": "T0OTHER", "name": "Other Co-op"}
        installed = AsyncWebClient(token=granted["access_token"], base_url=fake.api_url)
        assert (await installed.auth_test())["team_id"] == "T0OTHER"
        exchange = fake.calls_to("oauth.v2.access")[0]
        assert exchange.headers["authorization"].startswith("Basic ")
        with pytest.raises(SlackApiError, match="invalid_code"):
            await client.oauth_v2_access(
                client_id=fake.client_id, client_secret=fake.client_secret, code=code
            )
