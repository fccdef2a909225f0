"""The command table every front end is built from, and the `/gov` text parser."""

from __future__ import annotations

import difflib
import re
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from govbot import metrics
from govbot.domain.durations import parse_duration, parse_time
from govbot.i18n import LANGUAGES, translate
from govbot.replies import Reply, Visibility
from govbot.services import Store, audit_log, bodies, community, runner
from govbot.services.base import Args, Caller, ChannelRef, Context, Handler, MemberRef


class Kind(StrEnum):
    """What a parameter's value is; front ends map these to their own option types."""

    TEXT = "text"
    BODY = "body"
    MEMBER = "member"
    CHANNEL = "channel"
    CHOICE = "choice"
    BOOL = "bool"
    INT = "int"
    DURATION = "duration"
    TIME = "time"
    TIMEZONE = "timezone"


@dataclass(frozen=True)
class Param:
    """One parameter: positional or key:value, its kind, and whether it is required."""

    name: str
    kind: Kind
    positional: bool = False
    required: bool = False
    choices: tuple[str, ...] = ()
    placeholder: str = ""

    def shape(self) -> str:
        """Render the value part of the usage line: `<body>`, `yes|no`, `Area/City`."""
        if self.choices:
            return "|".join(self.choices)
        return self.placeholder or f"<{self.kind.value}>"

    def usage(self) -> str:
        """Render this parameter as the usage line shows it."""
        text = self.shape() if self.positional else f"{self.name}:{self.shape()}"
        return text if self.required else f"[{text}]"


@dataclass(frozen=True)
class Command:
    """One `/gov <group> <action>`: its parameters and the use case it runs."""

    group: str
    action: str
    params: tuple[Param, ...]
    handler: Handler
    form: bool = False  # front ends may offer a modal for it

    @property
    def name(self) -> str:
        """Return `group action` (just `help` for the one command without an action)."""
        return f"{self.group} {self.action}".strip()

    def usage(self) -> str:
        """Render the usage line, e.g. `/gov body add <body> <member> [role:member|chair]`."""
        return " ".join(["/gov", self.name, *(p.usage() for p in self.params)])

    def param(self, name: str) -> Param | None:
        """Find a parameter by name."""
        return next((p for p in self.params if p.name == name), None)


YES_NO = ("yes", "no")


def _p(name: str, kind: Kind, **options: Any) -> Param:
    return Param(name, kind, **options)


def _body(required: bool = True) -> Param:
    return Param("body", Kind.BODY, positional=True, required=required, placeholder="<body>")


def _member() -> Param:
    return Param("member", Kind.MEMBER, positional=True, required=True, placeholder="<member>")


def _channel(name: str) -> Param:
    return Param(name, Kind.CHANNEL, placeholder="<channel>")


def _days(name: str) -> Param:
    return Param(name, Kind.INT, placeholder="<n>")


def describe_key(command: Command) -> str:
    """Return the catalog key of a command's one-line description."""
    return f"cmd.{command.group}.{command.action or 'all'}"


def _help(ctx: Context, args: Args) -> list[Reply]:
    """List the commands (of one group) with their usage lines."""
    group = args.text("group")
    if group is not None and group not in GROUPS:
        return [
            Reply(
                ctx.t("error.unknown_group", group=group, groups=", ".join(GROUPS)),
                Visibility.PRIVATE,
                error=True,
            )
        ]
    lines = [ctx.t("help.head")]
    for command in COMMANDS:
        if group is None or command.group == group:
            lines.append(f"`{command.usage()}`\n    {ctx.t(describe_key(command))}")
    return [Reply("\n".join(lines), Visibility.PRIVATE)]


