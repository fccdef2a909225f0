"""A local fake of Discord: REST API v10 and gateway, driven by the real discord.py client.

The fake runs on 127.0.0.1 with aiohttp.  It serves what discord.py calls (login, application
info, command sync, interaction callbacks and webhooks, channel messages, DMs, threads,
scheduled events, member timeouts, bans), speaks the gateway (HELLO, heartbeats, IDENTIFY ->
READY -> GUILD_CREATE, RESUME -> RESUMED), pushes INTERACTION_CREATE events and records every
REST call so tests can assert on what users would see.  It enforces the platform rules that
catch real bugs: the first-response deadline (10062), single acknowledgement (40060),
followups only after an acknowledgement and within the token lifetime, command validation on
sync, message component limits (buttons, select menus), rate limits (429 with ``Via``) and
moderation of owners and administrators (50013). ``hold`` keeps matching requests waiting
until released, so tests can make "an edit is still in flight" exact instead of timed.

Typical use::

    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            bot = commands.Bot(command_prefix="!", intents=discord.Intents.default(),
                               guild_ready_timeout=0.05)
            task = asyncio.create_task(bot.start(fake.token))
            await fake.wait_for_session()
            await bot.tree.sync()
            record = await fake.push_interaction(fake.build_slash_command("help", user=fake.member))
            call = await fake.wait_for_callback(record)
            assert call.body["data"]["flags"] & EPHEMERAL
            await bot.close()
            await task
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import math
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import discord
import yarl
from aiohttp import WSMsgType, web

Json = dict[str, Any]

API_VERSION = 10
DISCORD_EPOCH_MS = 1_420_070_400_000

ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
EPHEMERAL = 1 << 6
LOADING = 1 << 7
ALL_PERMISSIONS = discord.Permissions.all().value
EVERYONE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    read_message_history=True,
    use_application_commands=True,
    connect=True,
    speak=True,
).value

# Interaction types and the callback types Discord accepts for each of them.
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
_ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    APPLICATION_COMMAND: frozenset({4, 5, 9, 12}),
    MESSAGE_COMPONENT: frozenset({4, 5, 6, 7, 9, 12}),
    AUTOCOMPLETE: frozenset({8}),
    MODAL_SUBMIT: frozenset({4, 5, 6, 7}),
}
_SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
# Message component limits (action rows, not Components V2).
_MAX_ROWS = 5
_ROW_WIDTH = 5
_CUSTOM_ID_LIMIT = 100
_BUTTON_LABEL_LIMIT = 80
_SELECT_OPTIONS = 25
_OPTION_TEXT_LIMIT = 100
_SELECT_PLACEHOLDER_LIMIT = 150
_CHAT_INPUT_NAME = re.compile(r"^[-_'\w]{1,32}$")
_MAX_TIMEOUT = timedelta(days=28)
# How long Discord remembers a nonce sent with ``enforce_nonce`` ("the past few minutes").
NONCE_WINDOW = 5 * 60.0


@dataclass(frozen=True)
class FakeUser:
    """A Discord user known to the fake (a guild member unless it is the bot)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    @property
    def mention(self) -> str:
        """Return the mention string Discord renders for this user."""
        return f"<@{self.id}>"


@dataclass(frozen=True)
class FakeRole:
    """A guild role with its permission bitfield."""

    id: int
    name: str
    permissions: int
    position: int = 0


@dataclass(frozen=True)
class FakeChannel:
    """A handle on a channel the fake serves (text 0, DM 1, public thread 11)."""

    id: int
    name: str
    type: int = 0
    parent_id: int | None = None


@dataclass(frozen=True)
class CommandOption:
    """An interaction option with an explicit Discord option type."""

    value: Any
    type: int


OptionValue = str | int | float | bool | FakeUser | FakeRole | FakeChannel | CommandOption


