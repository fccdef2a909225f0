"""The Slack front end on Bolt: /gov, buttons, modals and the App Home.

Every command is either done before Slack is told it was received, or written to the durable
inbox first and run from there; beyond a bound on the work in flight the user is told to try
again. The command's delivery key makes a second run (a redelivery, or the inbox taking over
from a thread that was still running) a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import parse_qs

from aiohttp import ClientSession, ClientTimeout, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from govbot import commands, metrics
from govbot.adapters.edits import InPlaceEdits
from govbot.adapters.forms import form_target, picked, submission
from govbot.adapters.slack import render
from govbot.adapters.slack.errors import API_FAILURES, api_failed
from govbot.adapters.slack.installations import GovbotInstallationStore, GovbotOAuthStateStore
from govbot.adapters.slack.members import MemberCounts
from govbot.adapters.slack.roles import WorkspaceRoles
from govbot.config import Settings
from govbot.i18n import DEFAULT_LANGUAGE, translate
from govbot.replies import Button, Form, Notice, Reply, Visibility
from govbot.services import Store, inbox, messages
from govbot.services.base import Args, Caller
from govbot.services.bodies import member_overview
from govbot.services.runner import community_language, execute, language_of
from govbot.services.slack_installations import bot_token_for

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# Keep in step with deploy/slack-manifest.yaml.
BOT_SCOPES = ("commands", "chat:write", "chat:write.public", "im:write", "users:read")
RATE_LIMIT_RETRIES = 2
# Slack waits 3 s for an ack; a command still running after this goes to the inbox. The
# rest of the window is for that inbox write, which may itself wait for the database.
ACK_BUDGET_SECONDS = 1.5
ARRIVED = "govbot_arrived"  # bolt context key: when an HTTP request arrived (monotonic)
# Commands running at once (typed, pressed, submitted, or taken from the inbox); past it
# the user is told to try again rather than queued without limit.
MAX_IN_FLIGHT = 64
# Commands run on threads of their own, so the timers and the web app keep the default pool.
COMMAND_THREADS = 8
# How long a worker holds an inbox row before another may take it over.
INBOX_LEASE = timedelta(seconds=10)
INBOX_POLL_SECONDS = 1.0
INBOX_MAX_ATTEMPTS = 5
HTTP_TIMEOUT_SECONDS = 30  # each Slack API call, as slack_sdk's own default


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
    team: str | None = None  # the workspace, for messages posted under a key and their edits
    user_id: str | None = None
    channel_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None


@dataclass
class Job:
    """One command to run as a caller: a typed line, a button's line, or a modal's values."""

    key: str | None
    kind: str  # command | action | form
    caller: Caller
    text: str = ""
    command: str = ""
    raw: dict[str, str] = field(default_factory=dict)
    response_url: str | None = None
    trigger_id: str | None = None
    unsure: bool = False  # users.info did not answer: run as no admin, and say so

    def to_json(self) -> str:
        """Write what the inbox needs to run this command later and answer it."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Job:
        """Read a job back from the inbox."""
        data = json.loads(text)
        data["caller"] = Caller(**data["caller"])
        data["trigger_id"] = None  # long expired by the time the inbox runs it
        return cls(**data)


@dataclass
class Outcome:
    """What became of a command by the time Slack must be answered."""

    job: Job | None
    replies: list[Reply] | None = None  # it finished within the budget
    language: str = DEFAULT_LANGUAGE
    busy: bool = False  # past the bound: not run
    received: bool = False  # still running; written to the inbox when it had a key


def _now() -> datetime:
    return datetime.now(UTC)


