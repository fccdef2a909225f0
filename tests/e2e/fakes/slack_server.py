"""A local fake of Slack: Web API, response URLs and Socket Mode, plus a signed-request client.

The fake runs on 127.0.0.1 with aiohttp and is driven by the real slack_sdk / slack-bolt
clients.  It records every call so that tests can assert on what users would see, and it
enforces the platform rules that catch real bugs: token checks, single-use trigger ids
that expire, message lookups for ``chat.update``, view hashes, Block Kit limits on buttons
and select menus, ``users.list`` pagination, rate limits (HTTP 429). ``hold`` keeps calls of
a method waiting until released, so tests can make "an edit is in flight" exact.

Typical use::

    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        bolt = AsyncApp(client=client, signing_secret=SECRET)
        # web_app: an aiohttp Application routing POST /slack/events to bolt.async_dispatch
        async with running_web_app(web_app) as base_url:
            async with SignedRequestClient(f"{base_url}/slack/events", SECRET) as slack:
                payload = fake.payloads.slash_command("help")
                reply = await slack.send_slash_command(payload)
                await fake.wait_for_response(payload["response_url"])
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import itertools
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

from aiohttp import ClientSession, WSCloseCode, WSMsgType, web

JsonDict = dict[str, Any]
SigningMode = Literal["valid", "forged", "stale", "missing"]
# What a proxy in front of Slack answers when things go wrong: no JSON at all.
Breakage = Literal["html_502", "text_500"]

_T = TypeVar("_T")

DEFAULT_TEAM_ID = "T0GOVBOT"
DEFAULT_USER_ID = "U0MEMBER"
DEFAULT_CHANNEL_ID = "C0GENERAL"
DEFAULT_CHANNEL_NAME = "general"

# Slack refuses signatures whose timestamp is more than five minutes away from now.
STALE_AFTER_SECONDS = 5 * 60
# Slack lets an app use one response_url up to five times.
RESPONSE_URL_MAX_USES = 5
# users.list: the most members one page may hold.
USERS_PAGE_MAX = 1000
# Block Kit limits the fake checks.
BLOCK_ID_LIMIT = 255
ACTION_ELEMENTS = 25
SELECT_OPTIONS = 100
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
BUTTON_VALUE_LIMIT = 2000
SLACKBOT_ID = "USLACKBOT"

_NO_TOKEN_METHODS = frozenset({"api.test", "oauth.v2.access", "oauth.access", "oauth.v2.exchange"})


class SlackApiFailure(Exception):
    """Answer a Web API call with ``{"ok": false, "error": code}``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class FakeInstallation:
    """Describe one workspace the app is installed in and the bot token it holds."""

    team_id: str
    team_name: str
    team_domain: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    scopes: tuple[str, ...]
    installer_user_id: str | None = None


@dataclass(frozen=True)
class ApiCall:
    """Record one Web API request as the fake received it and what it answered."""

    method: str
    http_method: str
    query: dict[str, str]
    form: dict[str, str]
    json: JsonDict | None
    headers: dict[str, str]  # lower-cased names
    status: int
    response: JsonDict
    received_at: float

    @property
    def args(self) -> JsonDict:
        """Return query, form and JSON arguments merged (JSON wins)."""
        merged: JsonDict = {**self.query, **self.form}
        if self.json:
            merged.update(self.json)
        return merged

    @property
    def token(self) -> str | None:
        """Return the bearer token, or the ``token`` argument when no header was sent."""
        return _bearer_token(self.headers.get("authorization")) or _as_str(self.args.get("token"))

    @property
    def ok(self) -> bool:
        """Tell whether the fake answered this call with success."""
        return self.status == 200 and self.response.get("ok") is True

    def arg(self, name: str) -> Any:
        """Return one argument, decoding JSON strings that form-encoded bodies carry."""
        return _decode_json_arg(self.args.get(name))


@dataclass(frozen=True)
class ResponseUrlPost:
    """Record one POST the app made to a response_url."""

    response_id: str
    url: str
    body: JsonDict
    headers: dict[str, str]
    status: int
    received_at: float


@dataclass(frozen=True)
class SocketAck:
    """Record one envelope acknowledgement the Socket Mode client sent back."""

    envelope_id: str
    payload: JsonDict | None
    raw: JsonDict


@dataclass(frozen=True)
class AppReply:
    """Hold the app's HTTP answer to one signed request."""

    status: int
    text: str
    headers: dict[str, str]  # lower-cased names

    def json(self) -> Any:
        """Decode the body as JSON."""
        return json.loads(self.text)


@dataclass
class _Trigger:
    issued_at: float
    exchanged: bool = False
    expired: bool = False


@dataclass
class _ResponseUrl:
    uses: int = 0


@dataclass
class _Injected:
    remaining: int
    error: str = ""
    retry_after: int = 1


@dataclass
class HeldMethod:
    """Calls of one Web API method wait until ``release()``: a slow Slack, made exact."""

    method: str
    released: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: int = 0  # calls that reached the method while it was held

    def release(self) -> None:
        """Let the waiting calls, and every later one, through."""
        self.released.set()


@dataclass
class _Fault:
    remaining: int
    breakage: Breakage | None = None
    delay: float = 0.0


_BROKEN_BODIES: dict[str, tuple[int, str, str]] = {
    "html_502": (
        502,
        "text/html",
        "<html><head><title>502 Bad Gateway</title></head>"
        "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
    ),
    "text_500": (500, "text/plain", "upstream connect error or disconnect/reset before headers"),
}


@dataclass
class _Socket:
    ws: web.WebSocketResponse
    connected_at: float
    frames: list[str] = field(default_factory=list)


def slack_signature(signing_secret: str, timestamp: str, body: str) -> str:
    """Compute Slack's v0 request signature for a body sent at a timestamp."""
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