COMMANDS: tuple[Command, ...] = (
    Command("help", "", (Param("group", Kind.TEXT, positional=True, placeholder="group"),), _help),
    Command(
        "setup",
        "init",
        (
            _p("language", Kind.CHOICE, choices=LANGUAGES),
            _p("timezone", Kind.TIMEZONE, placeholder="Area/City"),
        ),
        community.init_community,
    ),
    Command("setup", "show", (), community.show_settings),
    Command(
        "setup",
        "set",
        (
            _channel("announce"),
            _channel("moderation"),
            _channel("disputes"),
            _p("language", Kind.CHOICE, choices=LANGUAGES),
            _p("timezone", Kind.TIMEZONE, placeholder="Area/City"),
            _days("level1_days"),
            _days("level2_days"),
            _p("public_dispute_counts", Kind.BOOL, choices=YES_NO),
            _p("leaderboard", Kind.BOOL, choices=YES_NO),
        ),
        community.set_settings,
        form=True,
    ),
    Command(
        "body",
        "create",
        (
            _p("name", Kind.TEXT, required=True, placeholder="<slug>"),
            _p("kind", Kind.CHOICE, required=True, choices=("custom",)),
            _p("title", Kind.TEXT, placeholder="<text>"),
            _p("open", Kind.BOOL, choices=YES_NO),
        ),
        bodies.create_body,
    ),
    Command(
        "body",
        "add",
        (
            _body(),
            _member(),
            _p("role", Kind.CHOICE, choices=("member", "chair")),
            _p("until", Kind.TIME, placeholder="<time>"),
        ),
        bodies.add_member,
    ),
    Command("body", "remove", (_body(), _member()), bodies.remove_member),
    Command("body", "join", (_body(),), bodies.join_body),
    Command("body", "leave", (_body(),), bodies.leave_body),
    Command("body", "list", (), bodies.list_bodies),
    Command(
        "body", "show", (_body(), _p("history", Kind.BOOL, choices=("yes",))), bodies.show_body
    ),
    Command(
        "body",
        "term",
        (_body(), _p("length", Kind.DURATION, required=True, placeholder="<duration>")),
        bodies.set_term,
    ),
    Command(
        "audit",
        "log",
        (
            Param("kind", Kind.TEXT, positional=True, placeholder="<kind>"),
            Param("id", Kind.TEXT, positional=True, placeholder="<id>"),
        ),
        audit_log.show_log,
    ),
    Command("audit", "verify", (), audit_log.verify_chain),
    Command(
        "audit",
        "export",
        (_p("format", Kind.CHOICE, required=True, choices=("json", "csv")),),
        audit_log.export_chain,
    ),
)

GROUPS: tuple[str, ...] = tuple(dict.fromkeys(c.group for c in COMMANDS))
_BY_NAME = {c.name: c for c in COMMANDS}


def find(group: str, action: str) -> Command | None:
    """Look a command up by group and action."""
    return named(f"{group} {action}".strip())


def named(name: str) -> Command | None:
    """Look a command up by its full name (`setup set`, `help`)."""
    return _BY_NAME.get(name)


# --- the text grammar ----------------------------------------------------------------------

_FULL_WIDTH = str.maketrans({"：": ":", "“": '"', "”": '"', "，": ",", "＂": '"', "\u3000": " "})
# `<@id|name>` is how the Discord front end passes a resolved option's display name along.
_DISCORD_USER = re.compile(r"^<@!?(\d+)(?:\|(.+))?>$", re.DOTALL)
_SLACK_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_CONSOLE_USER = re.compile(r"^@([\w.\-]{1,64})$")
_CHANNEL = re.compile(r"^<#([A-Za-z0-9]+)(?:\|([^>]*))?>$")
_CONSOLE_CHANNEL = re.compile(r"^#([\w\-]{1,80})$")
_KEY = re.compile(r"^([a-z][a-z0-9_]*):(.*)$", re.DOTALL)