@dataclass(frozen=True)
class RecordedCall:
    """One REST request the fake answered, with what it answered."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    response: Any
    at: float
    audit_reason: str | None = None
    files: tuple[str, ...] = ()
    # What each file said, decoded as text: a test can read an attached document too.
    file_texts: tuple[str, ...] = ()


@dataclass
class InteractionRecord:
    """An interaction pushed to the client and what the client did with it."""

    id: int
    token: str
    type: int
    payload: Json
    pushed_at: float
    callbacks: list[RecordedCall] = field(default_factory=list)
    response_type: int | None = None
    response: Json | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        """Return whether a callback was accepted for this interaction."""
        return self.response_type is not None


@dataclass
class ErrorRule:
    """Answer the next ``remaining`` requests matching a route with a canned error.

    With ``applied`` the request takes effect first and only its answer is the error, as
    when Discord made a message but its edge answered 5xx.
    """

    method: str
    path: re.Pattern[str]
    status: int
    body: Json
    headers: dict[str, str]
    remaining: int
    applied: bool = False

    def matches(self, method: str, path: str) -> bool:
        """Return whether this rule still applies to the request."""
        return (
            self.remaining > 0
            and self.method in {method, "*"}
            and self.path.fullmatch(path) is not None
        )


@dataclass
class HeldRoute:
    """Requests matching a route wait until ``release()``: a slow Discord, made exact."""

    method: str
    path: re.Pattern[str]
    released: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: int = 0  # requests that reached the route while it was held

    def matches(self, method: str, path: str) -> bool:
        """Return whether a request must wait here."""
        return (
            not self.released.is_set()
            and self.method in {method, "*"}
            and self.path.fullmatch(path) is not None
        )

    def release(self) -> None:
        """Let the waiting requests, and every later one, through."""
        self.released.set()


@dataclass
class _Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    files: list[Json]
    audit_reason: str | None
    interaction: InteractionRecord | None = None


@dataclass
class _MemberState:
    roles: list[int]
    joined_at: str
    nick: str | None = None
    communication_disabled_until: str | None = None


@dataclass
class _GatewaySession:
    session_id: str
    seq: int = 0
    history: list[Json] = field(default_factory=list)


@dataclass
class _GatewayConnection:
    ws: web.WebSocketResponse
    request: web.Request
    session: _GatewaySession | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, frame: Json) -> None:
        async with self.lock:
            if not self.ws.closed:
                await self.ws.send_str(json.dumps(frame))


_Handler = Callable[[_Request, re.Match[str]], Awaitable[_Reply]]


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _error(status: int, code: int, message: str, errors: Json | None = None) -> _Reply:
    body: Json = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return _Reply(status, body)


def _form_error(where: Sequence[str | int], code: str, message: str) -> _Reply:
    errors: Json = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(where):
        errors = {str(key): errors}
    return _error(400, 50035, "Invalid Form Body", errors)


def _walk_components(components: Sequence[Json]) -> Iterator[Json]:
    for component in components:
        yield component
        yield from _walk_components(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            yield from _walk_components([component["component"]])
        if isinstance(component.get("accessory"), dict):
            yield from _walk_components([component["accessory"]])


class FakeDiscord:
    """Serve a fake Discord REST API and gateway on 127.0.0.1 for end-to-end tests."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        deadline: float = 3.0,
        token_lifetime: float = 15 * 60.0,
        heartbeat_interval: float = 41.25,
        guild_name: str = "Govbot Test Guild",
        bot_name: str = "govbot",
    ) -> None:
        self.token = token
        self.deadline = deadline
        self.token_lifetime = token_lifetime
        self.heartbeat_interval = heartbeat_interval
        self._clock_offset = 0.0
        self._sequence = 0
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()

        self.calls: list[RecordedCall] = []
        self.interactions: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self.messages: dict[int, Json] = {}
        self.channels: dict[int, Json] = {}
        self.global_commands: list[Json] = []
        self.guild_commands: dict[int, list[Json]] = {}
        self.scheduled_events: dict[int, Json] = {}
        self.bans: dict[int, Json] = {}
        self.dm_blocked: set[int] = set()
        self.error_rules: list[ErrorRule] = []
        self.holds: list[HeldRoute] = []
        # (author id, nonce) -> (message id, when it was made), for ``enforce_nonce``.
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}

        self.gateway_frames: list[Json] = []
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeat_count = 0
        self._session: _GatewaySession | None = None
        self._conn: _GatewayConnection | None = None
        self._open_sockets: set[web.WebSocketResponse] = set()
        self._gateway_open = asyncio.Event()
        self._gateway_open.set()

        self.users: dict[int, FakeUser] = {}
        self.roles: dict[int, FakeRole] = {}
        self._members: dict[int, _MemberState] = {}
        self.bot_user = self._new_user(bot_name, bot=True)
        self.application_id = self.bot_user.id
        self.guild_id = self._snowflake()
        self.guild_name = guild_name
        self.everyone_role = FakeRole(self.guild_id, "@everyone", EVERYONE_PERMISSIONS, 0)
        self.roles[self.guild_id] = self.everyone_role
        self.admin_role = self.add_role("Admin", ADMINISTRATOR)
        self.steward_role = self.add_role("Steward", MANAGE_GUILD)
        self.bot_role = self.add_role(bot_name, ADMINISTRATOR)
        self._members[self.bot_user.id] = _MemberState([self.bot_role.id], _iso(self._wall()))
        self.owner = self.add_user("owner", roles=[self.admin_role])
        self.steward = self.add_user("steward", roles=[self.steward_role])
        self.member = self.add_user("member")
        self.channel = self.add_text_channel("general")

        self._routes: list[tuple[str, re.Pattern[str], _Handler]] = [
            (method, re.compile(pattern), handler)
            for method, pattern, handler in self._route_table()
        ]

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/api/v10/{tail:.*}", self._handle_rest)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/gateway/", self._handle_gateway)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close open gateway sockets and stop serving (close the client under test first)."""
        self._gateway_open.set()
        for held in self.holds:
            held.release()
        for ws in list(self._open_sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """Return the port the fake listens on."""
        if self._port is None:
            raise RuntimeError("FakeDiscord is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """Return ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """Return the REST base to put in ``discord.http.Route.BASE``."""
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """Return the gateway URL to put in ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- clock and waiting -------------------------------------------------------------------

    def now(self) -> float:
        """Return the fake's monotonic clock, which ``advance_time`` moves forward."""
        return time.monotonic() + self._clock_offset

    def advance_time(self, seconds: float) -> None:
        """Move the fake's clock forward, as if ``seconds`` had passed for deadlines."""
        self._clock_offset += seconds

    def _wall(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._clock_offset)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline per wait reads best in tests
        description: str = "condition",
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking on every change and every 20 ms."""

        async def wait() -> None:
            # The poll covers predicates on the client's state, which the fake cannot see change.
            while not predicate():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.02)

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            recent = "\n".join(f"  {c.method} {c.path} -> {c.status}" for c in self.calls[-10:])
            raise TimeoutError(
                f"{description} not met within {timeout}s; last calls:\n{recent or '  none'}"
            ) from None

    def find_calls(
        self,
        predicate: Callable[[RecordedCall], bool] | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        since: int = 0,
    ) -> list[RecordedCall]:
        """Return recorded calls matching a method, a path regex and a predicate."""
        pattern = re.compile(path) if path is not None else None
        return [
            call
            for call in self.calls[since:]
            if (method is None or call.method == method)
            and (pattern is None or pattern.fullmatch(call.path) is not None)
            and (predicate is None or predicate(call))
        ]

    async def wait_for_call(
        self,
        predicate: Callable[[RecordedCall], bool] | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        since: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> RecordedCall:
        """Wait for the first recorded call (from index ``since``) that matches."""

        def found() -> bool:
            return bool(self.find_calls(predicate, method=method, path=path, since=since))

        await self.wait_until(
            found, timeout=timeout, description=f"a call {method or '*'} {path or '*'}"
        )
        return self.find_calls(predicate, method=method, path=path, since=since)[0]

    async def wait_for_callback(
        self,
        record: InteractionRecord,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> RecordedCall:
        """Wait for the first callback attempt on an interaction, accepted or not."""
        await self.wait_until(
            lambda: bool(record.callbacks),
            timeout=timeout,
            description=f"a callback for interaction {record.id}",
        )
        return record.callbacks[0]

    async def wait_for_session(self, *, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a client has identified or resumed on a live gateway connection."""
        await self.wait_until(
            lambda: self._conn is not None and self._conn.session is not None,
            timeout=timeout,
            description="a gateway session",
        )

    # -- fault injection ---------------------------------------------------------------------

    def inject_error(
        self,
        method: str,
        path: str,
        *,
        status: int,
        body: Json,
        headers: Mapping[str, str] | None = None,
        count: int = 1,
        applied: bool = False,
    ) -> ErrorRule:
        """Answer the next ``count`` requests matching ``method`` and a path regex with an error.

        ``applied`` lets each request take effect before the error is answered.
        """
        rule = ErrorRule(
            method, re.compile(path), status, body, dict(headers or {}), count, applied
        )
        self.error_rules.append(rule)
        return rule

    def server_error(
        self, method: str, path: str, *, status: int = 500, count: int = 1, applied: bool = True
    ) -> ErrorRule:
        """Answer the next ``count`` matching requests with a 5xx, by default after doing them."""
        body = {"message": f"{status}: Server Error", "code": 0}
        return self.inject_error(
            method, path, status=status, body=body, count=count, applied=applied
        )

    def rate_limit(
        self,
        method: str,
        path: str,
        *,
        count: int = 1,
        retry_after: float = 0.05,
        is_global: bool = False,
    ) -> ErrorRule:
        """Answer the next ``count`` matching requests with 429 as Discord's edge does."""
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "Via": "1.1 google",
            "X-RateLimit-Global": "true" if is_global else "false",
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
        }
        return self.inject_error(method, path, status=429, body=body, headers=headers, count=count)

    def hold(self, method: str, path: str) -> HeldRoute:
        """Keep requests matching ``method`` and a path regex waiting until released."""
        held = HeldRoute(method, re.compile(path))
        self.holds.append(held)
        return held

    async def drop_gateway(self, code: int | None = 4000) -> None:
        """Drop the gateway connection: a close frame with ``code``, or none at all (1006)."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("no gateway connection to drop")
        self._conn = None
        if code is None:
            transport = conn.request.transport
            if transport is not None:
                transport.abort()
        else:
            await conn.ws.close(code=code, message=b"dropped by FakeDiscord")
        self._notify()

    def hold_gateway(self) -> None:
        """Keep new gateway connections waiting for HELLO, as in an outage, until released."""
        self._gateway_open.clear()

    def release_gateway(self) -> None:
        """Let gateway connections held by ``hold_gateway`` go on."""
        self._gateway_open.set()

    async def send_reconnect(self) -> None:
        """Ask the client to reconnect and resume (gateway opcode 7)."""
        await self._send_op(7, None)

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Invalidate the gateway session (opcode 9) so the client identifies again."""
        if not resumable:
            self._session = None
        await self._send_op(9, resumable)

    def block_dms(self, user: FakeUser) -> None:
        """Make DMs to ``user`` fail with 50007, as when a user closes their DMs."""
        self.dm_blocked.add(user.id)

    # -- guild model -------------------------------------------------------------------------

    def _snowflake(self) -> int:
        self._sequence += 1
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (millis << 22) | (self._sequence & 0x3FFFFF)

    def _new_user(self, username: str, *, bot: bool = False) -> FakeUser:
        user = FakeUser(self._snowflake(), username, global_name=username.title(), bot=bot)
        self.users[user.id] = user
        return user

    def add_role(self, name: str, permissions: int) -> FakeRole:
        """Add a guild role; call before the client connects (the gateway is not told)."""
        role = FakeRole(self._snowflake(), name, permissions, position=len(self.roles))
        self.roles[role.id] = role
        return role

    def add_user(self, username: str, *, roles: Sequence[FakeRole] = ()) -> FakeUser:
        """Add a guild member holding ``roles``; their permissions follow from the roles."""
        user = self._new_user(username)
        self._members[user.id] = _MemberState([r.id for r in roles], _iso(self._wall()))
        return user

    def add_text_channel(self, name: str) -> FakeChannel:
        """Add a guild text channel; call before the client connects (the gateway is not told)."""
        channel = FakeChannel(self._snowflake(), name, 0)
        self.channels[channel.id] = {
            "id": str(channel.id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": name,
            "position": len(self.channels),
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }
        return channel

    def add_user_message(self, channel: FakeChannel, author: FakeUser, content: str) -> Json:
        """Store a message written by a user (not dispatched; see ``dispatch``)."""
        return self._store_message(channel.id, {"content": content}, author=author)

    def add_bot_message(
        self, channel: FakeChannel, content: str, components: Sequence[Json] = ()
    ) -> Json:
        """Store a message as if the bot had posted it earlier (with buttons to press, say)."""
        return self._store_message(channel.id, {"content": content, "components": list(components)})

    def permissions_of(self, user: FakeUser) -> int:
        """Return the guild-wide permission bitfield of a member."""
        if user.id == self.owner.id:
            return ALL_PERMISSIONS
        state = self._members.get(user.id)
        permissions = self.everyone_role.permissions
        for role_id in state.roles if state else []:
            role = self.roles.get(role_id)
            if role is not None:
                permissions |= role.permissions
        return ALL_PERMISSIONS if permissions & ADMINISTRATOR else permissions

    def is_member(self, user_id: int) -> bool:
        """Return whether the user is (still) a member of the guild."""
        return user_id in self._members

    def message_edits(self, message_id: int | str) -> list[RecordedCall]:
        """Return the accepted channel edits (PATCH) of one message, oldest first."""
        return self.find_calls(
            lambda c: c.status == 200,
            method="PATCH",
            path=rf"/channels/\d+/messages/{int(message_id)}",
        )

    def channel_messages(self, channel: FakeChannel | int) -> list[Json]:
        """Return the messages stored for a channel, oldest first."""
        channel_id = channel.id if isinstance(channel, FakeChannel) else channel
        return [m for m in self.messages.values() if int(m["channel_id"]) == channel_id]

    def user_payload(self, user: FakeUser) -> Json:
        """Return the Discord user object for ``user``."""
        payload: Json = {
            "id": str(user.id),
            "username": user.username,
            "discriminator": "0",
            "global_name": user.global_name,
            "avatar": None,
            "bot": user.bot,
            "public_flags": 0,
            "flags": 0,
        }
        if user.bot:
            payload.update(verified=True, mfa_enabled=False)
        return payload

    def member_payload(self, user: FakeUser, *, with_user: bool = True) -> Json:
        """Return the guild member object for ``user``, with ``permissions`` as a string."""
        state = self._members.get(user.id) or _MemberState([], _iso(self._wall()))
        payload: Json = {
            "roles": [str(r) for r in state.roles],
            "joined_at": state.joined_at,
            "nick": state.nick,
            "avatar": None,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": state.communication_disabled_until,
            "permissions": str(self.permissions_of(user)),
        }
        if with_user:
            payload["user"] = self.user_payload(user)
        return payload

    def _role_payload(self, role: FakeRole) -> Json:
        return {
            "id": str(role.id),
            "name": role.name,
            "permissions": str(role.permissions),
            "position": role.position,
            "color": 0,
            "colors": {"primary_color": 0},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def guild_payload(self, *, full: bool = True) -> Json:
        """Return the guild object, with members and channels when ``full`` (GUILD_CREATE)."""
        payload: Json = {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "icon": None,
            "owner_id": str(self.owner.id),
            "roles": [self._role_payload(r) for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "afk_timeout": 300,
            "system_channel_id": str(self.channel.id),
        }
        if full:
            members = [self.users[uid] for uid in self._members]
            payload.update(
                unavailable=False,
                large=False,
                joined_at=self._members[self.bot_user.id].joined_at,
                member_count=len(members),
                members=[self.member_payload(u) for u in members],
                channels=[c for c in self.channels.values() if c["type"] not in (1, 11, 12)],
                threads=[c for c in self.channels.values() if c["type"] in (11, 12)],
                presences=[],
                voice_states=[],
                stage_instances=[],
                guild_scheduled_events=list(self.scheduled_events.values()),
                soundboard_sounds=[],
            )
        return payload

    # -- gateway -----------------------------------------------------------------------------

    async def dispatch(self, event: str, data: Any) -> int:
        """Send a DISPATCH event to the client (kept for replay on RESUME); return its seq."""
        session = self._session
        if session is None:
            raise RuntimeError("no gateway session: has the client identified?")
        session.seq += 1
        frame: Json = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.history.append(frame)
        conn = self._conn
        if conn is not None and conn.session is session:
            with contextlib.suppress(ConnectionError):
                await conn.send(frame)
        self._notify()
        return session.seq

    async def _dispatch_if_connected(self, event: str, data: Any) -> None:
        if self._session is not None:
            await self.dispatch(event, data)

    async def _send_op(self, op: int, data: Any) -> None:
        conn = self._conn
        if conn is None:
            raise RuntimeError("no gateway connection")
        await conn.send({"op": op, "d": data, "s": None, "t": None})

    async def _handle_gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = _GatewayConnection(ws=ws, request=request)
        self._open_sockets.add(ws)
        try:
            await self._gateway_open.wait()
            self._conn = conn
            hello = {"heartbeat_interval": int(self.heartbeat_interval * 1000)}
            await conn.send({"op": 10, "d": hello, "s": None, "t": None})
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(message.data))
        finally:
            self._open_sockets.discard(ws)
            if self._conn is conn:
                self._conn = None
            self._notify()
        return ws

    async def _on_frame(self, conn: _GatewayConnection, frame: Json) -> None:
        self.gateway_frames.append(frame)
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            self.heartbeat_count += 1
            await conn.send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._on_identify(conn, data or {})
        elif op == 6:
            await self._on_resume(conn, data or {})
        elif op == 8:
            await self._on_request_members(data or {})
        self._notify()

    async def _on_identify(self, conn: _GatewayConnection, data: Json) -> None:
        self.identify_count += 1
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        self._session = _GatewaySession(session_id=uuid.uuid4().hex)
        conn.session = self._session
        ready: Json = {
            "v": API_VERSION,
            "user": self.user_payload(self.bot_user),
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": self._session.session_id,
            "resume_gateway_url": self.gateway_url,
            "session_type": "normal",
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await self.dispatch("READY", ready)
        await self.dispatch("GUILD_CREATE", self.guild_payload())

    async def _on_resume(self, conn: _GatewayConnection, data: Json) -> None:
        self.resume_count += 1
        session = self._session
        if (
            data.get("token") != self.token
            or session is None
            or data.get("session_id") != session.session_id
        ):
            await conn.send({"op": 9, "d": False, "s": None, "t": None})
            return
        conn.session = session
        last_seen = int(data.get("seq") or 0)
        for frame in [f for f in session.history if f["s"] > last_seen]:
            await conn.send(frame)
        await self.dispatch("RESUMED", {})

    async def _on_request_members(self, data: Json) -> None:
        query = str(data.get("query") or "").lower()
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [
            self.member_payload(self.users[uid])
            for uid in self._members
            if (not wanted or uid in wanted) and self.users[uid].username.startswith(query)
        ]
        chunk: Json = {
            "guild_id": str(self.guild_id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # -- interactions ------------------------------------------------------------------------

    async def push_interaction(self, payload: Json) -> InteractionRecord:
        """Deliver an INTERACTION_CREATE built by a ``build_*`` helper; start its deadline."""
        interaction_id = int(payload["id"])
        if interaction_id in self.interactions:
            raise ValueError(f"interaction {interaction_id} was already pushed")
        record = InteractionRecord(
            id=interaction_id,
            token=payload["token"],
            type=payload["type"],
            payload=payload,
            pushed_at=self.now(),
        )
        self.interactions[record.id] = record
        self._by_token[record.token] = record
        await self.dispatch("INTERACTION_CREATE", payload)
        return record

    def build_slash_command(
        self,
        name: str,
        *,
        user: FakeUser,
        options: Mapping[str, OptionValue] | None = None,
        subcommand: str | None = None,
        channel: FakeChannel | None = None,
        locale: str = "en-US",
    ) -> Json:
        """Build a slash command interaction; ``subcommand`` is ``"sub"`` or ``"group sub"``."""
        data = self._command_data(name, 1)
        values, resolved = self._options(options or {})
        data["options"] = self._nest(subcommand, values)
        if resolved:
            data["resolved"] = resolved
        return self._interaction(APPLICATION_COMMAND, user, channel, data, locale=locale)

    def build_autocomplete(
        self,
        name: str,
        *,
        user: FakeUser,
        focused: str,
        value: str = "",
        options: Mapping[str, OptionValue] | None = None,
        subcommand: str | None = None,
        channel: FakeChannel | None = None,
    ) -> Json:
        """Build an autocomplete interaction with ``focused`` being typed as ``value``."""
        data = self._command_data(name, 1)
        values, resolved = self._options(options or {})
        spec = self._option_spec(name, subcommand, focused)
        values.append(
            {
                "type": spec.get("type", 3) if spec else 3,
                "name": focused,
                "value": value,
                "focused": True,
            }
        )
        data["options"] = self._nest(subcommand, values)
        if resolved:
            data["resolved"] = resolved
        return self._interaction(AUTOCOMPLETE, user, channel, data)

    def build_user_command(self, name: str, *, user: FakeUser, target: FakeUser) -> Json:
        """Build a user context-menu interaction aimed at ``target``."""
        data = self._command_data(name, 2)
        data["target_id"] = str(target.id)
        data["resolved"] = {
            "users": {str(target.id): self.user_payload(target)},
            "members": {str(target.id): self.member_payload(target, with_user=False)},
        }
        return self._interaction(APPLICATION_COMMAND, user, None, data)

    def build_message_command(self, name: str, *, user: FakeUser, message_id: int) -> Json:
        """Build a message context-menu interaction aimed at a stored message."""
        message = self.messages[message_id]
        data = self._command_data(name, 3)
        data["target_id"] = str(message_id)
        data["resolved"] = {"messages": {str(message_id): copy.deepcopy(message)}}
        channel = self._channel_handle(int(message["channel_id"]))
        return self._interaction(APPLICATION_COMMAND, user, channel, data)

    def build_component(
        self,
        custom_id: str,
        *,
        user: FakeUser,
        message_id: int | None = None,
        values: Sequence[str] | None = None,
    ) -> Json:
        """Build a button or select interaction on the newest message carrying ``custom_id``."""
        message = self._message_with_component(custom_id, message_id)
        component = next(
            (c for c in _walk_components(message["components"]) if c.get("custom_id") == custom_id),
            None,
        )
        if component is None:
            raise LookupError(f"message {message['id']} has no component {custom_id!r}")
        data: Json = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] in _SELECT_TYPES:
            data["values"] = list(values or [])
            if component["type"] == 3:
                _check_picks(component, data["values"])
        elif values is not None:
            raise ValueError(f"component {custom_id!r} is not a select menu")
        channel = self._channel_handle(int(message["channel_id"]))
        payload = self._interaction(MESSAGE_COMPONENT, user, channel, data)
        payload["message"] = copy.deepcopy(message)
        return payload

    def build_modal_submit(
        self,
        custom_id: str,
        *,
        user: FakeUser,
        values: Mapping[str, str | Sequence[str]],
    ) -> Json:
        """Build a modal submission shaped like the newest modal the bot opened as ``custom_id``."""
        opener = next(
            (
                r
                for r in reversed(self.interactions.values())
                if r.response_type == 9
                and (r.response or {}).get("data", {}).get("custom_id") == custom_id
            ),
            None,
        )
        remaining = dict(values)
        if opener is None or opener.response is None:
            rows: list[Json] = [
                {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                for k, v in remaining.items()
            ]
            remaining.clear()
            channel = None
        else:
            rows = self._mirror_modal(opener.response["data"].get("components", []), remaining)
            channel = self._channel_handle(int(opener.payload["channel_id"]))
        if remaining:
            raise ValueError(f"modal {custom_id!r} has no inputs {sorted(remaining)}")
        data: Json = {"custom_id": custom_id, "components": rows}
        payload = self._interaction(MODAL_SUBMIT, user, channel, data)
        if opener is not None and "message" in opener.payload:
            payload["message"] = copy.deepcopy(
                self.messages.get(int(opener.payload["message"]["id"]), opener.payload["message"])
            )
        return payload

    def _mirror_modal(self, components: Sequence[Json], values: dict[str, Any]) -> list[Json]:
        submitted: list[Json] = []
        for component in components:
            kind = component["type"]
            if kind == 1:
                inner = self._mirror_modal(component.get("components", []), values)
                submitted.append({"type": 1, "components": inner})
            elif kind == 18:
                inner = self._mirror_modal([component["component"]], values)
                submitted.append({"type": 18, "id": component.get("id"), "component": inner[0]})
            elif "custom_id" in component:
                custom_id = component["custom_id"]
                value = values.pop(custom_id, None)
                if kind == 4:
                    submitted.append({"type": 4, "custom_id": custom_id, "value": value or ""})
                else:
                    chosen = [value] if isinstance(value, str) else list(value or [])
                    submitted.append({"type": kind, "custom_id": custom_id, "values": chosen})
        return submitted

    def _command_data(self, name: str, kind: int) -> Json:
        command, guild_id = self._find_command(name, kind)
        data: Json = {
            "id": command["id"] if command else str(self._snowflake()),
            "name": name,
            "type": kind,
        }
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        return data

    def _find_command(self, name: str, kind: int) -> tuple[Json | None, int | None]:
        for command in self.guild_commands.get(self.guild_id, []):
            if command["name"] == name and command["type"] == kind:
                return command, self.guild_id
        for command in self.global_commands:
            if command["name"] == name and command["type"] == kind:
                return command, None
        return None, None

    def _option_spec(self, name: str, subcommand: str | None, option: str) -> Json | None:
        command, _ = self._find_command(name, 1)
        if command is None:
            return None
        options: list[Json] = command.get("options") or []
        for part in (subcommand or "").split():
            options = next((o.get("options") or [] for o in options if o["name"] == part), [])
        return next((o for o in options if o["name"] == option), None)

    def _options(self, options: Mapping[str, OptionValue]) -> tuple[list[Json], Json]:
        values: list[Json] = []
        resolved: Json = {}
        for name, value in options.items():
            if isinstance(value, CommandOption):
                values.append({"type": value.type, "name": name, "value": value.value})
            elif isinstance(value, bool):
                values.append({"type": 5, "name": name, "value": value})
            elif isinstance(value, int):
                values.append({"type": 4, "name": name, "value": value})
            elif isinstance(value, float):
                values.append({"type": 10, "name": name, "value": value})
            elif isinstance(value, str):
                values.append({"type": 3, "name": name, "value": value})
            elif isinstance(value, FakeUser):
                values.append({"type": 6, "name": name, "value": str(value.id)})
                resolved.setdefault("users", {})[str(value.id)] = self.user_payload(value)
                if self.is_member(value.id):
                    member = self.member_payload(value, with_user=False)
                    resolved.setdefault("members", {})[str(value.id)] = member
            elif isinstance(value, FakeRole):
                values.append({"type": 8, "name": name, "value": str(value.id)})
                resolved.setdefault("roles", {})[str(value.id)] = self._role_payload(value)
            else:
                values.append({"type": 7, "name": name, "value": str(value.id)})
                channel = dict(self.channels[value.id])
                channel["permissions"] = str(ALL_PERMISSIONS)
                resolved.setdefault("channels", {})[str(value.id)] = channel
        return values, resolved

    @staticmethod
    def _nest(subcommand: str | None, values: list[Json]) -> list[Json]:
        if subcommand is None:
            return values
        parts = subcommand.split()
        if len(parts) == 1:
            return [{"type": 1, "name": parts[0], "options": values}]
        if len(parts) == 2:
            inner = {"type": 1, "name": parts[1], "options": values}
            return [{"type": 2, "name": parts[0], "options": [inner]}]
        raise ValueError(f"subcommand must be 'sub' or 'group sub', not {subcommand!r}")

    def _message_with_component(self, custom_id: str, message_id: int | None) -> Json:
        if message_id is not None:
            return self.messages[message_id]
        for message in reversed(self.messages.values()):
            if any(
                c.get("custom_id") == custom_id for c in _walk_components(message["components"])
            ):
                return message
        raise LookupError(f"no stored message has a component {custom_id!r}")

    def _channel_handle(self, channel_id: int) -> FakeChannel:
        raw = self.channels[channel_id]
        parent = raw.get("parent_id")
        return FakeChannel(
            channel_id, raw.get("name") or "", raw["type"], int(parent) if parent else None
        )

    def _interaction(
        self,
        kind: int,
        user: FakeUser,
        channel: FakeChannel | None,
        data: Json,
        *,
        locale: str = "en-US",
    ) -> Json:
        channel = channel or self.channel
        payload: Json = {
            "id": str(self._snowflake()),
            "application_id": str(self.application_id),
            "type": kind,
            "token": f"itok-{secrets.token_urlsafe(24)}",
            "version": 1,
            "data": data,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "app_permissions": str(self.permissions_of(self.bot_user)),
            "channel_id": str(channel.id),
            "channel": dict(self.channels[channel.id]),
        }
        if channel.type == 1:
            payload.update(
                user=self.user_payload(user),
                context=1,
                authorizing_integration_owners={"0": str(self.guild_id)},
            )
        else:
            payload.update(
                guild_id=str(self.guild_id),
                guild={"id": str(self.guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=self.member_payload(user),
                context=0,
                authorizing_integration_owners={"0": str(self.guild_id)},
            )
        return payload

    # -- REST plumbing -----------------------------------------------------------------------

    def _route_table(self) -> list[tuple[str, str, _Handler]]:
        app = r"/applications/(?P<app>\d+)"
        guild = r"/guilds/(?P<guild>\d+)"
        channel = r"/channels/(?P<channel>\d+)"
        hook = r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)"
        return [
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/users/(?P<user>\d+)", self._get_user),
            ("POST", r"/users/@me/channels", self._create_dm),
            ("GET", r"/oauth2/applications/@me", self._get_application),
            ("GET", r"/applications/@me", self._get_application),
            ("GET", r"/gateway", self._get_gateway),
            ("GET", r"/gateway/bot", self._get_gateway),
            ("GET", app + r"/commands", self._list_commands),
            ("PUT", app + r"/commands", self._overwrite_commands),
            ("POST", app + r"/commands", self._upsert_command),
            ("GET", app + r"/commands/(?P<command>\d+)", self._get_command),
            ("PATCH", app + r"/commands/(?P<command>\d+)", self._edit_command),
            ("DELETE", app + r"/commands/(?P<command>\d+)", self._delete_command),
            ("GET", app + guild + r"/commands", self._list_commands),
            ("PUT", app + guild + r"/commands", self._overwrite_commands),
            ("POST", app + guild + r"/commands", self._upsert_command),
            ("GET", app + guild + r"/commands/(?P<command>\d+)", self._get_command),
            ("PATCH", app + guild + r"/commands/(?P<command>\d+)", self._edit_command),
            ("DELETE", app + guild + r"/commands/(?P<command>\d+)", self._delete_command),
            ("POST", r"/interactions/(?P<id>\d+)/(?P<token>[^/]+)/callback", self._callback),
            ("POST", hook, self._followup),
            ("GET", hook + r"/messages/(?P<message>@original|\d+)", self._get_hook_message),
            ("PATCH", hook + r"/messages/(?P<message>@original|\d+)", self._edit_hook_message),
            ("DELETE", hook + r"/messages/(?P<message>@original|\d+)", self._delete_hook_message),
            ("GET", channel, self._get_channel),
            ("PATCH", channel, self._edit_channel),
            ("DELETE", channel, self._delete_channel),
            ("GET", channel + r"/messages", self._list_messages),
            ("POST", channel + r"/messages", self._create_message),
            ("GET", channel + r"/messages/(?P<message>\d+)", self._get_message),
            ("PATCH", channel + r"/messages/(?P<message>\d+)", self._edit_message),
            ("DELETE", channel + r"/messages/(?P<message>\d+)", self._delete_message),
            ("POST", channel + r"/threads", self._create_thread),
            ("POST", channel + r"/messages/(?P<message>\d+)/threads", self._create_thread),
            ("*", channel + r"/messages/(?P<message>\d+)/reactions/.*", self._no_content),
            ("*", channel + r"/(?:thread-members|pins)/.*", self._no_content),
            ("POST", channel + r"/typing", self._no_content),
            ("GET", guild, self._get_guild),
            ("GET", guild + r"/channels", self._get_guild_channels),
            ("GET", guild + r"/roles", self._get_roles),
            ("GET", guild + r"/members", self._list_members),
            ("GET", guild + r"/members/(?P<user>\d+)", self._get_member),
            ("PATCH", guild + r"/members/(?P<user>\d+)", self._edit_member),
            ("DELETE", guild + r"/members/(?P<user>\d+)", self._kick_member),
            ("PUT", guild + r"/members/(?P<user>\d+)/roles/(?P<role>\d+)", self._add_role),
            ("DELETE", guild + r"/members/(?P<user>\d+)/roles/(?P<role>\d+)", self._remove_role),
            ("GET", guild + r"/bans", self._list_bans),
            ("GET", guild + r"/bans/(?P<user>\d+)", self._get_ban),
            ("PUT", guild + r"/bans/(?P<user>\d+)", self._ban),
            ("DELETE", guild + r"/bans/(?P<user>\d+)", self._unban),
            ("GET", guild + r"/scheduled-events", self._list_events),
            ("POST", guild + r"/scheduled-events", self._create_event),
            ("GET", guild + r"/scheduled-events/(?P<event>\d+)", self._get_event),
            ("PATCH", guild + r"/scheduled-events/(?P<event>\d+)", self._edit_event),
            ("DELETE", guild + r"/scheduled-events/(?P<event>\d+)", self._delete_event),
            ("GET", guild + r"/scheduled-events/(?P<event>\d+)/users", self._empty_list),
        ]

    async def _handle_rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        for held in self.holds:
            if held.matches(request.method, path):
                held.arrived += 1
                self._notify()
                await held.released.wait()
        body, files = await self._read_body(request)
        incoming = _Request(
            method=request.method,
            path=path,
            query=dict(request.query),
            body=body,
            files=files,
            audit_reason=request.headers.get("X-Audit-Log-Reason"),
        )
        reply = await self._route(incoming, request.headers.get("Authorization"))
        call = RecordedCall(
            method=incoming.method,
            path=path,
            query=incoming.query,
            body=body,
            status=reply.status,
            response=reply.body,
            at=self.now(),
            audit_reason=incoming.audit_reason,
            files=tuple(f["filename"] for f in files),
            file_texts=tuple(f["text"] for f in files),
        )
        self.calls.append(call)
        if incoming.interaction is not None:
            incoming.interaction.callbacks.append(call)
        self._notify()
        if reply.body is None:
            return web.Response(status=reply.status, headers=reply.headers)
        # Exactly "application/json": discord.py compares the header without parsing it.
        headers = {**reply.headers, "Content-Type": "application/json"}
        return web.Response(
            status=reply.status, body=json.dumps(reply.body).encode(), headers=headers
        )

    async def _read_body(self, request: web.Request) -> tuple[Any, list[Json]]:
        if not request.can_read_body:
            return None, []
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body: Any = None
            files: list[Json] = []
            for key, value in form.items():
                if key == "payload_json":
                    body = json.loads(str(value))
                elif isinstance(value, web.FileField):
                    content = value.file.read()
                    files.append(
                        {
                            "filename": value.filename,
                            "size": len(content),
                            "content_type": value.content_type,
                            "text": content.decode("utf-8", "replace"),
                        }
                    )
            return body, files
        text = await request.text()
        return (json.loads(text) if text else None), []

    async def _route(self, incoming: _Request, authorization: str | None) -> _Reply:
        for rule in self.error_rules:
            if rule.matches(incoming.method, incoming.path):
                rule.remaining -= 1
                if rule.applied:
                    await self._route_to_handler(incoming, authorization)
                return _Reply(rule.status, copy.deepcopy(rule.body), dict(rule.headers))
        return await self._route_to_handler(incoming, authorization)

    async def _route_to_handler(self, incoming: _Request, authorization: str | None) -> _Reply:
        needs_auth = not incoming.path.startswith(("/interactions/", "/webhooks/"))
        if needs_auth and authorization != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(incoming.path)
            if match is not None and method in {incoming.method, "*"}:
                return await handler(incoming, match)
        return _error(404, 0, "404: Not Found")

    # -- REST: identity ----------------------------------------------------------------------

    async def _get_me(self, req: _Request, match: re.Match[str]) -> _Reply:
        return _Reply(body=self.user_payload(self.bot_user))

    async def _get_user(self, req: _Request, match: re.Match[str]) -> _Reply:
        user = self.users.get(int(match["user"]))
        if user is None:
            return _error(404, 10013, "Unknown User")
        return _Reply(body=self.user_payload(user))

    async def _get_application(self, req: _Request, match: re.Match[str]) -> _Reply:
        return _Reply(
            body={
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "",
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": self.user_payload(self.owner),
                "verify_key": "0" * 64,
                "flags": 0,
                "bot": self.user_payload(self.bot_user),
                "interactions_endpoint_url": None,
                "redirect_uris": [],
            }
        )

    async def _get_gateway(self, req: _Request, match: re.Match[str]) -> _Reply:
        return _Reply(
            body={
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _create_dm(self, req: _Request, match: re.Match[str]) -> _Reply:
        recipient = self.users.get(int((req.body or {}).get("recipient_id", 0)))
        if recipient is None:
            return _error(404, 10013, "Unknown User")
        for channel in self.channels.values():
            if channel["type"] == 1 and channel["recipients"][0]["id"] == str(recipient.id):
                return _Reply(body=channel)
        channel_id = self._snowflake()
        self.channels[channel_id] = {
            "id": str(channel_id),
            "type": 1,
            "recipients": [self.user_payload(recipient)],
            "last_message_id": None,
            "flags": 0,
        }
        return _Reply(body=self.channels[channel_id])

    # -- REST: application commands ----------------------------------------------------------

    def _command_scope(self, match: re.Match[str]) -> tuple[list[Json] | None, int | None]:
        if int(match["app"]) != self.application_id:
            return None, None
        guild = match.groupdict().get("guild")
        if guild is None:
            return self.global_commands, None
        if int(guild) != self.guild_id:
            return None, None
        return self.guild_commands.setdefault(self.guild_id, []), self.guild_id

    async def _list_commands(self, req: _Request, match: re.Match[str]) -> _Reply:
        commands, _ = self._command_scope(match)
        if commands is None:
            return _error(404, 10002, "Unknown Application")
        return _Reply(body=commands)

    async def _overwrite_commands(self, req: _Request, match: re.Match[str]) -> _Reply:
        commands, guild_id = self._command_scope(match)
        if commands is None:
            return _error(404, 10002, "Unknown Application")
        payload = req.body if isinstance(req.body, list) else []
        problem = self._validate_commands(payload)
        if problem is not None:
            return problem
        known = {(c["name"], c["type"]): c["id"] for c in commands}
        stored = [self._store_command(c, guild_id, known) for c in payload]
        commands[:] = stored
        return _Reply(body=stored)

    async def _upsert_command(self, req: _Request, match: re.Match[str]) -> _Reply:
        commands, guild_id = self._command_scope(match)
        if commands is None:
            return _error(404, 10002, "Unknown Application")
        candidate = req.body or {}
        replaced = [
            c
            for c in commands
            if (c["name"], c["type"]) != (candidate.get("name"), candidate.get("type", 1))
        ]
        problem = self._validate_commands([*replaced, candidate])
        if problem is not None:
            return problem
        known = {(c["name"], c["type"]): c["id"] for c in commands}
        created = self._store_command(candidate, guild_id, known)
        status = 200 if (created["name"], created["type"]) in known else 201
        commands[:] = [*replaced, created]
        return _Reply(status, created)

    async def _get_command(self, req: _Request, match: re.Match[str]) -> _Reply:
        commands, _ = self._command_scope(match)
        command = next((c for c in commands or [] if c["id"] == match["command"]), None)
        if command is None:
            return _error(404, 10063, "Unknown application command")
        return _Reply(body=command)

    async def _edit_command(self, req: _Request, match: re.Match[str]) -> _Reply:
        commands, _ = self._command_scope(match)
        command = next((c for c in commands or [] if c["id"] == match["command"]), None)
        if command is None:
            return _error(404, 10063, "Unknown application command")
        command.update({k: v for k, v in (req.body or {}).items() if k not in {"id", "type"}})
        command["version"] = str(self._snowflake())
        return _Reply(body=command)

    async def _delete_command(self, req: _Request, match: re.Match[str]) -> _Reply:
        commands, _ = self._command_scope(match)
        if commands is None or not any(c["id"] == match["command"] for c in commands):
            return _error(404, 10063, "Unknown application command")
        commands[:] = [c for c in commands if c["id"] != match["command"]]
        return _Reply(204)

    def _store_command(
        self, command: Json, guild_id: int | None, known: Mapping[tuple[str, int], str]
    ) -> Json:
        kind = int(command.get("type", 1))
        stored: Json = {
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "nsfw": False,
            **copy.deepcopy(command),
            "type": kind,
            "id": known.get((command["name"], kind)) or str(self._snowflake()),
            "application_id": str(self.application_id),
            "version": str(self._snowflake()),
        }
        if stored["default_member_permissions"] is not None:
            stored["default_member_permissions"] = str(stored["default_member_permissions"])
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        return stored

    def _validate_commands(self, commands: Sequence[Json]) -> _Reply | None:
        seen: set[tuple[str, int]] = set()
        per_type: dict[int, int] = {}
        for index, command in enumerate(commands):
            kind = int(command.get("type", 1))
            name = str(command.get("name", ""))
            if (name, kind) in seen:
                return _form_error(
                    [index, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate name"
                )
            seen.add((name, kind))
            per_type[kind] = per_type.get(kind, 0) + 1
            if per_type[kind] > (100 if kind == 1 else 15):
                return _form_error([], "APPLICATION_COMMAND_TOO_MANY", "Too many commands")
            if kind == 1:
                problem = self._validate_chat_input(command, [index])
                if problem is not None:
                    return problem
            elif not 1 <= len(name) <= 32 or command.get("description"):
                return _form_error(
                    [index, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Invalid context menu"
                )
        return None

    def _validate_chat_input(self, item: Json, where: list[str | int]) -> _Reply | None:
        name = str(item.get("name", ""))
        if not _CHAT_INPUT_NAME.fullmatch(name) or name != name.lower():
            return _form_error(
                [*where, "name"], "APPLICATION_COMMAND_INVALID_NAME", f"Invalid name {name!r}"
            )
        if not 1 <= len(str(item.get("description", ""))) <= 100:
            return _form_error(
                [*where, "description"], "BASE_TYPE_BAD_LENGTH", "Must be 1-100 characters"
            )
        options: list[Json] = item.get("options") or []
        if len(options) > 25:
            return _form_error([*where, "options"], "BASE_TYPE_MAX_LENGTH", "At most 25")
        seen_optional = False
        for index, option in enumerate(options):
            problem = self._validate_chat_input(option, [*where, "options", index])
            if problem is not None:
                return problem
            if len(option.get("choices") or []) > 25:
                return _form_error(
                    [*where, "options", index, "choices"], "BASE_TYPE_MAX_LENGTH", "At most 25"
                )
            if option.get("type") in (1, 2):
                continue
            if option.get("required"):
                if seen_optional:
                    return _form_error(
                        [*where, "options", index],
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
        return None

    # -- REST: interaction responses ---------------------------------------------------------

    async def _callback(self, req: _Request, match: re.Match[str]) -> _Reply:
        record = self.interactions.get(int(match["id"]))
        if record is None or record.token != match["token"]:
            return _error(404, 10062, "Unknown interaction")
        req.interaction = record
        if self.now() - record.pushed_at > self.deadline:
            return _error(404, 10062, "Unknown interaction")
        if record.acknowledged:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = req.body or {}
        kind = int(body.get("type", 0))
        if kind not in _ALLOWED_CALLBACKS.get(record.type, frozenset()):
            return _form_error(["type"], "INTERACTION_CALLBACK_TYPE_INVALID", "Invalid type")
        data: Json = body.get("data") or {}
        if kind in (4, 7):
            problem = _check_components(data.get("components") or [], ["data"])
            if problem is not None:
                return problem
        record.response_type = kind
        record.response = body
        flags = int(data.get("flags") or 0)
        summary: Json = {
            "id": str(record.id),
            "type": record.type,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(flags & EPHEMERAL),
        }
        reply: Json = {"interaction": summary}
        message: Json | None = None
        if kind in (4, 5):
            content = data if kind == 4 else {"flags": flags | LOADING}
            message = self._store_message(
                int(record.payload["channel_id"]), content, interaction=record, files=req.files
            )
        elif kind in (6, 7) and "message" in record.payload:
            message = self.messages.get(int(record.payload["message"]["id"]))
            if message is not None and kind == 7:
                self._apply_edit(message, data, req.files)
        if message is not None:
            record.original_message_id = int(message["id"])
            summary["response_message_id"] = message["id"]
            reply["resource"] = {"type": kind, "message": message}
        elif kind != 9:
            reply["resource"] = {"type": kind}
        return _Reply(body=reply)

    def _hook_record(self, match: re.Match[str]) -> InteractionRecord | _Reply:
        record = self._by_token.get(match["token"])
        if record is None or int(match["app"]) != self.application_id:
            return _error(404, 10015, "Unknown Webhook")
        if self.now() - record.pushed_at > self.token_lifetime:
            return _error(401, 50027, "Invalid Webhook Token")
        if not record.acknowledged:
            return _error(404, 10015, "Unknown Webhook")
        return record

    def _hook_message(self, record: InteractionRecord, which: str) -> Json | None:
        if which == "@original":
            message_id = record.original_message_id
        else:
            message_id = int(which)
            if message_id not in (record.original_message_id, *record.followup_ids):
                return None
        return self.messages.get(message_id) if message_id is not None else None

    async def _followup(self, req: _Request, match: re.Match[str]) -> _Reply:
        record = self._hook_record(match)
        if isinstance(record, _Reply):
            return record
        problem = _check_components((req.body or {}).get("components") or [], [])
        if problem is not None:
            return problem
        message = self._store_message(
            int(record.payload["channel_id"]), req.body or {}, interaction=record, files=req.files
        )
        record.followup_ids.append(int(message["id"]))
        if req.query.get("wait") in {"1", "true", "True"}:
            return _Reply(body=message)
        return _Reply(204)

    async def _get_hook_message(self, req: _Request, match: re.Match[str]) -> _Reply:
        record = self._hook_record(match)
        if isinstance(record, _Reply):
            return record
        message = self._hook_message(record, match["message"])
        if message is None:
            return _error(404, 10008, "Unknown Message")
        return _Reply(body=message)

    async def _edit_hook_message(self, req: _Request, match: re.Match[str]) -> _Reply:
        record = self._hook_record(match)
        if isinstance(record, _Reply):
            return record
        message = self._hook_message(record, match["message"])
        if message is None:
            return _error(404, 10008, "Unknown Message")
        problem = _check_components((req.body or {}).get("components") or [], [])
        if problem is not None:
            return problem
        self._apply_edit(message, req.body or {}, req.files)
        return _Reply(body=message)

    async def _delete_hook_message(self, req: _Request, match: re.Match[str]) -> _Reply:
        record = self._hook_record(match)
        if isinstance(record, _Reply):
            return record
        message = self._hook_message(record, match["message"])
        if message is None:
            return _error(404, 10008, "Unknown Message")
        del self.messages[int(message["id"])]
        return _Reply(204)

    # -- REST: channels and messages ---------------------------------------------------------

    def _store_message(
        self,
        channel_id: int,
        body: Json,
        *,
        author: FakeUser | None = None,
        interaction: InteractionRecord | None = None,
        files: Sequence[Json] = (),
    ) -> Json:
        message_id = self._snowflake()
        kind = 0
        if interaction is not None and interaction.type == APPLICATION_COMMAND:
            kind = 20
        elif body.get("message_reference"):
            kind = 19
        message: Json = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "type": kind,
            "content": body.get("content") or "",
            "author": self.user_payload(author or self.bot_user),
            "tts": bool(body.get("tts")),
            "embeds": copy.deepcopy(body.get("embeds") or []),
            "components": copy.deepcopy(body.get("components") or []),
            "attachments": self._attachments(files),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "timestamp": _iso(self._wall()),
            "edited_timestamp": None,
            "flags": int(body.get("flags") or 0),
        }
        if self.channels.get(channel_id, {}).get("type") != 1:
            message["guild_id"] = str(self.guild_id)
        if interaction is not None:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        self.messages[message_id] = message
        if channel_id in self.channels:
            self.channels[channel_id]["last_message_id"] = str(message_id)
        return message

    def _attachments(self, files: Sequence[Json]) -> list[Json]:
        attachments = []
        for file in files:
            attachment_id = self._snowflake()
            url = f"{self.base_url}/attachments/{attachment_id}/{file['filename']}"
            attachments.append(
                {
                    "id": str(attachment_id),
                    "filename": file["filename"],
                    "size": file["size"],
                    "content_type": file["content_type"],
                    "url": url,
                    "proxy_url": url,
                }
            )
        return attachments

    def _apply_edit(self, message: Json, body: Json, files: Sequence[Json]) -> None:
        was_loading = bool(message["flags"] & LOADING)
        if "content" in body:
            message["content"] = body["content"] or ""
        for key in ("embeds", "components"):
            if key in body:
                message[key] = copy.deepcopy(body[key] or [])
        if body.get("flags") is not None:
            message["flags"] = int(body["flags"]) | (message["flags"] & EPHEMERAL)
        if "attachments" in body:
            keep = {str(a.get("id")) for a in body["attachments"] or []}
            message["attachments"] = [a for a in message["attachments"] if a["id"] in keep]
        message["attachments"] += self._attachments(files)
        message["flags"] &= ~LOADING
        if not was_loading:
            message["edited_timestamp"] = _iso(self._wall())

    def _known_channel(self, match: re.Match[str]) -> Json | _Reply:
        channel = self.channels.get(int(match["channel"]))
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        return channel

    def _channel_message(self, match: re.Match[str]) -> Json | _Reply:
        channel = self._known_channel(match)
        if isinstance(channel, _Reply):
            return channel
        message = self.messages.get(int(match["message"]))
        if message is None or message["channel_id"] != channel["id"]:
            return _error(404, 10008, "Unknown Message")
        return message

    async def _get_channel(self, req: _Request, match: re.Match[str]) -> _Reply:
        channel = self._known_channel(match)
        return channel if isinstance(channel, _Reply) else _Reply(body=channel)

    async def _edit_channel(self, req: _Request, match: re.Match[str]) -> _Reply:
        channel = self._known_channel(match)
        if isinstance(channel, _Reply):
            return channel
        body: Json = req.body or {}
        metadata = channel.get("thread_metadata")
        for key, value in body.items():
            if metadata is not None and key in {"archived", "locked", "auto_archive_duration"}:
                metadata[key] = value
            else:
                channel[key] = value
        if channel["type"] in (11, 12):
            await self._dispatch_if_connected("THREAD_UPDATE", channel)
        return _Reply(body=channel)

    async def _delete_channel(self, req: _Request, match: re.Match[str]) -> _Reply:
        channel = self._known_channel(match)
        if isinstance(channel, _Reply):
            return channel
        del self.channels[int(channel["id"])]
        return _Reply(body=channel)

    async def _list_messages(self, req: _Request, match: re.Match[str]) -> _Reply:
        channel = self._known_channel(match)
        if isinstance(channel, _Reply):
            return channel
        limit = int(req.query.get("limit", "50"))
        newest_first = list(reversed(self.channel_messages(int(channel["id"]))))
        return _Reply(body=newest_first[:limit])

    async def _create_message(self, req: _Request, match: re.Match[str]) -> _Reply:
        channel = self._known_channel(match)
        if isinstance(channel, _Reply):
            return channel
        if channel["type"] == 1 and int(channel["recipients"][0]["id"]) in self.dm_blocked:
            return _error(403, 50007, "Cannot send messages to this user")
        body: Json = req.body or {}
        if not (body.get("content") or body.get("embeds") or body.get("components") or req.files):
            return _error(400, 50006, "Cannot send an empty message")
        problem = _check_components(body.get("components") or [], [])
        if problem is not None:
            return problem
        nonce = body.get("nonce")
        key = (self.bot_user.id, str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            # Discord's rule: the same author and nonce within a few minutes get the message
            # made the first time (or 404 if it was deleted), never a second one.
            seen = self._nonces.get(key)
            if seen is not None and self.now() - seen[1] < NONCE_WINDOW:
                existing = self.messages.get(seen[0])
                if existing is None:
                    return _error(404, 10008, "Unknown Message")
                return _Reply(body=existing)
        message = self._store_message(int(channel["id"]), body, files=req.files)
        if nonce is not None:
            message["nonce"] = nonce
            if body.get("enforce_nonce"):
                self._nonces[key] = (int(message["id"]), self.now())
        return _Reply(body=message)

    async def _get_message(self, req: _Request, match: re.Match[str]) -> _Reply:
        message = self._channel_message(match)
        return message if isinstance(message, _Reply) else _Reply(body=message)

    async def _edit_message(self, req: _Request, match: re.Match[str]) -> _Reply:
        message = self._channel_message(match)
        if isinstance(message, _Reply):
            return message
        if message["author"]["id"] != str(self.bot_user.id):
            return _error(403, 50005, "Cannot edit a message authored by another user")
        problem = _check_components((req.body or {}).get("components") or [], [])
        if problem is not None:
            return problem
        self._apply_edit(message, req.body or {}, req.files)
        return _Reply(body=message)

    async def _delete_message(self, req: _Request, match: re.Match[str]) -> _Reply:
        message = self._channel_message(match)
        if isinstance(message, _Reply):
            return message
        del self.messages[int(message["id"])]
        return _Reply(204)

    async def _create_thread(self, req: _Request, match: re.Match[str]) -> _Reply:
        parent = self._known_channel(match)
        if isinstance(parent, _Reply):
            return parent
        body: Json = req.body or {}
        if not body.get("name"):
            return _form_error(["name"], "BASE_TYPE_REQUIRED", "This field is required")
        starter = match.groupdict().get("message")
        if starter is not None and int(starter) not in self.messages:
            return _error(404, 10008, "Unknown Message")
        thread_id = int(starter) if starter is not None else self._snowflake()
        thread: Json = {
            "id": str(thread_id),
            "guild_id": str(self.guild_id),
            "parent_id": parent["id"],
            "owner_id": str(self.bot_user.id),
            "name": body["name"],
            "type": int(body.get("type") or 11),
            "last_message_id": None,
            "rate_limit_per_user": int(body.get("rate_limit_per_user") or 0),
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": int(body.get("auto_archive_duration") or 1440),
                "archive_timestamp": _iso(self._wall()),
                "locked": False,
                "create_timestamp": _iso(self._wall()),
            },
        }
        self.channels[thread_id] = thread
        await self._dispatch_if_connected("THREAD_CREATE", {**thread, "newly_created": True})
        return _Reply(201, thread)

    async def _no_content(self, req: _Request, match: re.Match[str]) -> _Reply:
        channel = self._known_channel(match)
        return channel if isinstance(channel, _Reply) else _Reply(204)

    # -- REST: guild, members, moderation ----------------------------------------------------

    def _guild_member(self, match: re.Match[str]) -> FakeUser | _Reply:
        if int(match["guild"]) != self.guild_id:
            return _error(404, 10004, "Unknown Guild")
        user = self.users.get(int(match["user"]))
        if user is None:
            return _error(404, 10013, "Unknown User")
        return user

    def _protected(self, user: FakeUser) -> bool:
        return user.id == self.owner.id or bool(self.permissions_of(user) & ADMINISTRATOR)

    async def _get_guild(self, req: _Request, match: re.Match[str]) -> _Reply:
        if int(match["guild"]) != self.guild_id:
            return _error(404, 10004, "Unknown Guild")
        return _Reply(body=self.guild_payload(full=False))

    async def _get_guild_channels(self, req: _Request, match: re.Match[str]) -> _Reply:
        channels = self.guild_payload()["channels"]
        return _Reply(body=channels)

    async def _get_roles(self, req: _Request, match: re.Match[str]) -> _Reply:
        return _Reply(body=[self._role_payload(r) for r in self.roles.values()])

    async def _list_members(self, req: _Request, match: re.Match[str]) -> _Reply:
        limit = int(req.query.get("limit", "1"))
        members = [self.member_payload(self.users[uid]) for uid in self._members]
        return _Reply(body=members[:limit])

    async def _get_member(self, req: _Request, match: re.Match[str]) -> _Reply:
        user = self._guild_member(match)
        if isinstance(user, _Reply):
            return user
        if not self.is_member(user.id):
            return _error(404, 10007, "Unknown Member")
        return _Reply(body=self.member_payload(user))

    async def _edit_member(self, req: _Request, match: re.Match[str]) -> _Reply:
        user = self._guild_member(match)
        if isinstance(user, _Reply):
            return user
        state = self._members.get(user.id)
        if state is None:
            return _error(404, 10007, "Unknown Member")
        body: Json = req.body or {}
        until = body.get("communication_disabled_until")
        if until is not None:
            if self._protected(user):
                return _error(403, 50013, "Missing Permissions")
            if datetime.fromisoformat(until) - self._wall() > _MAX_TIMEOUT:
                return _form_error(
                    ["communication_disabled_until"],
                    "BASE_TYPE_BAD_TIME",
                    "Timeouts may not exceed 28 days",
                )
        if "communication_disabled_until" in body:
            state.communication_disabled_until = until
        if "nick" in body:
            state.nick = body["nick"]
        if "roles" in body:
            state.roles = [int(r) for r in body["roles"]]
        return _Reply(body=self.member_payload(user))

    async def _kick_member(self, req: _Request, match: re.Match[str]) -> _Reply:
        user = self._guild_member(match)
        if isinstance(user, _Reply):
            return user
        if not self.is_member(user.id):
            return _error(404, 10007, "Unknown Member")
        if self._protected(user):
            return _error(403, 50013, "Missing Permissions")
        del self._members[user.id]
        return _Reply(204)

    async def _add_role(self, req: _Request, match: re.Match[str]) -> _Reply:
        user = self._guild_member(match)
        if isinstance(user, _Reply):
            return user
        role_id = int(match["role"])
        if role_id not in self.roles:
            return _error(404, 10011, "Unknown Role")
        state = self._members.get(user.id)
        if state is None:
            return _error(404, 10007, "Unknown Member")
        if role_id not in state.roles:
            state.roles.append(role_id)
        return _Reply(204)

    async def _remove_role(self, req: _Request, match: re.Match[str]) -> _Reply:
        user = self._guild_member(match)
        if isinstance(user, _Reply):
            return user
        state = self._members.get(user.id)
        if state is None:
            return _error(404, 10007, "Unknown Member")
        state.roles = [r for r in state.roles if r != int(match["role"])]
        return _Reply(204)

    async def _list_bans(self, req: _Request, match: re.Match[str]) -> _Reply:
        return _Reply(body=list(self.bans.values()))

    async def _get_ban(self, req: _Request, match: re.Match[str]) -> _Reply:
        ban = self.bans.get(int(match["user"]))
        if ban is None:
            return _error(404, 10026, "Unknown Ban")
        return _Reply(body=ban)

    async def _ban(self, req: _Request, match: re.Match[str]) -> _Reply:
        user = self._guild_member(match)
        if isinstance(user, _Reply):
            return user
        if self._protected(user):
            return _error(403, 50013, "Missing Permissions")
        self.bans[user.id] = {"user": self.user_payload(user), "reason": req.audit_reason}
        self._members.pop(user.id, None)
        return _Reply(204)

    async def _unban(self, req: _Request, match: re.Match[str]) -> _Reply:
        if self.bans.pop(int(match["user"]), None) is None:
            return _error(404, 10026, "Unknown Ban")
        return _Reply(204)

    # -- REST: scheduled events --------------------------------------------------------------

    async def _list_events(self, req: _Request, match: re.Match[str]) -> _Reply:
        return _Reply(body=list(self.scheduled_events.values()))

    async def _create_event(self, req: _Request, match: re.Match[str]) -> _Reply:
        if int(match["guild"]) != self.guild_id:
            return _error(404, 10004, "Unknown Guild")
        body: Json = req.body or {}
        for required in ("name", "scheduled_start_time", "entity_type", "privacy_level"):
            if body.get(required) is None:
                return _form_error([required], "BASE_TYPE_REQUIRED", "This field is required")
        if datetime.fromisoformat(body["scheduled_start_time"]) < self._wall():
            return _form_error(
                ["scheduled_start_time"],
                "GUILD_SCHEDULED_EVENT_SCHEDULED_START_TIME_IN_PAST",
                "Cannot schedule event in the past.",
            )
        if body["entity_type"] == 3 and not (
            (body.get("entity_metadata") or {}).get("location") and body.get("scheduled_end_time")
        ):
            return _form_error(
                ["entity_metadata"],
                "BASE_TYPE_REQUIRED",
                "External events need a location and an end time",
            )
        event_id = self._snowflake()
        event: Json = {
            "scheduled_end_time": None,
            "description": None,
            "channel_id": None,
            "entity_metadata": None,
            "image": None,
            **body,
            "id": str(event_id),
            "guild_id": str(self.guild_id),
            "creator_id": str(self.bot_user.id),
            "creator": self.user_payload(self.bot_user),
            "status": 1,
            "entity_id": None,
            "user_count": 0,
        }
        self.scheduled_events[event_id] = event
        await self._dispatch_if_connected("GUILD_SCHEDULED_EVENT_CREATE", event)
        return _Reply(body=event)

    async def _get_event(self, req: _Request, match: re.Match[str]) -> _Reply:
        event = self.scheduled_events.get(int(match["event"]))
        if event is None:
            return _error(404, 10070, "Unknown Guild Scheduled Event")
        return _Reply(body=event)

    async def _edit_event(self, req: _Request, match: re.Match[str]) -> _Reply:
        event = self.scheduled_events.get(int(match["event"]))
        if event is None:
            return _error(404, 10070, "Unknown Guild Scheduled Event")
        event.update({k: v for k, v in (req.body or {}).items() if k not in {"id", "guild_id"}})
        await self._dispatch_if_connected("GUILD_SCHEDULED_EVENT_UPDATE", event)
        return _Reply(body=event)

    async def _delete_event(self, req: _Request, match: re.Match[str]) -> _Reply:
        event = self.scheduled_events.pop(int(match["event"]), None)
        if event is None:
            return _error(404, 10070, "Unknown Guild Scheduled Event")
        await self._dispatch_if_connected("GUILD_SCHEDULED_EVENT_DELETE", event)
        return _Reply(204)

    async def _empty_list(self, req: _Request, match: re.Match[str]) -> _Reply:
        return _Reply(body=[])


def _check_components(rows: Sequence[Json], where: list[str | int]) -> _Reply | None:
    """Refuse components Discord refuses: too many rows, a crowded row, over-long fields."""
    if len(rows) > _MAX_ROWS:
        return _form_error([*where, "components"], "BASE_TYPE_MAX_LENGTH", "At most 5 rows")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        at: list[str | int] = [*where, "components", r, "components"]
        items: list[Json] = row.get("components") or []
        width = sum(_ROW_WIDTH if item.get("type") in _SELECT_TYPES else 1 for item in items)
        if row.get("type") != 1 or not items or width > _ROW_WIDTH:
            return _form_error(at, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "A row is 5 wide")
        for i, item in enumerate(items):
            custom_id = str(item.get("custom_id") or "")
            if custom_id and (custom_id in seen or len(custom_id) > _CUSTOM_ID_LIMIT):
                return _form_error([*at, i, "custom_id"], "COMPONENT_CUSTOM_ID", "Bad custom_id")
            seen.add(custom_id)
            if item.get("type") == 2 and len(str(item.get("label") or "")) > _BUTTON_LABEL_LIMIT:
                return _form_error([*at, i, "label"], "BASE_TYPE_BAD_LENGTH", "Label too long")
            if item.get("type") == 3:
                problem = _check_select(item, [*at, i])
                if problem is not None:
                    return problem
    return None


def _check_select(menu: Json, where: list[str | int]) -> _Reply | None:
    options: list[Json] = menu.get("options") or []
    values = [str(o.get("value") or "") for o in options]
    low, high = int(menu.get("min_values", 1)), int(menu.get("max_values", 1))
    if not 1 <= len(options) <= _SELECT_OPTIONS:
        return _form_error([*where, "options"], "BASE_TYPE_BAD_LENGTH", "1 to 25 options")
    if len(set(values)) != len(values):
        return _form_error([*where, "options"], "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "")
    for n, option in enumerate(options):
        for key in ("label", "value"):
            if not 1 <= len(str(option.get(key) or "")) <= _OPTION_TEXT_LIMIT:
                return _form_error(
                    [*where, "options", n, key], "BASE_TYPE_BAD_LENGTH", "1 to 100 characters"
                )
    if not (0 <= low <= high <= len(options)) or high < 1:
        return _form_error([*where, "max_values"], "BASE_TYPE_BAD_LENGTH", "Bad value count")
    if len(str(menu.get("placeholder") or "")) > _SELECT_PLACEHOLDER_LIMIT:
        return _form_error([*where, "placeholder"], "BASE_TYPE_BAD_LENGTH", "Too long")
    return None


def _check_picks(menu: Json, values: Sequence[str]) -> None:
    """Refuse picks a Discord client could not make in this menu."""
    offered = {str(o["value"]) for o in menu.get("options") or []}
    low, high = int(menu.get("min_values", 1)), int(menu.get("max_values", 1))
    if not set(values) <= offered:
        raise ValueError(f"{sorted(set(values) - offered)} are not options of the menu")
    if not low <= len(values) <= high or len(set(values)) != len(values):
        raise ValueError(f"a menu of {low} to {high} picks cannot carry {list(values)}")


@contextlib.contextmanager
def point_discord_py_at(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base and gateway at ``fake``; restore them on exit."""
    saved_base = discord.http.Route.BASE
    saved_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = saved_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved_gateway