def _payload_name(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("username") or user.get("name")
    name = body.get("user_name")
    return str(name) if name else None


def _ephemeral(content: dict[str, Any]) -> dict[str, Any]:
    return {"text": content["text"], "blocks": content.get("blocks"), "response_type": "ephemeral"}


class SlackFrontEnd:
    """Serve govbot on Slack: over HTTP on the web app (one workspace or OAuth), or Socket Mode."""

    max_in_flight = MAX_IN_FLIGHT
    ack_budget = ACK_BUDGET_SECONDS
    inbox_lease = INBOX_LEASE
    inbox_poll = INBOX_POLL_SECONDS

    def __init__(self, settings: Settings, store: Store, web_host: WebHost) -> None:
        self.settings = settings
        self.store = store
        self.mode = slack_mode(settings)
        # One HTTP session for every Web API and response_url call, made in start(): kept-alive
        # connections, rather than a new session (and TCP connection) per call.
        self._http: ClientSession | None = None
        self.roles = WorkspaceRoles()
        self.members = MemberCounts()
        self.edits: InPlaceEdits[dict[str, Any]] = InPlaceEdits(
            PLATFORM, self._find_posted, self._edit
        )
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
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
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
        self._started = False
        self._in_flight = 0
        self._pending = 0
        self._languages: dict[str, str] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._register()
        if self.mode is not Mode.SOCKET:
            web_host.app.router.add_post(EVENTS_PATH, self._events)
        if self.mode is Mode.OAUTH:
            web_host.app.router.add_get(INSTALL_PATH, self._install)
            web_host.app.router.add_get(REDIRECT_PATH, self._oauth_redirect)

    def web_client(self, token: str | None) -> AsyncWebClient:
        """Build a Web API client that honours GOVBOT_SLACK_API_BASE and retries rate limits."""
        client = AsyncWebClient(
            token=token,
            base_url=self.settings.slack_api_base or AsyncWebClient.BASE_URL,
            session=self._http,
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
        self.app.action(render.SELECT_ACTION)(self._on_select)
        self.app.view(render.FORM_CALLBACK)(self._on_form)
        self.app.event("app_home_opened")(self._on_home)
        if self.mode is Mode.OAUTH:
            # Uninstalling the app or revoking its token deletes the stored tokens.
            self.app.enable_token_revocation_listeners()
        else:
            self.app.event("app_uninstalled")(self._on_uninstalled)
            self.app.event("tokens_revoked")(self._on_uninstalled)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Check the bot token, start the inbox drainer, and connect Socket Mode if configured."""
        team_id = None
        if self.mode is not Mode.OAUTH:
            # On a session of its own: a refused token or an unreachable Slack leaves none open.
            identity = await self.client.auth_test()
            log.info("Slack: %s in workspace %s", identity.get("user"), identity.get("team"))
            team_id = identity.get("team_id")
        self._http = ClientSession(timeout=ClientTimeout(total=HTTP_TIMEOUT_SECONDS))
        # Bolt hands each request a client built with the app client's session.
        self.client.session = self._http
        if team_id:
            # Counted from the start, so that the first proposals know the electorate.
            self.members.count(self.client, str(team_id), self._spawn)
        self._executor = ThreadPoolExecutor(COMMAND_THREADS, thread_name_prefix="govbot-slack")
        # Also takes over what a dead worker left: rows whose lease ran out.
        self._drainer = asyncio.create_task(self._drain_forever(), name="slack-inbox")
        if self.mode is Mode.SOCKET:
            assert self.settings.slack_app_token is not None
            self._socket = AsyncSocketModeHandler(
                self.app,
                app_token=self.settings.slack_app_token.get_secret_value(),
                web_client=self.client,
            )
            try:
                # slack_bolt leaves the Socket Mode handler's methods unannotated.
                await self._socket.connect_async()  # type: ignore[no-untyped-call]
            except BaseException:
                await self._close_http()
                raise
        self._started = True
        log.info("Slack front end running: %s", self.mode)

    async def stop(self) -> None:
        """Close Socket Mode, stop the drainer; what is still in the inbox waits for a worker."""
        self._started = False
        await self.edits.close()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.gather(self._drainer, return_exceptions=True)
            self._drainer = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        await self._close_http()

    async def _close_http(self) -> None:
        if self._http is not None:
            self.client.session = None
            await self._http.close()
            self._http = None

    def ready(self) -> bool:
        """Say whether Slack can reach govbot now (Socket Mode: while the socket is connected)."""
        if not self._started:
            return False
        if self.mode is not Mode.SOCKET:
            return True
        client = self._socket.client if self._socket is not None else None
        session = getattr(client, "current_session", None)
        return (
            client is not None
            and not getattr(client, "closed", True)
            and not getattr(client, "stale", False)
            and session is not None
            and not session.closed
        )

    def gauges(self) -> dict[str, tuple[str, float]]:
        """Return this front end's gauges for /metrics: name -> (help, value)."""
        return {
            "govbot_slack_commands_in_flight": (
                "Slack commands running now (typed, pressed, submitted or from the inbox).",
                float(self._in_flight),
            ),
            "govbot_slack_inbox_pending": (
                "Slack commands acknowledged and not yet run to the end.",
                float(self._pending),
            ),
        }

    async def deliver(self, notice: Notice) -> None:
        """Send a later notice (a term ended, a chair rotated) to its channel or member."""
        team = notice.community.external_id
        client = await self._client_for(team)
        if client is None:
            metrics.record_error(PLATFORM, "no_installation")
            log.warning("no Slack installation for workspace %s; a notice was dropped", team)
            return
        language = await asyncio.to_thread(community_language, self.store, PLATFORM, team)
        await self._send(Conversation(client=client, language=language, team=team), [notice.reply])

    async def _client_for(self, team: str) -> AsyncWebClient | None:
        if self.mode is not Mode.OAUTH:
            return self.client
        token = await asyncio.to_thread(bot_token_for, self.store, team)
        return None if token is None else self.web_client(token)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ HTTP

    async def _events(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if timestamp and not timestamp.isdigit():
            # Bolt would fail on int(timestamp) with a 500; it is simply not a valid request.
            return web.Response(status=401, text="invalid request")
        body = await request.text()
        signature = request.headers.get("X-Slack-Signature", "")
        signed = (
            self._verifier is not None
            and bool(timestamp and signature)
            and self._verifier.is_valid(body, timestamp, signature)
        )
        if signed and _malformed(body, request.content_type):
            log.warning("a signed Slack request had a body of no known shape; refused")
            return web.Response(status=400, text="malformed request")
        bolt_request = await to_bolt_request(request)
        # The ack budget runs from the request's arrival, not from when a listener starts.
        bolt_request.context[ARRIVED] = arrived
        response = await self.app.async_dispatch(bolt_request)
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
        started = _arrival(context)
        # Slack escapes &, < and > in what was typed; the core keeps text as the user meant it.
        text = render.unescape(str(body.get("text") or ""))

        job = _text_job("command", body, text)
        outcome = await self._attempt(context, body, body.get("channel_id"), job, started)
        if outcome.busy or outcome.received:
            await ack(**_ephemeral(self._standing(outcome)))
            return
        if outcome.job is None or outcome.replies is None:
            await ack()
            return
        replies = self._with_notes(outcome)
        conversation = self._conversation(context.client, outcome.job, outcome.language)
        first = next((r for r in replies if self._fits_ack(r, outcome.job.caller)), None)
        if first is None:
            await ack()
        else:
            # The private answer rides on the ack itself: one round trip, and it cannot be lost.
            await ack(**_ephemeral(render.message(first, outcome.language)))
            replies = [r for r in replies if r is not first]
        await self._send(conversation, replies)

    async def _on_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        await self._on_press(ack, body, str(action.get("value") or ""), context)

    async def _on_select(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        command = render.select_command(str(action.get("block_id") or ""))
        values = render.picked_values(action)
        if command is None or not values:
            await ack()  # a menu emptied again, or not one of govbot's: nothing to run
            return
        await self._on_press(ack, body, picked(command, values), context)

    async def _on_press(
        self, ack: AsyncAck, body: dict[str, Any], text: str, context: AsyncBoltContext
    ) -> None:
        """Run the command a button or a menu pick stands for, as whoever pressed or picked."""
        started = _arrival(context)
        job = _text_job("action", body, text)
        outcome = await self._attempt(context, body, context.channel_id, job, started)
        # Slack shows nothing of a button's ack: every answer goes through the response_url.
        await ack()
        if outcome.busy or outcome.received:
            key = "slack.busy" if outcome.busy else "slack.received"
            conversation = Conversation(
                client=context.client,
                language=outcome.language,
                team=context.team_id or context.enterprise_id,
                user_id=context.user_id,
                channel_id=context.channel_id,
                response_url=body.get("response_url"),
            )
            await self._send(conversation, [Reply(translate(outcome.language, key))])
            return
        if outcome.job is None or outcome.replies is None:
            return
        conversation = self._conversation(context.client, outcome.job, outcome.language)
        await self._send(conversation, self._with_notes(outcome))

    async def _on_form(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        # The answer to a submission is the ack itself (errors shown in the modal), so the
        # command runs first, within the budget; past it the modal closes and the inbox
        # finishes the work.
        started = _arrival(context)
        metadata = _metadata(view)
        typed = render.form_values(view.get("state", {}).get("values", {}))
        # The form's command text may preset values (`vote cast 7 -1`): the fields go on top.
        invocation = submission(metadata.get("command", ""), typed)
        if invocation is None:
            log.warning("a modal named no known command: %r", metadata.get("command"))
            await ack()
            return
        command, raw = invocation.command, invocation.raw
        trigger = body.get("trigger_id")
        key = f"slack:view:{trigger}" if trigger else f"slack:view:{view['id']}:{view['hash']}"

        def job(caller: Caller) -> Job:
            return Job(key, "form", caller, command=command.name, raw=raw)

        outcome = await self._attempt(context, body, metadata.get("channel") or None, job, started)
        inputs = [block.get("block_id") for block in view.get("blocks", [])]
        if outcome.busy and inputs and inputs[0]:
            # Keep the modal open with what was typed, so that a second try is one click.
            await ack(response_action="errors", errors={inputs[0]: self._standing(outcome)["text"]})
            return
        if outcome.job is None or outcome.replies is None:
            await ack()
            return
        replies = self._with_notes(outcome)
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
        await self._send(self._conversation(context.client, outcome.job, outcome.language), replies)

    async def _on_home(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("tab") != "home":
            return
        found = await self._caller(context, body, None)
        if found is None:
            return
        caller = found[0]
        key = f"slack:event:{body['event_id']}" if body.get("event_id") else None
        started = time.perf_counter()
        replies = await self._in_thread(
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
        except API_FAILURES as error:
            api_failed("views.publish", error)

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        # One workspace keeps its token in the settings: nothing stored to forget, but the
        # event is acked so that Slack does not retry it.
        log.info(
            "Slack: %s in workspace %s", body.get("event", {}).get("type"), body.get("team_id")
        )

    # ------------------------------------------------------------------ running commands

    async def _attempt(
        self,
        context: AsyncBoltContext,
        body: dict[str, Any],
        channel: str | None,
        make_job: Callable[[Caller], Job],
        started: float,
    ) -> Outcome:
        """Run a command within the ack budget, else put it in the inbox; refuse past the bound."""
        team = context.team_id or context.enterprise_id or ""
        language = self._languages.get(team, DEFAULT_LANGUAGE)
        if self._in_flight >= self.max_in_flight:
            metrics.record_error(PLATFORM, "busy")
            log.warning("Slack: %d commands in flight; one was turned away", self._in_flight)
            return Outcome(None, language=language, busy=True)
        self._in_flight += 1
        try:
            found = await self._caller(context, body, channel)
        except BaseException:
            self._release()
            raise
        if found is None:
            self._release()
            return Outcome(None, language=language)
        job = make_job(found[0])
        job.unsure = found[1]
        task = asyncio.ensure_future(self._execute(job))
        task.add_done_callback(lambda _: self._release())
        left = self.ack_budget - (time.monotonic() - started)
        done, _ = await asyncio.wait({task}, timeout=max(left, 0.0))
        if task in done:
            replies, language = task.result()
            self._languages[team] = language
            return Outcome(job, replies, language)
        queued = False
        if job.key is not None:
            # Written before the ack: from here on, a restart cannot lose it.
            queued = await asyncio.to_thread(
                inbox.enqueue,
                self.store,
                PLATFORM,
                job.key,
                job.to_json(),
                _now(),
                self.inbox_lease,
            )
            self._pending += 1 if queued else 0
        self._spawn(self._finish_late(task, job, queued))
        return Outcome(job, language=language, received=True)

    def _release(self) -> None:
        self._in_flight -= 1
        if self._pending:
            # A free slot and rows waiting: the drainer may take the next one. (Rows that
            # another worker left behind are found by its regular pass; waking it after every
            # command would cost a write transaction each, for an inbox that is mostly empty.)
            self._wake.set()

    async def _finish_late(
        self, task: asyncio.Future[tuple[list[Reply], str]], job: Job, queued: bool
    ) -> None:
        """Answer a command that outran the budget once it ends, and close its inbox row."""
        replies, language = await task
        client = await self._client_for(job.caller.community_id)
        if client is not None and replies:
            await self._send(self._conversation(client, job, language), replies)
        if queued and job.key is not None:
            await asyncio.to_thread(inbox.mark_done, self.store, job.key)
            self._pending = max(self._pending - 1, 0)

    async def _execute(self, job: Job) -> tuple[list[Reply], str]:
        """Run a job on the command threads; any failure becomes the usual private error."""
        loop = asyncio.get_running_loop()
        executor = self._executor
        try:
            return await loop.run_in_executor(executor, self._work, job)
        except Exception:
            reference = uuid.uuid4().hex[:8]
            metrics.record_error(PLATFORM, "command")
            log.exception("Slack command failed (ref %s)", reference)
            text = translate(DEFAULT_LANGUAGE, "error.internal", ref=reference)
            reply = Reply(text, Visibility.PRIVATE, recipient=job.caller.user_id, error=True)
            return [reply], DEFAULT_LANGUAGE

    def _work(self, job: Job) -> tuple[list[Reply], str]:
        now = _now()
        if job.kind == "form":
            command = commands.named(job.command)
            assert command is not None
            replies = commands.run_values(
                self.store, job.caller, command, job.raw, now, delivery_key=job.key
            )
        else:
            replies = commands.run_text(self.store, job.caller, job.text, now, delivery_key=job.key)
        return replies, language_of(replies, self.store, PLATFORM, job.caller.community_id)

    async def _in_thread(self, work: Callable[[], list[Reply]]) -> list[Reply]:
        """Run a use case in a worker thread, never on the event loop."""
        try:
            return await asyncio.to_thread(work)
        except Exception:
            metrics.record_error(PLATFORM, "command")
            raise

    # ------------------------------------------------------------------ the inbox

    async def _drain_forever(self) -> None:
        while True:
            try:
                await self._drain()
                self._pending = await asyncio.to_thread(inbox.pending, self.store, PLATFORM)
            except Exception:
                log.exception("the Slack inbox could not be read; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.inbox_poll)
            self._wake.clear()

    async def _drain(self) -> None:
        """Take inbox rows nobody holds while there is room, and run each."""
        while self._in_flight < self.max_in_flight:
            item = await asyncio.to_thread(
                inbox.claim, self.store, PLATFORM, _now(), self.inbox_lease
            )
            if item is None:
                return
            self._in_flight += 1
            self._spawn(self._run_claimed(item))

    async def _run_claimed(self, item: inbox.InboxItem) -> None:
        try:
            try:
                job = Job.from_json(item.payload)
            except (ValueError, KeyError, TypeError):
                log.error("inbox row %s cannot be read; dropped", item.key)
                job = None
            if job is None or item.attempts > INBOX_MAX_ATTEMPTS:
                if job is not None:
                    log.error("inbox row %s failed %d times; dropped", item.key, item.attempts)
                await asyncio.to_thread(inbox.mark_done, self.store, item.key)
                return
            replies, language = await self._execute(job)
            client = await self._client_for(job.caller.community_id)
            if client is not None and replies:
                await self._send(self._conversation(client, job, language), replies)
            await asyncio.to_thread(inbox.mark_done, self.store, item.key)
            self._pending = max(self._pending - 1, 0)
        finally:
            self._release()

    # ------------------------------------------------------------------ callers and answers

    async def _caller(
        self, context: AsyncBoltContext, body: dict[str, Any], channel: str | None
    ) -> tuple[Caller, bool] | None:
        """Say who acts and whether Slack left their admin right unsure (None: nobody named)."""
        team = context.team_id or context.enterprise_id or ""
        user = context.user_id or ""
        if not team or not user:
            log.warning("a Slack request named no workspace or user; ignored")
            return None
        person = await self.roles.lookup(context.client, team, user)
        caller = Caller(
            platform=PLATFORM,
            community_id=team,
            user_id=user,
            display_name=person.name or _payload_name(body) or user,
            is_admin=person.is_admin,
            channel=channel,
            member_count=self.members.count(context.client, team, self._spawn),
        )
        return caller, person.unsure

    def _standing(self, outcome: Outcome) -> dict[str, Any]:
        """Render "busy, try again" or "received, working on it" for the caller."""
        key = "slack.busy" if outcome.busy else "slack.received"
        return render.message(Reply(translate(outcome.language, key)), outcome.language)

    def _with_notes(self, outcome: Outcome) -> list[Reply]:
        """Add, to a refusal, that Slack could not say in time whether the caller is an admin."""
        replies = list(outcome.replies or [])
        job = outcome.job
        if job is not None and job.unsure and any(reply.error for reply in replies):
            note = translate(outcome.language, "slack.admin_unknown")
            replies.append(Reply(note, Visibility.PRIVATE, recipient=job.caller.user_id))
        return replies

    @staticmethod
    def _fits_ack(reply: Reply, caller: Caller) -> bool:
        """Say whether a reply is the caller's private answer, which the ack can carry."""
        return (
            reply.visibility is Visibility.PRIVATE
            and reply.form is None
            and reply.recipient in (None, caller.user_id)
        )

    def _conversation(self, client: AsyncWebClient, job: Job, language: str) -> Conversation:
        return Conversation(
            client=client,
            language=language,
            team=job.caller.community_id,
            user_id=job.caller.user_id,
            channel_id=job.caller.channel,
            response_url=job.response_url,
            trigger_id=job.trigger_id,
        )

    # ------------------------------------------------------------------ sending replies

    async def _send(self, conversation: Conversation, replies: list[Reply]) -> None:
        for reply in replies:
            try:
                await self._send_one(conversation, reply)
            except API_FAILURES as error:
                api_failed("send", error)
            except Exception:
                metrics.record_error(PLATFORM, "send")
                log.exception("could not send a reply to Slack")

    async def _send_one(self, conversation: Conversation, reply: Reply) -> None:
        if reply.updates is not None:
            if conversation.team:
                # Edited in the background: a slow or failing edit never holds the answer up.
                content = render.message(reply, conversation.language)
                self.edits.submit(conversation.team, reply.updates, content, reply.revision)
            return
        if reply.form is not None:
            if await self._open_form(conversation, reply.form):
                return
            # No modal now (the trigger is spent or gone): a button asks for the form again.
            again = Button(reply.form.title, reply.form.command, "secondary")
            reply = replace(reply, buttons=[*reply.buttons, again])
        content = render.message(reply, conversation.language)
        target = reply.recipient
        if reply.visibility is Visibility.PUBLIC:
            ts = await self._post(conversation.client, target, content) if target else None
            if target and ts is not None:
                await self._remember(conversation.team, reply, target, ts)
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

    async def _post(
        self, client: AsyncWebClient, channel: str, content: dict[str, Any]
    ) -> str | None:
        """Post a public message; return its `ts`, or None when it was not posted."""
        try:
            response = await client.chat_postMessage(
                channel=channel, text=content["text"], blocks=content.get("blocks")
            )
        except API_FAILURES as error:
            api_failed("chat.postMessage", error)
            return None
        return str(response.get("ts") or "")

    # ------------------------------------------------------------------ messages edited in place

    async def _remember(self, team: str | None, reply: Reply, channel: str, ts: str) -> None:
        """Note where a keyed public message went, so that later updates can edit it."""
        if reply.key is None or not team or not ts:
            return
        try:
            await asyncio.to_thread(
                messages.remember, self.store, PLATFORM, team, reply.key, channel, ts
            )
        except Exception:
            # The post is out; only its later edits are lost, so the answer goes on.
            metrics.record_error(PLATFORM, "remember")
            log.exception("could not record the message posted under %s", reply.key)

    async def _find_posted(self, team: str, key: str) -> tuple[str, str] | None:
        return await asyncio.to_thread(messages.find, self.store, PLATFORM, team, key)

    async def _edit(self, team: str, channel: str, ts: str, content: dict[str, Any]) -> None:
        client = await self._client_for(team)
        if client is None:
            log.warning("no Slack installation for workspace %s; an edit was dropped", team)
            return
        # Blocks are always sent: an update without controls must remove the old ones.
        await client.chat_update(
            channel=channel, ts=ts, text=content["text"], blocks=content.get("blocks") or []
        )

    async def _ephemeral(self, conversation: Conversation, content: dict[str, Any]) -> bool:
        if conversation.response_url:
            webhook = AsyncWebhookClient(conversation.response_url, session=self._http)
            response = await webhook.send_dict(
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
            except API_FAILURES as error:
                # Not in that channel, say: a direct message still reaches the member.
                api_failed("chat.postEphemeral", error)
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
        target = form_target(form.command)
        view = render.modal(
            form,
            target.command if target is not None else None,
            {"command": form.command, "channel": conversation.channel_id or ""},
            translate(conversation.language, "slack.form_cancel"),
        )
        try:
            await conversation.client.views_open(trigger_id=conversation.trigger_id, view=view)
        except API_FAILURES as error:
            # The trigger expired or was used: the reply's text says how to do it by text.
            api_failed("views.open", error)
            return False
        conversation.trigger_id = None  # a trigger opens one modal only
        return True


def _metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        decoded = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in decoded.items()} if isinstance(decoded, dict) else {}


def _key(kind: str, body: dict[str, Any]) -> str | None:
    """Name one user action for idempotency: Slack sends its trigger id again on redelivery."""
    trigger = body.get("trigger_id")
    return f"slack:{kind}:{trigger}" if trigger else None


def _malformed(body: str, content_type: str) -> bool:
    """Say whether a request body has none of the shapes Slack sends (or names nobody)."""
    try:
        if content_type == "application/json":
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("type"), str):
                return True
            if data["type"] == "event_callback":
                event = data.get("event")
                return not (data.get("team_id") and isinstance(event, dict) and event.get("type"))
            return False
        form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if "payload" in form:
            payload = json.loads(form["payload"])
            if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
                return True
            user = payload.get("user")
            team = payload.get("team")
            team_id = (team.get("id") if isinstance(team, dict) else None) or (
                user.get("team_id") if isinstance(user, dict) else None
            )
            user_id = user.get("id") if isinstance(user, dict) else None
            return not (team_id and user_id)
        if "command" in form:
            return not (form.get("team_id") and form.get("user_id"))
        return "ssl_check" not in form
    except (ValueError, AttributeError):
        return True


def _arrival(context: AsyncBoltContext) -> float:
    """Return when the request arrived (over HTTP), or now (Socket Mode)."""
    arrived = context.get(ARRIVED)
    return float(arrived) if isinstance(arrived, float) else time.monotonic()


def _text_job(kind: str, body: dict[str, Any], text: str) -> Callable[[Caller], Job]:
    """Describe a typed command or a pressed button, for whichever caller it turns out to be."""

    def job(caller: Caller) -> Job:
        return Job(
            _key(kind, body),
            kind,
            caller,
            text=text,
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
        )

    return job