class UsageError(Exception):
    """The text does not fit the grammar or the command; carries the message key."""

    def __init__(self, key: str, command: Command | None = None, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.command = command
        self.params = params


@dataclass
class Invocation:
    """A parsed command: which entry of the table, with which arguments."""

    command: Command
    args: Args = field(default_factory=Args)


def tokenize(text: str) -> list[str]:
    """Split on spaces, keeping double-quoted runs whole (`\\"` is a quote inside them)."""
    tokens: list[str] = []
    current: list[str] = []
    quoted = in_token = False
    index = 0
    while index < len(text):
        char = text[index]
        if quoted and char == "\\" and index + 1 < len(text) and text[index + 1] == '"':
            current.append('"')
            index += 2
            continue
        if char == '"':
            quoted = not quoted
            in_token = True
        elif char.isspace() and not quoted:
            if in_token:
                tokens.append("".join(current))
                current, in_token = [], False
        else:
            current.append(char)
            in_token = True
        index += 1
    if quoted:
        raise UsageError("error.unclosed_quote")
    if in_token:
        tokens.append("".join(current))
    return tokens


def parse(text: str, now: datetime, platform: str) -> Invocation:
    """Parse `/gov <group> <action> [positional ...] [key:value ...]` into an invocation."""
    tokens = tokenize(text.translate(_FULL_WIDTH).strip())
    if tokens and tokens[0] == "/gov":
        tokens = tokens[1:]
    if not tokens:
        return Invocation(_BY_NAME["help"])
    group = tokens[0].lower()
    if group == "help":
        command, rest = _BY_NAME["help"], tokens[1:]
    else:
        action = tokens[1].lower() if len(tokens) > 1 else ""
        found = find(group, action)
        if found is None:
            raise UsageError(
                "error.unknown_command", nearest(group, action), command=f"{group} {action}".strip()
            )
        command, rest = found, tokens[2:]
    raw: dict[str, str] = {}
    positional = [p for p in command.params if p.positional]
    for token in rest:
        match = _KEY.match(token)
        param = command.param(match.group(1)) if match else None
        if match and param is not None and not param.positional:
            if param.name in raw:
                raise UsageError("error.repeated_key", command, key=param.name)
            raw[param.name] = match.group(2)
        elif match and param is None and not token.startswith("http"):
            raise UsageError("error.unknown_key", command, key=match.group(1))
        elif positional:
            raw[positional.pop(0).name] = token
        else:
            raise UsageError("error.extra_value", command, value=token)
    return Invocation(command, convert(command, raw, now, platform))


def convert(command: Command, raw: dict[str, str], now: datetime, platform: str) -> Args:
    """Check and convert raw text values; every front end passes through here."""
    values: dict[str, Any] = {}
    for param in command.params:
        if param.name not in raw:
            if param.required:
                raise UsageError("error.missing_value", command, name=param.name)
            continue
        values[param.name] = _value(command, param, raw[param.name].strip(), now, platform)
    return Args(values)


def _value(command: Command, param: Param, text: str, now: datetime, platform: str) -> Any:
    def bad() -> UsageError:
        return UsageError(
            "error.bad_value", command, name=param.name, value=text, shape=param.shape()
        )

    if text == "" and param.required:
        raise UsageError("error.missing_value", command, name=param.name)
    if param.choices and param.kind in (Kind.CHOICE, Kind.BOOL):
        lowered = text if param.name == "language" else text.lower()
        if lowered not in param.choices:
            raise bad()
        return lowered == "yes" if param.kind is Kind.BOOL else lowered
    converters: dict[Kind, Callable[[], Any]] = {
        Kind.TEXT: lambda: text,
        Kind.BODY: lambda: text.lower(),
        Kind.MEMBER: lambda: parse_member(text, platform),
        Kind.CHANNEL: lambda: parse_channel(text, platform),
        Kind.INT: lambda: int(text) if re.fullmatch(r"\d{1,9}", text) else None,
        Kind.DURATION: lambda: parse_duration(text),
        Kind.TIME: lambda: parse_time(text, now),
        Kind.TIMEZONE: lambda: text if _is_timezone(text) else None,
    }
    value = converters[param.kind]()
    if value is None:
        raise bad()
    return value


def parse_member(text: str, platform: str) -> MemberRef | None:
    """Read a member mention in the form the platform uses (console: `@name`)."""
    if platform == "console":
        match = _CONSOLE_USER.match(text)
        return MemberRef(match.group(1), match.group(1)) if match else None
    if match := _DISCORD_USER.match(text):
        return MemberRef(match.group(1), match.group(2) or None)
    if match := _SLACK_USER.match(text):
        return MemberRef(match.group(1), match.group(2) or None)
    return None


def parse_channel(text: str, platform: str) -> ChannelRef | None:
    """Read a channel reference (console: `#name`)."""
    if platform == "console":
        match = _CONSOLE_CHANNEL.match(text)
        return ChannelRef(match.group(1)) if match else None
    match = _CHANNEL.match(text)
    return ChannelRef(match.group(1)) if match else None


def _is_timezone(text: str) -> bool:
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def nearest(group: str, action: str) -> Command | None:
    """Find the command a mistyped one most likely meant."""
    names = list(_BY_NAME)
    match = difflib.get_close_matches(f"{group} {action}".strip(), names, n=1, cutoff=0.4)
    if match:
        return _BY_NAME[match[0]]
    same_group = [c for c in COMMANDS if c.group == group]
    return same_group[0] if same_group else None


def usage_reply(language: str, error: UsageError) -> Reply:
    """Explain a usage error privately, with the usage line of the nearest command."""
    text = translate(language, error.key, **error.params)
    if error.command is not None:
        text += "\n" + translate(language, "error.usage", usage=error.command.usage())
    return Reply(text, Visibility.PRIVATE, error=True)


def run_text(
    store: Store, caller: Caller, text: str, now: datetime, *, delivery_key: str | None = None
) -> list[Reply]:
    """Parse and run one line of the text grammar as `caller`."""
    started = time.perf_counter()
    try:
        invocation = parse(text, now, caller.platform)
    except UsageError as error:
        replies = [_usage_to_caller(store, caller, error)]
        _count(caller, error.command, None, replies, started)
        return replies
    replies = runner.execute(
        store, caller, invocation.command.handler, invocation.args, now, delivery_key=delivery_key
    )
    _count(caller, invocation.command, delivery_key, replies, started)
    return replies


def run_values(
    store: Store,
    caller: Caller,
    command: Command,
    raw: dict[str, str],
    now: datetime,
    *,
    delivery_key: str | None = None,
) -> list[Reply]:
    """Run a command from already-split values (slash-command options, modal fields)."""
    started = time.perf_counter()
    try:
        args = convert(command, raw, now, caller.platform)
    except UsageError as error:
        replies = [_usage_to_caller(store, caller, error)]
        _count(caller, command, None, replies, started)
        return replies
    replies = runner.execute(store, caller, command.handler, args, now, delivery_key=delivery_key)
    _count(caller, command, delivery_key, replies, started)
    return replies


def _usage_to_caller(store: Store, caller: Caller, error: UsageError) -> Reply:
    language = runner.community_language(store, caller.platform, caller.community_id)
    reply = usage_reply(language, error)
    reply.recipient = caller.user_id
    if error.params.get("name"):
        reply.field_errors[str(error.params["name"])] = reply.text
    return reply


def _count(
    caller: Caller,
    command: Command | None,
    delivery_key: str | None,
    replies: list[Reply],
    started: float,
) -> None:
    """Record the command for /metrics, the same way for every front end."""
    if delivery_key is not None and not replies:
        outcome = "duplicate"
    elif any(reply.failed for reply in replies):
        outcome = "failed"
    elif any(reply.error for reply in replies):
        outcome = "refused"
    else:
        outcome = "ok"
    label = command.name if command is not None else "unknown"
    metrics.record_command(caller.platform, label, outcome, time.perf_counter() - started)