@asynccontextmanager
async def running_web_app(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve an aiohttp application on a free local port and yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = int(sock.getsockname()[1])
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
        sock.close()


class FakeSlack:
    """Serve a fake Slack Web API, response URLs and Socket Mode on 127.0.0.1."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-govbot-test-token",
        app_token: str = "xapp-1-govbot-test-token",
        team_id: str = DEFAULT_TEAM_ID,
        team_name: str = "Govbot Test",
        team_domain: str = "govbot-test",
        app_id: str = "A0GOVBOT",
        bot_user_id: str = "U0GOVBOT",
        bot_id: str = "B0GOVBOT",
        client_id: str = "1111.2222",
        client_secret: str = "fake-client-secret",
        verification_token: str = "fake-verification-token",
        scopes: tuple[str, ...] = ("commands", "chat:write", "users:read", "im:write"),
        trigger_ttl: float | None = 3.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.app_token = app_token
        self.app_id = app_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.verification_token = verification_token
        self.trigger_ttl = trigger_ttl
        self.host = host
        self.installation = FakeInstallation(
            team_id=team_id,
            team_name=team_name,
            team_domain=team_domain,
            bot_token=bot_token,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            scopes=scopes,
        )
        self.installations: dict[str, FakeInstallation] = {bot_token: self.installation}
        self.users: dict[str, JsonDict] = {}
        self.messages: list[JsonDict] = []
        self.views: dict[str, JsonDict] = {}
        self.home_tabs: dict[str, JsonDict] = {}
        self.calls: list[ApiCall] = []
        self.responses: list[ResponseUrlPost] = []
        self.acks: list[SocketAck] = []
        self.socket_connection_count = 0
        self.payloads = PayloadFactory(self)

        self._counter = itertools.count(1)
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._oauth_codes: dict[str, FakeInstallation] = {}
        self._dm_channels: dict[tuple[str, ...], str] = {}
        self._rate_limits: dict[str, _Injected] = {}
        self._failures: dict[str, _Injected] = {}
        self._faults: dict[str, _Fault] = {}
        self.holds: dict[str, HeldMethod] = {}
        self._socket_tickets: set[str] = set()
        self._sockets: list[_Socket] = []
        self._changed: asyncio.Condition | None = None
        self._base_url: str | None = None
        self._serving: AsyncExitStack | None = None
        self.add_user(DEFAULT_USER_ID, name="member")

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start serving on a free port."""
        if self._serving is not None:
            raise RuntimeError("FakeSlack is already running")
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        serving = AsyncExitStack()
        self._base_url = await serving.enter_async_context(running_web_app(app, self.host))
        self._serving = serving

    async def stop(self) -> None:
        """Close Socket Mode connections and stop serving."""
        serving, self._serving = self._serving, None
        if serving is None:
            return
        for held in self.holds.values():
            held.release()
        for sock in list(self._sockets):
            await sock.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        await serving.aclose()

    @property
    def base_url(self) -> str:
        """Return ``http://127.0.0.1:PORT`` of the running fake."""
        if self._base_url is None:
            raise RuntimeError("FakeSlack is not running; use `async with FakeSlack() as fake`")
        return self._base_url

    @property
    def api_url(self) -> str:
        """Return the Web API base URL to give ``AsyncWebClient(base_url=...)``."""
        return f"{self.base_url}/api/"

    @property
    def bot_token(self) -> str:
        """Return the bot token of the default installation."""
        return self.installation.bot_token

    @property
    def team_id(self) -> str:
        """Return the default workspace id."""
        return self.installation.team_id

    @property
    def bot_user_id(self) -> str:
        """Return the bot's user id in the default workspace."""
        return self.installation.bot_user_id

    # ------------------------------------------------------------ world set-up

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        team_id: str | None = None,
        tz: str = "UTC",
    ) -> JsonDict:
        """Register a workspace member that ``users.info`` will report; return its object."""
        display = name or user_id.lower()
        user: JsonDict = {
            "id": user_id,
            "team_id": team_id or self.team_id,
            "name": display,
            "real_name": display.title(),
            "deleted": deleted,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": is_primary_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "tz": tz,
            "profile": {"display_name": display, "real_name": display.title()},
        }
        self.users[user_id] = user
        return user

    def dm_channel(self, *user_ids: str) -> str:
        """Return the id of the conversation between the bot and these users."""
        key = tuple(sorted(user_ids))
        if key not in self._dm_channels:
            prefix = "D" if len(key) == 1 else "G"
            self._dm_channels[key] = self.unique_id(prefix)
        return self._dm_channels[key]

    def unique_id(self, prefix: str) -> str:
        """Return a fresh Slack-style id such as ``V00000012`` for a prefix."""
        return f"{prefix}{next(self._counter):08d}"

    def next_ts(self) -> str:
        """Return a fresh, increasing Slack message timestamp."""
        return f"{int(time.time())}.{next(self._counter):06d}"

    def seed_message(
        self,
        channel: str = DEFAULT_CHANNEL_ID,
        text: str = "",
        *,
        blocks: list[JsonDict] | None = None,
        user: str | None = None,
        thread_ts: str | None = None,
    ) -> JsonDict:
        """Store a message as if already posted (by the bot unless ``user`` is given)."""
        message: JsonDict = {
            "type": "message",
            "channel": channel,
            "ts": self.next_ts(),
            "text": text,
            "user": user or self.bot_user_id,
        }
        if user is None:
            message["bot_id"] = self.installation.bot_id
        if blocks is not None:
            message["blocks"] = blocks
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        self.messages.append(message)
        return message

    def messages_in(self, channel: str) -> list[JsonDict]:
        """Return the stored messages of one channel, oldest first."""
        return [m for m in self.messages if m["channel"] == channel]

    def new_response_url(self) -> str:
        """Issue a response_url that records what the app posts to it."""
        response_id = uuid.uuid4().hex
        self._response_urls[response_id] = _ResponseUrl()
        return f"{self.base_url}/response/{response_id}"

    def issue_trigger_id(self) -> str:
        """Issue a trigger id that ``views.open``/``views.push`` accept once, within the TTL."""
        trigger_id = f"{next(self._counter)}.{self.team_id}.{uuid.uuid4().hex[:16]}"
        self._triggers[trigger_id] = _Trigger(issued_at=time.monotonic())
        return trigger_id

    def expire_trigger_id(self, trigger_id: str) -> None:
        """Make a trigger id expired, as if more than its TTL had passed."""
        self._triggers[trigger_id].expired = True

    def issue_oauth_code(
        self,
        *,
        team_id: str | None = None,
        team_name: str | None = None,
        installer_user_id: str = DEFAULT_USER_ID,
    ) -> str:
        """Issue a one-time OAuth code that ``oauth.v2.access`` exchanges for a new bot token."""
        code = uuid.uuid4().hex
        team = team_id or self.team_id
        n = next(self._counter)
        self._oauth_codes[code] = FakeInstallation(
            team_id=team,
            team_name=team_name or (self.installation.team_name if team == self.team_id else team),
            team_domain=team.lower(),
            bot_token=f"xoxb-{team}-{uuid.uuid4().hex[:24]}",
            bot_user_id=self.bot_user_id if team == self.team_id else f"U0BOT{n:04d}",
            bot_id=self.installation.bot_id if team == self.team_id else f"B0BOT{n:04d}",
            scopes=self.installation.scopes,
            installer_user_id=installer_user_id,
        )
        return code

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 429 and ``Retry-After``."""
        self._rate_limits[method] = _Injected(remaining=times, retry_after=retry_after)

    def fail_next(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``{"ok": false, "error": error}``."""
        self._failures[method] = _Injected(remaining=times, error=error)

    def break_next(self, method: str, breakage: Breakage, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` as a broken proxy would (no JSON)."""
        self._faults[method] = _Fault(remaining=times, breakage=breakage)

    def hold(self, method: str) -> HeldMethod:
        """Keep every call of ``method`` waiting until the returned handle is released."""
        held = HeldMethod(method)
        self.holds[method] = held
        return held

    def slow_down(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` wait ``seconds`` before answering."""
        self._faults[method] = _Fault(remaining=times, delay=seconds)

    # ---------------------------------------------------------------- queries

    def calls_to(
        self, method: str, predicate: Callable[[ApiCall], bool] | None = None
    ) -> list[ApiCall]:
        """Return the recorded calls of one method, optionally filtered."""
        return [c for c in self.calls if c.method == method and (predicate is None or predicate(c))]

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline per wait reads best in tests
        since: int = 0,
    ) -> ApiCall:
        """Wait until a call of ``method`` (at index >= ``since``) matches; return it."""

        def find() -> ApiCall | None:
            for call in self.calls[since:]:
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            return None

        def describe() -> str:
            seen = [
                f"{c.method} -> {c.status} {c.response.get('error', '')}".strip()
                for c in self.calls
            ]
            return f"no matching {method} call within {timeout}s; calls seen: {seen}"

        return await self._wait(find, timeout, describe)

    async def wait_for_response(
        self,
        response_url: str | None = None,
        predicate: Callable[[ResponseUrlPost], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> ResponseUrlPost:
        """Wait until the app posts to ``response_url`` (any one if None); return the post."""

        def find() -> ResponseUrlPost | None:
            for post in self.responses:
                if response_url is not None and post.url != response_url:
                    continue
                if predicate is None or predicate(post):
                    return post
            return None

        def describe() -> str:
            bodies = [p.body for p in self.responses]
            return f"no matching post to {response_url or 'any response_url'}; posts: {bodies}"

        return await self._wait(find, timeout, describe)

    async def _wait(
        self,
        find: Callable[[], _T | None],
        timeout: float,  # noqa: ASYNC109
        describe: Callable[[], str],
    ) -> _T:
        changed = self._condition()

        async def until_found() -> _T:
            async with changed:
                found = find()
                while found is None:
                    await changed.wait()
                    found = find()
                return found

        try:
            return await asyncio.wait_for(until_found(), timeout)
        except TimeoutError:
            raise AssertionError(describe()) from None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            raise RuntimeError("FakeSlack is not running")
        return self._changed

    async def _notify(self) -> None:
        changed = self._condition()
        async with changed:
            changed.notify_all()

    # ------------------------------------------------------------- Web API

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        held = self.holds.get(method)
        if held is not None and not held.released.is_set():
            held.arrived += 1
            await self._notify()
            await held.released.wait()
        fault = self._take_fault(method)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.breakage is not None:
            status, content_type, text = _BROKEN_BODIES[fault.breakage]
            self.calls.append(
                ApiCall(
                    method=method,
                    http_method=request.method,
                    query=dict(request.query),
                    form={},
                    json=None,
                    headers={k.lower(): v for k, v in request.headers.items()},
                    status=status,
                    response={"ok": False, "error": f"<{fault.breakage}>"},
                    received_at=time.monotonic(),
                )
            )
            await self._notify()
            return web.Response(status=status, text=text, content_type=content_type)
        query = dict(request.query)
        form: dict[str, str] = {}
        body_json: JsonDict | None = None
        status, extra_headers = 200, {}
        response: JsonDict
        try:
            if request.method == "POST" and request.can_read_body:
                if request.content_type == "application/json":
                    raw = await request.text()
                    decoded = json.loads(raw) if raw.strip() else {}
                    if not isinstance(decoded, dict):
                        raise SlackApiFailure("invalid_json")
                    body_json = decoded
                else:
                    posted = await request.post()
                    form = {
                        k: v if isinstance(v, str) else f"<file {getattr(v, 'filename', '')}>"
                        for k, v in posted.items()
                    }
            args: JsonDict = {**query, **form, **(body_json or {})}
            headers = {k.lower(): v for k, v in request.headers.items()}
            limited = self._take(self._rate_limits, method)
            failed = None if limited else self._take(self._failures, method)
            if limited is not None:
                status = 429
                extra_headers = {"Retry-After": str(limited.retry_after)}
                response = {"ok": False, "error": "ratelimited"}
            elif failed is not None:
                response = {"ok": False, "error": failed.error}
            else:
                response, extra_headers = self._dispatch(method, args, headers)
        except json.JSONDecodeError:
            response = {"ok": False, "error": "invalid_json"}
        except SlackApiFailure as failure:
            response = {"ok": False, "error": failure.error}
        call = ApiCall(
            method=method,
            http_method=request.method,
            query=query,
            form=form,
            json=body_json,
            headers={k.lower(): v for k, v in request.headers.items()},
            status=status,
            response=response,
            received_at=time.monotonic(),
        )
        self.calls.append(call)
        await self._notify()
        return web.json_response(response, status=status, headers=extra_headers)

    def _take_fault(self, method: str) -> _Fault | None:
        fault = self._faults.get(method)
        if fault is None or fault.remaining <= 0:
            return None
        fault.remaining -= 1
        if fault.remaining == 0:
            del self._faults[method]
        return fault

    @staticmethod
    def _take(injected: dict[str, _Injected], method: str) -> _Injected | None:
        entry = injected.get(method)
        if entry is None or entry.remaining <= 0:
            return None
        entry.remaining -= 1
        if entry.remaining == 0:
            del injected[method]
        return entry

    def _dispatch(
        self, method: str, args: JsonDict, headers: Mapping[str, str]
    ) -> tuple[JsonDict, dict[str, str]]:
        token = _bearer_token(headers.get("authorization")) or _as_str(args.get("token"))
        if method == "apps.connections.open":
            return self._apps_connections_open(token), {}
        if method in _NO_TOKEN_METHODS:
            if method == "oauth.v2.access":
                return self._oauth_v2_access(args, headers), {}
            return {"ok": True}, {}
        handler = self._handlers().get(method)
        if handler is None:
            return {"ok": True}, {}
        installation = self._authenticate(token)
        response = handler(installation, args)
        extra = {"X-OAuth-Scopes": ",".join(installation.scopes)} if method == "auth.test" else {}
        return response, extra

    def _handlers(self) -> dict[str, Callable[[FakeInstallation, JsonDict], JsonDict]]:
        return {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "conversations.open": self._conversations_open,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }

    def _authenticate(self, token: str | None) -> FakeInstallation:
        if not token:
            raise SlackApiFailure("not_authed")
        if token.startswith("xapp-"):
            raise SlackApiFailure("not_allowed_token_type")
        installation = self.installations.get(token)
        if installation is None:
            raise SlackApiFailure("invalid_auth")
        return installation

    def _auth_test(self, inst: FakeInstallation, args: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "url": f"https://{inst.team_domain}.slack.com/",
            "team": inst.team_name,
            "user": "govbot",
            "team_id": inst.team_id,
            "user_id": inst.bot_user_id,
            "bot_id": inst.bot_id,
            "is_enterprise_install": False,
        }

    def _users_info(self, inst: FakeInstallation, args: JsonDict) -> JsonDict:
        user = self.users.get(_require(args, "user", "user_not_found"))
        if user is None:
            raise SlackApiFailure("user_not_found")
        return {"ok": True, "user": dict(user)}

    def _users_list(self, inst: FakeInstallation, args: JsonDict) -> JsonDict:
        # Slack lists the bot users and Slackbot among the members; apps must skip them.
        everyone = [
            *(dict(u) for u in self.users.values() if u["team_id"] == inst.team_id),
            {
                "id": SLACKBOT_ID,
                "team_id": inst.team_id,
                "name": "slackbot",
                "deleted": False,
                "is_bot": False,
                "is_app_user": False,
            },
            {
                "id": inst.bot_user_id,
                "team_id": inst.team_id,
                "name": "govbot",
                "deleted": False,
                "is_bot": True,
                "is_app_user": False,
            },
        ]
        limit = int(args.get("limit") or 0)
        size = min(limit, USERS_PAGE_MAX) if limit > 0 else USERS_PAGE_MAX
        start = 0
        cursor = _as_str(args.get("cursor"))
        if cursor:
            try:
                start = int(base64.b64decode(cursor).decode().removeprefix("offset:"))
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise SlackApiFailure("invalid_cursor") from None
        page = everyone[start : start + size]
        following = start + size
        next_cursor = (
            base64.b64encode(f"offset:{following}".encode()).decode()
            if following < len(everyone)
            else ""
        )
        return {
            "ok": True,
            "members": page,
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _chat_post_message(self, inst: FakeInstallation, args: JsonDict) -> JsonDict:
        channel = _require(args, "channel", "channel_not_found")
        message = self._new_message(inst, args, channel)
        self.messages.append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _chat_post_ephemeral(self, inst: FakeInstallation, args: JsonDict) -> JsonDict:
        channel = _require(args, "channel", "channel_not_found")
        _require(args, "user", "user_not_in_channel")
        message = self._new_message(inst, args, channel)
        return {"ok": True, "message_ts": message["ts"]}

    def _chat_update(self, inst: FakeInstallation, args: JsonDict) -> JsonDict:
        channel = _require(args, "channel", "channel_not_found")
        ts = _require(args, "ts", "message_not_found")
        for message in self.messages:
            if message["channel"] == channel and message["ts"] == ts:
                break
        else:
            raise SlackApiFailure("message_not_found")
        if message.get("bot_id") != inst.bot_id:
            raise SlackApiFailure("cant_update_message")
        update = self._new_message(inst, args, channel)
        for key in ("text", "blocks", "attachments"):
            if key in update:
                message[key] = update[key]
        message["edited"] = {"user": inst.bot_user_id, "ts": self.next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message.get("text", ""),
            "message": dict(message),
        }

    def _new_message(self, inst: FakeInstallation, args: JsonDict, channel: str) -> JsonDict:
        text = _as_str(args.get("text"))
        blocks = _decode_json_arg(args.get("blocks"))
        attachments = _decode_json_arg(args.get("attachments"))
        if not text and not blocks and not attachments:
            raise SlackApiFailure("no_text")
        if blocks:
            _check_blocks(blocks)
        message: JsonDict = {
            "type": "message",
            "channel": channel,
            "ts": self.next_ts(),
            "text": text or "",
            "user": inst.bot_user_id,
            "bot_id": inst.bot_id,
        }
        if blocks:
            message["blocks"] = blocks
        if attachments:
            message["attachments"] = attachments
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        return message

    def _conversations_open(self, inst: FakeInstallation, args: JsonDict) -> JsonDict:
        users = args.get("users")
        if isinstance(users, str):
            user_ids = [u.strip() for u in users.split(",") if u.strip()]
        elif isinstance(users, list):
            user_ids = [str(u) for u in users]
        else:
            user_ids = []
        if not user_ids:
            raise SlackApiFailure("users_list_not_supplied")
        for user_id in user_ids:
            if user_id not in self.users:
                raise SlackApiFailure("user_not_found")
        channel_id = self.dm_channel(*user_ids)
        return {"ok": True, "channel": {"id": channel_id}}

    def _views_open(self, inst: FakeInstallation, args: JsonDict) -> JsonDict:
        self._exchange_trigger(args)
        view = self._store_view(inst, self._view_arg(args))
        return {"ok": True, "view": view}

    def _views_push(self, inst: FakeInstallation, args: JsonDict) -> JsonDict:
        self._exchange_trigger(args)
        view = self._store_view(inst, self._view_arg(args))
        return {"ok": True, "view": view}

    def _views_update(self, inst: FakeInstallation, args: JsonDict) -> JsonDict:
        new_view = self._view_arg(args)
        view_id = _as_str(args.get("view_id"))
        external_id = _as_str(args.get("external_id"))
        current: JsonDict | None = None
        if view_id:
            current = self.views.get(view_id)
        elif external_id:
            current = next(
                (v for v in self.views.values() if v["external_id"] == external_id), None
            )
        if current is None:
            raise SlackApiFailure("not_found")
        expected_hash = _as_str(args.get("hash"))
        if expected_hash and expected_hash != current["hash"]:
            raise SlackApiFailure("hash_conflict")
        view = self._store_view(inst, new_view, replacing=current)
        return {"ok": True, "view": view}

    def _views_publish(self, inst: FakeInstallation, args: JsonDict) -> JsonDict:
        user_id = _require(args, "user_id", "invalid_arguments")
        new_view = self._view_arg(args)
        if new_view.get("type") != "home":
            raise SlackApiFailure("invalid_arguments")
        current = self.home_tabs.get(user_id)
        expected_hash = _as_str(args.get("hash"))
        if current is not None and expected_hash and expected_hash != current["hash"]:
            raise SlackApiFailure("hash_conflict")
        view = self._store_view(inst, new_view, replacing=current)
        self.home_tabs[user_id] = view
        return {"ok": True, "view": view}

    def _exchange_trigger(self, args: JsonDict) -> None:
        trigger_id = _as_str(args.get("trigger_id"))
        if not trigger_id:
            raise SlackApiFailure("invalid_arguments")
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise SlackApiFailure("invalid_trigger_id")
        if trigger.exchanged:
            raise SlackApiFailure("exchanged_trigger_id")
        age = time.monotonic() - trigger.issued_at
        if trigger.expired or (self.trigger_ttl is not None and age > self.trigger_ttl):
            raise SlackApiFailure("expired_trigger_id")
        trigger.exchanged = True

    @staticmethod
    def _view_arg(args: JsonDict) -> JsonDict:
        view = _decode_json_arg(args.get("view"))
        if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
            raise SlackApiFailure("invalid_arguments")
        if not isinstance(view.get("blocks"), list):
            raise SlackApiFailure("invalid_arguments")
        if view["type"] == "modal" and not view.get("title"):
            raise SlackApiFailure("invalid_arguments")
        return view

    def _store_view(
        self, inst: FakeInstallation, view_in: JsonDict, replacing: JsonDict | None = None
    ) -> JsonDict:
        view_id = replacing["id"] if replacing else self.unique_id("V")
        view: JsonDict = {
            "id": view_id,
            "team_id": inst.team_id,
            "type": view_in["type"],
            "blocks": view_in["blocks"],
            "private_metadata": view_in.get("private_metadata", ""),
            "callback_id": view_in.get("callback_id", ""),
            "external_id": view_in.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "clear_on_close": bool(view_in.get("clear_on_close", False)),
            "notify_on_close": bool(view_in.get("notify_on_close", False)),
            "root_view_id": replacing["root_view_id"] if replacing else view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "bot_id": inst.bot_id,
        }
        for key in ("title", "submit", "close"):
            if key in view_in:
                view[key] = view_in[key]
        self.views[view_id] = view
        return view

    def _apps_connections_open(self, token: str | None) -> JsonDict:
        if not token:
            raise SlackApiFailure("not_authed")
        if token != self.app_token:
            raise SlackApiFailure(
                "not_allowed_token_type" if token.startswith("xox") else "invalid_auth"
            )
        ticket = uuid.uuid4().hex
        self._socket_tickets.add(ticket)
        ws_base = self.base_url.replace("http://", "ws://", 1)
        query = urlencode({"ticket": ticket, "app_id": self.app_id})
        return {"ok": True, "url": f"{ws_base}/socket?{query}"}

    def _oauth_v2_access(self, args: JsonDict, headers: Mapping[str, str]) -> JsonDict:
        client_id, client_secret = _basic_auth(headers.get("authorization"))
        client_id = client_id or _as_str(args.get("client_id"))
        client_secret = client_secret or _as_str(args.get("client_secret"))
        if client_id != self.client_id:
            raise SlackApiFailure("invalid_client_id")
        if client_secret != self.client_secret:
            raise SlackApiFailure("bad_client_secret")
        code = _as_str(args.get("code"))
        inst = self._oauth_codes.pop(code or "", None)
        if inst is None:
            raise SlackApiFailure("invalid_code")
        self.installations[inst.bot_token] = inst
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": inst.installer_user_id},
            "scope": ",".join(inst.scopes),
            "token_type": "bot",
            "access_token": inst.bot_token,
            "bot_user_id": inst.bot_user_id,
            "team": {"id": inst.team_id, "name": inst.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # ------------------------------------------------------------ response_url

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        response_id = request.match_info["response_id"]
        raw = await request.text()
        if request.content_type == "application/json":
            body: JsonDict = json.loads(raw) if raw.strip() else {}
        else:
            body = dict(await request.post()) if raw else {}
            body = {k: v for k, v in body.items() if isinstance(v, str)}
            if isinstance(body.get("payload"), str):
                body = json.loads(body["payload"])
        entry = self._response_urls.get(response_id)
        if entry is None:
            status, answer = 404, "no_service"
        elif entry.uses >= RESPONSE_URL_MAX_USES:
            status, answer = 404, "used_url"
        else:
            entry.uses += 1
            status, answer = 200, "ok"
        self.responses.append(
            ResponseUrlPost(
                response_id=response_id,
                url=f"{self.base_url}/response/{response_id}",
                body=body,
                headers={k.lower(): v for k, v in request.headers.items()},
                status=status,
                received_at=time.monotonic(),
            )
        )
        await self._notify()
        return web.Response(status=status, text=answer)

    # ------------------------------------------------------------- Socket Mode

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._socket_tickets:
            raise web.HTTPUnauthorized(text="invalid or used ticket")
        self._socket_tickets.discard(ticket)
        # autoping answers the "sdk-ping-pong:<t>" pings that slack_sdk uses as a heartbeat.
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        sock = _Socket(ws=ws, connected_at=time.monotonic())
        self._sockets.append(sock)
        self.socket_connection_count += 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {
                    "host": "applink-fake",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        )
        await self._notify()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                sock.frames.append(msg.data)
                try:
                    frame = json.loads(msg.data)
                except json.JSONDecodeError:
                    continue
                if isinstance(frame, dict) and "envelope_id" in frame:
                    payload = frame.get("payload")
                    self.acks.append(
                        SocketAck(
                            envelope_id=str(frame["envelope_id"]),
                            payload=payload if isinstance(payload, dict) else None,
                            raw=frame,
                        )
                    )
                    await self._notify()
        finally:
            self._sockets.remove(sock)
            await self._notify()
        return ws

    @property
    def open_socket_count(self) -> int:
        """Return how many Socket Mode connections are open now."""
        return sum(1 for s in self._sockets if not s.ws.closed)

    async def wait_for_socket_connection(
        self,
        count: int = 1,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``count`` connections were accepted in total and one is open."""

        def find() -> bool | None:
            ready = self.socket_connection_count >= count and self.open_socket_count > 0
            return True if ready else None

        def describe() -> str:
            return (
                f"expected {count} Socket Mode connection(s) within {timeout}s; "
                f"accepted {self.socket_connection_count}, open {self.open_socket_count}"
            )

        await self._wait(find, timeout, describe)

    async def push_envelope(
        self,
        envelope_type: str,
        payload: Mapping[str, Any],
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool = False,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
    ) -> str:
        """Send one envelope over the newest open Socket Mode connection; return its id."""
        open_sockets = [s for s in self._sockets if not s.ws.closed]
        if not open_sockets:
            raise AssertionError("no open Socket Mode connection to push to")
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope: JsonDict = {
            "envelope_id": envelope_id,
            "payload": dict(payload),
            "type": envelope_type,
            "accepts_response_payload": accepts_response_payload,
        }
        if retry_attempt is not None:
            envelope["retry_attempt"] = retry_attempt
        if retry_reason is not None:
            envelope["retry_reason"] = retry_reason
        await open_sockets[-1].ws.send_json(envelope)
        return envelope_id

    async def push_slash_command(self, payload: Mapping[str, str]) -> str:
        """Push a ``slash_commands`` envelope; return its id."""
        return await self.push_envelope("slash_commands", payload, accepts_response_payload=True)

    async def push_interactive(self, payload: Mapping[str, Any]) -> str:
        """Push an ``interactive`` envelope (block_actions, view_submission, shortcuts)."""
        return await self.push_envelope("interactive", payload, accepts_response_payload=True)

    async def push_event(
        self, body: Mapping[str, Any], *, retry_attempt: int = 0, retry_reason: str = ""
    ) -> str:
        """Push an ``events_api`` envelope carrying an event_callback body; return its id."""
        return await self.push_envelope(
            "events_api", body, retry_attempt=retry_attempt, retry_reason=retry_reason
        )

    async def request_socket_refresh(self, reason: str = "refresh_requested") -> None:
        """Send a ``disconnect`` message, asking the client to reconnect to a new URL."""
        open_sockets = [s for s in self._sockets if not s.ws.closed]
        if not open_sockets:
            raise AssertionError("no open Socket Mode connection")
        await open_sockets[-1].ws.send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        )

    async def wait_for_ack(
        self,
        envelope_id: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> SocketAck:
        """Wait until the client acknowledges an envelope; return the ack."""

        def find() -> SocketAck | None:
            return next((a for a in self.acks if a.envelope_id == envelope_id), None)

        def describe() -> str:
            return (
                f"no ack for envelope {envelope_id} within {timeout}s; "
                f"acks: {[a.envelope_id for a in self.acks]}"
            )

        return await self._wait(find, timeout, describe)


class PayloadFactory:
    """Build request payloads whose trigger ids and response URLs point at a fake."""

    def __init__(self, fake: FakeSlack) -> None:
        self._fake = fake

    def _user(self, user_id: str) -> JsonDict:
        name = self._fake.users.get(user_id, {}).get("name", user_id.lower())
        return {"id": user_id, "username": name, "name": name, "team_id": self._fake.team_id}

    def _team(self) -> JsonDict:
        return {"id": self._fake.team_id, "domain": self._fake.installation.team_domain}

    def slash_command(
        self,
        text: str = "",
        *,
        command: str = "/gov",
        user_id: str = DEFAULT_USER_ID,
        user_name: str | None = None,
        channel_id: str = DEFAULT_CHANNEL_ID,
        channel_name: str = DEFAULT_CHANNEL_NAME,
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> dict[str, str]:
        """Build the form fields of a slash command invocation."""
        return {
            "token": self._fake.verification_token,
            "team_id": self._fake.team_id,
            "team_domain": self._fake.installation.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name or self._user(user_id)["name"],
            "command": command,
            "text": text,
            "api_app_id": self._fake.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or self._fake.new_response_url(),
            "trigger_id": trigger_id or self._fake.issue_trigger_id(),
        }

    def block_actions(
        self,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str = "actions",
        user_id: str = DEFAULT_USER_ID,
        message: Mapping[str, Any] | None = None,
        view: Mapping[str, Any] | None = None,
        channel_id: str = DEFAULT_CHANNEL_ID,
        action_type: str = "button",
        button_text: str = "Button",
        extra: Mapping[str, Any] | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
    ) -> JsonDict:
        """Build a block_actions payload: a click in ``message``, ``view`` or an ephemeral."""
        action: JsonDict = {
            "action_id": action_id,
            "block_id": block_id,
            "type": action_type,
            "action_ts": self._fake.next_ts(),
        }
        if action_type == "button":
            action["text"] = {"type": "plain_text", "text": button_text, "emoji": True}
        if value is not None:
            action["value"] = value
        action.update(extra or {})
        payload: JsonDict = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self._fake.app_id,
            "token": self._fake.verification_token,
            "trigger_id": trigger_id or self._fake.issue_trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [action],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = dict(view)
            return payload
        channel = message["channel"] if message is not None else channel_id
        payload["channel"] = {"id": channel, "name": DEFAULT_CHANNEL_NAME}
        payload["response_url"] = response_url or self._fake.new_response_url()
        if message is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["message"] = {k: v for k, v in message.items() if k != "channel"}
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": self._fake.next_ts(),
                "channel_id": channel,
                "is_ephemeral": True,
            }
        return payload

    def select_actions(
        self,
        message: Mapping[str, Any],
        values: list[str],
        *,
        user_id: str = DEFAULT_USER_ID,
        block_id: str | None = None,
    ) -> JsonDict:
        """Build the block_actions of picking ``values`` in a select menu of a posted message.

        The menu is the message's first select (or the one in ``block_id``); picks it does not
        offer, or more than it allows, are refused as a Slack client would never send them.
        """
        for block in message.get("blocks") or []:
            if block.get("type") != "actions" or block_id not in (None, block.get("block_id")):
                continue
            for element in block.get("elements") or []:
                if element.get("type") in ("static_select", "multi_static_select"):
                    return self._picked(message, block, element, values, user_id)
        raise LookupError(f"message {message.get('ts')} has no select menu")

    def _picked(
        self,
        message: Mapping[str, Any],
        block: Mapping[str, Any],
        element: Mapping[str, Any],
        values: list[str],
        user_id: str,
    ) -> JsonDict:
        offered = {str(o["value"]): o for o in element.get("options") or []}
        if not set(values) <= set(offered):
            raise ValueError(f"{sorted(set(values) - set(offered))} are not options of the menu")
        multi = element["type"] == "multi_static_select"
        most = int(element.get("max_selected_items", len(offered))) if multi else 1
        if not 1 <= len(values) <= most:
            raise ValueError(f"a menu of at most {most} picks cannot carry {values}")
        chosen = [dict(offered[value]) for value in values]
        picked: JsonDict = {"selected_options": chosen} if multi else {"selected_option": chosen[0]}
        return self.block_actions(
            str(element["action_id"]),
            block_id=str(block.get("block_id")),
            user_id=user_id,
            message=message,
            action_type=str(element["type"]),
            extra=picked,
        )

    @staticmethod
    def text_inputs(values: Mapping[str, str]) -> JsonDict:
        """Build view state values for plain-text inputs whose block_id equals action_id."""
        return {
            key: {key: {"type": "plain_text_input", "value": value}}
            for key, value in values.items()
        }

    def view_submission(
        self,
        view: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        *,
        callback_id: str | None = None,
        private_metadata: str | None = None,
        user_id: str = DEFAULT_USER_ID,
        trigger_id: str | None = None,
    ) -> JsonDict:
        """Build a view_submission payload for a stored ``view`` (or a new modal)."""
        submitted: JsonDict = (
            dict(view)
            if view is not None
            else {
                "id": self._fake.unique_id("V"),
                "team_id": self._fake.team_id,
                "type": "modal",
                "blocks": [],
                "title": {"type": "plain_text", "text": "Modal"},
                "callback_id": "",
                "private_metadata": "",
                "app_id": self._fake.app_id,
            }
        )
        if callback_id is not None:
            submitted["callback_id"] = callback_id
        if private_metadata is not None:
            submitted["private_metadata"] = private_metadata
        submitted["state"] = {"values": dict(values or {})}
        return {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self._fake.app_id,
            "token": self._fake.verification_token,
            "trigger_id": trigger_id or self._fake.issue_trigger_id(),
            "view": submitted,
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def message_shortcut(
        self,
        callback_id: str,
        message_text: str = "",
        *,
        message: Mapping[str, Any] | None = None,
        user_id: str = DEFAULT_USER_ID,
        author_id: str = DEFAULT_USER_ID,
        channel_id: str = DEFAULT_CHANNEL_ID,
        response_url: str | None = None,
        trigger_id: str | None = None,
    ) -> JsonDict:
        """Build a message shortcut (message_action) payload on ``message`` or a new one."""
        if message is None:
            message = {
                "type": "message",
                "user": author_id,
                "ts": self._fake.next_ts(),
                "text": message_text,
            }
        channel = str(message.get("channel", channel_id))
        return {
            "type": "message_action",
            "token": self._fake.verification_token,
            "action_ts": self._fake.next_ts(),
            "team": self._team(),
            "user": self._user(user_id),
            "channel": {"id": channel, "name": DEFAULT_CHANNEL_NAME},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id or self._fake.issue_trigger_id(),
            "response_url": response_url or self._fake.new_response_url(),
            "message_ts": message["ts"],
            "message": {k: v for k, v in message.items() if k != "channel"},
        }

    def global_shortcut(self, callback_id: str, *, user_id: str = DEFAULT_USER_ID) -> JsonDict:
        """Build a global shortcut payload."""
        return {
            "type": "shortcut",
            "token": self._fake.verification_token,
            "action_ts": self._fake.next_ts(),
            "team": self._team(),
            "user": self._user(user_id),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self._fake.issue_trigger_id(),
        }

    def event_callback(self, event: Mapping[str, Any], *, event_id: str | None = None) -> JsonDict:
        """Wrap an event in an Events API ``event_callback`` body."""
        return {
            "token": self._fake.verification_token,
            "team_id": self._fake.team_id,
            "api_app_id": self._fake.app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or self._fake.unique_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self._fake.team_id,
                    "user_id": self._fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-fake-{uuid.uuid4().hex[:12]}",
        }

    def app_home_opened(
        self, user_id: str = DEFAULT_USER_ID, *, tab: str = "home", event_id: str | None = None
    ) -> JsonDict:
        """Build the event_callback sent when a user opens the app's Home tab."""
        event: JsonDict = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self._fake.dm_channel(user_id),
            "tab": tab,
            "event_ts": self._fake.next_ts(),
        }
        if user_id in self._fake.home_tabs:
            event["view"] = dict(self._fake.home_tabs[user_id])
        return self.event_callback(event, event_id=event_id)

    @staticmethod
    def url_verification(challenge: str, token: str = "fake-verification-token") -> JsonDict:
        """Build the url_verification body Slack sends when the request URL is set."""
        return {"token": token, "challenge": challenge, "type": "url_verification"}


class SignedRequestClient:
    """Post Slack-signed HTTP requests to an app's events endpoint."""

    def __init__(self, endpoint_url: str, signing_secret: str) -> None:
        self.endpoint_url = endpoint_url
        self.signing_secret = signing_secret
        self._session: ClientSession | None = None

    async def __aenter__(self) -> SignedRequestClient:
        self._session = ClientSession()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def signed_headers(self, body: str, signing: SigningMode = "valid") -> dict[str, str]:
        """Return the signature headers for a body, honest or deliberately broken."""
        if signing == "missing":
            return {}
        now = int(time.time())
        timestamp = str(now - STALE_AFTER_SECONDS - 60 if signing == "stale" else now)
        secret = self.signing_secret
        if signing == "forged":
            secret = f"not-{secret}"
        return {
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_signature(secret, timestamp, body),
        }

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: Mapping[str, str] | None = None,
        signing: SigningMode = "valid",
    ) -> AppReply:
        """Sign and POST a raw body; return the app's answer."""
        if self._session is None:
            raise RuntimeError("use `async with SignedRequestClient(...)`")
        all_headers = {"Content-Type": content_type, **self.signed_headers(body, signing)}
        all_headers.update(headers or {})
        async with self._session.post(
            self.endpoint_url, data=body.encode(), headers=all_headers
        ) as response:
            text = await response.text()
            return AppReply(
                status=response.status,
                text=text,
                headers={k.lower(): v for k, v in response.headers.items()},
            )

    async def send_slash_command(
        self, payload: Mapping[str, str], *, signing: SigningMode = "valid"
    ) -> AppReply:
        """Send a slash command (form-encoded fields)."""
        return await self.post(
            urlencode(dict(payload)), "application/x-www-form-urlencoded", signing=signing
        )

    async def send_interaction(
        self, payload: Mapping[str, Any], *, signing: SigningMode = "valid"
    ) -> AppReply:
        """Send an interactive payload (button, modal submission, shortcut) as ``payload=``."""
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", signing=signing)

    async def send_event(
        self,
        body: Mapping[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        signing: SigningMode = "valid",
    ) -> AppReply:
        """Send an Events API body as JSON, optionally marked as a redelivery."""
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
        if retry_reason is not None:
            headers["X-Slack-Retry-Reason"] = retry_reason
        return await self.post(
            json.dumps(body), "application/json", headers=headers, signing=signing
        )

    async def send_url_verification(
        self, challenge: str, *, signing: SigningMode = "valid"
    ) -> AppReply:
        """Send the url_verification handshake."""
        return await self.send_event(PayloadFactory.url_verification(challenge), signing=signing)


def _check_blocks(blocks: Any) -> None:
    """Refuse blocks Slack refuses: repeated or long block ids, crowded or over-long menus."""
    if not isinstance(blocks, list):
        raise SlackApiFailure("invalid_blocks")
    seen: set[str] = set()
    for block in blocks:
        block_id = str(block.get("block_id") or "")
        if block_id and (block_id in seen or len(block_id) > BLOCK_ID_LIMIT):
            raise SlackApiFailure("invalid_blocks")
        seen.add(block_id)
        if block.get("type") != "actions":
            continue
        elements = block.get("elements") or []
        if not 1 <= len(elements) <= ACTION_ELEMENTS:
            raise SlackApiFailure("invalid_blocks")
        for element in elements:
            if element.get("type") == "button":
                if len(str(element.get("value") or "")) > BUTTON_VALUE_LIMIT:
                    raise SlackApiFailure("invalid_blocks")
            elif element.get("type") in ("static_select", "multi_static_select"):
                _check_menu(element)


def _check_menu(element: JsonDict) -> None:
    options = element.get("options") or []
    values = [str(o.get("value") or "") for o in options]
    if not 1 <= len(options) <= SELECT_OPTIONS or len(set(values)) != len(values):
        raise SlackApiFailure("invalid_blocks")
    for option, value in zip(options, values, strict=True):
        label = str((option.get("text") or {}).get("text") or "")
        if not 1 <= len(label) <= OPTION_TEXT_LIMIT or not 1 <= len(value) <= OPTION_VALUE_LIMIT:
            raise SlackApiFailure("invalid_blocks")
    if int(element.get("max_selected_items", 1)) < 1:
        raise SlackApiFailure("invalid_blocks")


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _require(args: JsonDict, name: str, error: str) -> str:
    value = _as_str(args.get(name))
    if value is None:
        raise SlackApiFailure(error)
    return value


def _decode_json_arg(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _bearer_token(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def _basic_auth(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, _, password = decoded.partition(":")
    return user or None, password or None
