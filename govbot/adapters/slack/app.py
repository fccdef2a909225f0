"""The Slack front end on Bolt: /gov, buttons, modals, the App Home and a message shortcut."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from govbot import commands, metrics
from govbot.adapters.slack import render
from govbot.adapters.slack.installations import GovbotInstallationStore, GovbotOAuthStateStore
from govbot.adapters.slack.roles import WorkspaceRoles
from govbot.config import Settings
from govbot.i18n import translate
from govbot.replies import Form, Notice, Reply, Visibility
from govbot.services import Store
from govbot.services.base import Args, Caller
from govbot.services.bodies import member_overview
from govbot.services.runner import community_language, execute
from govbot.services.slack_installations import bot_token_for

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
REPORT_SHORTCUT = "report_message"
# Keep in step with deploy/slack-manifest.yaml.
BOT_SCOPES = ("commands", "chat:write", "chat:write.public", "im:write", "users:read")
RATE_LIMIT_RETRIES = 2


class Mode(StrEnum):
    """How Slack reaches govbot."""

    SINGLE = "single workspace over HTTP"
    OAUTH = "many workspaces over HTTP, installed by OAuth"
    SOCKET = "Socket Mode"


def slack_mode(settings: Settings) -> Mode:
    """Pick the mode from the settings: an app token means Socket Mode, OAuth credentials OAuth."""
    if settings.slack_app_token is not None:
        return Mode.SOCKET
    if settings.slack_client_id and settings.slack_client_secret is not None:
        return Mode.OAUTH
    return Mode.SINGLE


class WebHost(Protocol):
    """The web app whose aiohttp application serves the Slack endpoints."""

    app: web.Application


@dataclass
class Conversation:
    """Where an interaction happened, and so the ways its replies can reach people."""

    client: AsyncWebClient
    language: str
    user_id: str | None = None
    channel_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _payload_name(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("username") or user.get("name")
    name = body.get("user_name")
    return str(name) if name else None


class SlackFrontEnd:
    """Serve govbot on Slack: over HTTP on the web app (one workspace or OAuth), or Socket Mode."""

    def __init__(self, settings: Settings, store: Store, web_host: WebHost) -> None:
        self.settings = settings
        self.store = store
        self.mode = slack_mode(settings)
        self.roles = WorkspaceRoles()
        bot_token = (
            settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        )
        if self.mode is not Mode.OAUTH and bot_token is None:
            raise ValueError(f"Slack {self.mode} needs GOVBOT_SLACK_BOT_TOKEN")
        signing_secret = (
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else ""
        )
        if self.mode is not Mode.SOCKET and not signing_secret:
            raise ValueError(f"Slack {self.mode} needs GOVBOT_SLACK_SIGNING_SECRET")
        self.client = self.web_client(None if self.mode is Mode.OAUTH else bot_token)
        self.app = AsyncApp(
            name="govbot",
            client=self.client,
            signing_secret=signing_secret,
            # Bolt checks X-Slack-Signature and refuses requests older than five minutes.
            request_verification_enabled=True,
            oauth_settings=self._oauth_settings() if self.mode is Mode.OAUTH else None,
        )
        self._socket: AsyncSocketModeHandler | None = None
        self._register()
        if self.mode is not Mode.SOCKET:
            web_host.app.router.add_post(EVENTS_PATH, self._events)
        if self.mode is Mode.OAUTH:
            web_host.app.router.add_get(INSTALL_PATH, self._install)
            web_host.app.router.add_get(REDIRECT_PATH, self._oauth_redirect)

    def web_client(self, token: str | None) -> AsyncWebClient:
        """Build a Web API client that honours GOVBOT_SLACK_API_BASE and retries rate limits."""
        client = AsyncWebClient(
            token=token, base_url=self.settings.slack_api_base or AsyncWebClient.BASE_URL
        )
        # slack_sdk gives up on HTTP 429 unless told to wait and retry.
        client.retry_handlers.append(
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)
        )
        return client

    def _oauth_settings(self) -> AsyncOAuthSettings:
        secret = self.settings.slack_client_secret
        return AsyncOAuthSettings(
            client_id=self.settings.slack_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scopes=list(BOT_SCOPES),
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=GovbotInstallationStore(self.store),
            state_store=GovbotOAuthStateStore(self.store),
        )

    def _register(self) -> None:
        self.app.command("/gov")(self._on_command)
        self.app.action(render.BUTTON_PATTERN)(self._on_button)
        self.app.view(render.FORM_CALLBACK)(self._on_form)
        self.app.event("app_home_opened")(self._on_home)
        self.app.shortcut(REPORT_SHORTCUT)(self._on_report)
        if self.mode is Mode.OAUTH:
            # Uninstalling the app or revoking its token deletes the stored tokens.
            self.app.enable_token_revocation_listeners()
        else:
            self.app.event("app_uninstalled")(self._on_uninstalled)
            self.app.event("tokens_revoked")(self._on_uninstalled)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Check the bot token (one workspace) and connect Socket Mode when configured."""
        if self.mode is not Mode.OAUTH:
            identity = await self.client.auth_test()
            log.info("Slack: %s in workspace %s", identity.get("user"), identity.get("team"))
        if self.mode is Mode.SOCKET:
            assert self.settings.slack_app_token is not None
            self._socket = AsyncSocketModeHandler(
                self.app,
                app_token=self.settings.slack_app_token.get_secret_value(),
                web_client=self.client,
            )
            # slack_bolt leaves the Socket Mode handler's methods unannotated.
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
        log.info("Slack front end running: %s", self.mode)

    async def stop(self) -> None:
        """Close the Socket Mode connection, if any."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None

    async def deliver(self, notice: Notice) -> None:
        """Send a later notice (a term ended, a chair rotated) to its channel or member."""
        team = notice.community.external_id
        client = await self._client_for(team)
        if client is None:
            metrics.record_error(PLATFORM, "no_installation")
            log.warning("no Slack installation for workspace %s; a notice was dropped", team)
            return
        language = await asyncio.to_thread(community_language, self.store, PLATFORM, team)
        await self._send(Conversation(client=client, language=language), [notice.reply])

    async def _client_for(self, team: str) -> AsyncWebClient | None:
        if self.mode is not Mode.OAUTH:
            return self.client
        token = await asyncio.to_thread(bot_token_for, self.store, team)
        return None if token is None else self.web_client(token)

    # ------------------------------------------------------------------ HTTP

    async def _events(self, request: web.Request) -> web.Response:
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _install(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        response = await flow.handle_installation(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        response = await flow.handle_callback(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    # ------------------------------------------------------------------ listeners

    async def _on_command(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        text = str(body.get("text") or "")
        await self._run_text(context, body, text, body.get("channel_id"), "command")

    async def _on_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        text = str(action.get("value") or "")
        await self._run_text(context, body, text, context.channel_id, "action")

    async def _on_form(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        # The answer to a submission is the ack itself (errors shown in the modal), so the
        # command runs first; it is quick database work, well inside Slack's three seconds.
        metadata = _metadata(view)
        command = commands.named(metadata.get("command", ""))
        if command is None:
            log.warning("a modal named no known command: %r", metadata.get("command"))
            await ack()
            return
        raw = render.form_values(view.get("state", {}).get("values", {}))
        trigger = body.get("trigger_id")
        key = f"slack:view:{trigger}" if trigger else f"slack:view:{view['id']}:{view['hash']}"
        caller = await self._caller(context, body, metadata.get("channel") or None)
        replies = await self._run(
            lambda: commands.run_values(self.store, caller, command, raw, _now(), delivery_key=key),
        )
        inputs = {block.get("block_id") for block in view.get("blocks", [])}
        errors = {
            name: text
            for reply in replies
            if reply.error
            for name, text in reply.field_errors.items()
            if name in inputs
        }
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await self._send(await self._conversation(context, caller, None, None), replies)

    async def _on_home(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("tab") != "home":
            return
        key = f"slack:event:{body['event_id']}" if body.get("event_id") else None
        caller = await self._caller(context, body, None)
        started = time.perf_counter()
        replies = await self._run(
            lambda: execute(self.store, caller, member_overview, Args(), _now(), delivery_key=key),
        )
        # The Home tab is no command of the table, so it is counted here.
        outcome = "ok" if replies else "duplicate"
        metrics.record_command(PLATFORM, "app_home", outcome, time.perf_counter() - started)
        if not replies:
            return  # Slack delivered this event before; the Home tab is already published
        language = await asyncio.to_thread(
            community_language, self.store, PLATFORM, caller.community_id
        )
        view = render.home(
            translate(language, "slack.home_head"), replies, translate(language, "slack.home_hint")
        )
        try:
            await context.client.views_publish(user_id=caller.user_id, view=view)
        except SlackApiError as error:
            self._api_failed("views.publish", error)

    async def _on_report(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        team = context.team_id or context.enterprise_id or ""
        language = await asyncio.to_thread(community_language, self.store, PLATFORM, team)
        notice = Reply(translate(language, "slack.report_unavailable"), Visibility.PRIVATE)
        conversation = Conversation(
            client=context.client,
            language=language,
            user_id=context.user_id,
            channel_id=context.channel_id,
            response_url=body.get("response_url"),
        )
        await self._send(conversation, [notice])

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        # One workspace keeps its token in the settings: nothing stored to forget, but the
        # event is acked so that Slack does not retry it.
        log.info(
            "Slack: %s in workspace %s", body.get("event", {}).get("type"), body.get("team_id")
        )

    # ------------------------------------------------------------------ running commands

    async def _run_text(
        self,
        context: AsyncBoltContext,
        body: dict[str, Any],
        text: str,
        channel: str | None,
        kind: str,
    ) -> None:
        """Run a line of the text grammar (typed, or a button's) as the user, and answer."""
        trigger = body.get("trigger_id")
        # A trigger id names one user action; Slack sends it again when it redelivers one.
        key = f"slack:{kind}:{trigger}" if trigger else None
        caller = await self._caller(context, body, channel)
        replies = await self._run(
            lambda: commands.run_text(self.store, caller, text, _now(), delivery_key=key),
        )
        conversation = await self._conversation(context, caller, body.get("response_url"), trigger)
        await self._send(conversation, replies)

    async def _caller(
        self, context: AsyncBoltContext, body: dict[str, Any], channel: str | None
    ) -> Caller:
        team = context.team_id or context.enterprise_id or ""
        user = context.user_id or ""
        person = await self.roles.lookup(context.client, team, user)
        return Caller(
            platform=PLATFORM,
            community_id=team,
            user_id=user,
            display_name=person.name or _payload_name(body) or user,
            is_admin=person.is_admin,
            channel=channel,
        )

    async def _conversation(
        self,
        context: AsyncBoltContext,
        caller: Caller,
        response_url: str | None,
        trigger_id: str | None,
    ) -> Conversation:
        language = await asyncio.to_thread(
            community_language, self.store, PLATFORM, caller.community_id
        )
        return Conversation(
            client=context.client,
            language=language,
            user_id=caller.user_id,
            channel_id=caller.channel,
            response_url=response_url,
            trigger_id=trigger_id,
        )

    async def _run(self, work: Callable[[], list[Reply]]) -> list[Reply]:
        """Run a use case in a worker thread, never on the event loop."""
        try:
            return await asyncio.to_thread(work)
        except Exception:
            metrics.record_error(PLATFORM, "command")
            raise

    # ------------------------------------------------------------------ sending replies

    async def _send(self, conversation: Conversation, replies: list[Reply]) -> None:
        for reply in replies:
            try:
                await self._send_one(conversation, reply)
            except SlackApiError as error:
                self._api_failed("send", error)
            except Exception:
                metrics.record_error(PLATFORM, "send")
                log.exception("could not send a reply to Slack")

    async def _send_one(self, conversation: Conversation, reply: Reply) -> None:
        if reply.form is not None and await self._open_form(conversation, reply.form):
            return
        content = render.message(reply, conversation.language)
        target = reply.recipient
        if reply.visibility is Visibility.PUBLIC:
            if target and await self._post(conversation.client, target, content):
                return
            # Nowhere public to post (or the post failed): the caller at least sees it.
            target = conversation.user_id
            if target is None:
                log.warning("a public notice has no channel to go to; dropped")
                return
        user = target or conversation.user_id
        if user is None:
            log.warning("a private notice has no recipient; dropped")
            return
        to_caller = reply.visibility is not Visibility.DM and user == conversation.user_id
        if to_caller and await self._ephemeral(conversation, content):
            return
        await self._direct(conversation.client, user, content)

    async def _post(self, client: AsyncWebClient, channel: str, content: dict[str, Any]) -> bool:
        try:
            await client.chat_postMessage(
                channel=channel, text=content["text"], blocks=content.get("blocks")
            )
        except SlackApiError as error:
            self._api_failed("chat.postMessage", error)
            return False
        return True

    async def _ephemeral(self, conversation: Conversation, content: dict[str, Any]) -> bool:
        if conversation.response_url:
            response = await AsyncWebhookClient(conversation.response_url).send_dict(
                {**content, "response_type": "ephemeral", "replace_original": False}
            )
            if response.status_code == 200:
                return True
            metrics.record_error(PLATFORM, "response_url")
            log.warning("response_url answered %s", response.status_code)
        if conversation.channel_id and conversation.user_id:
            try:
                await conversation.client.chat_postEphemeral(
                    channel=conversation.channel_id,
                    user=conversation.user_id,
                    text=content["text"],
                    blocks=content.get("blocks"),
                )
            except SlackApiError as error:
                # Not in that channel, say: a direct message still reaches the member.
                self._api_failed("chat.postEphemeral", error)
                return False
            return True
        return False

    async def _direct(self, client: AsyncWebClient, user: str, content: dict[str, Any]) -> None:
        opened = await client.conversations_open(users=user)
        channel = opened["channel"]["id"]
        await client.chat_postMessage(
            channel=channel, text=content["text"], blocks=content.get("blocks")
        )

    async def _open_form(self, conversation: Conversation, form: Form) -> bool:
        if conversation.trigger_id is None:
            return False
        view = render.modal(
            form,
            commands.named(form.command),
            {"command": form.command, "channel": conversation.channel_id or ""},
            translate(conversation.language, "slack.form_cancel"),
        )
        try:
            await conversation.client.views_open(trigger_id=conversation.trigger_id, view=view)
        except SlackApiError as error:
            # The trigger expired or was used: the reply's text says how to do it by text.
            self._api_failed("views.open", error)
            return False
        conversation.trigger_id = None  # a trigger opens one modal only
        return True

    def _api_failed(self, method: str, error: SlackApiError) -> None:
        metrics.record_error(PLATFORM, "api")
        log.warning("Slack %s failed: %s", method, error.response.get("error"))


def _metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        decoded = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in decoded.items()} if isinstance(decoded, dict) else {}
