"""The command table every front end is built from, and the `/gov` text parser."""

from __future__ import annotations

import difflib
import functools
import re
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any

from govbot import metrics
from govbot.domain.durations import parse_duration, parse_time
from govbot.i18n import DEFAULT_LANGUAGE, LANGUAGES, discord_name, for_platform, translate
from govbot.replies import MORE_FIELD, Reply, Visibility
from govbot.services import (
    Store,
    audit_log,
    bodies,
    community,
    delegation,
    proposals,
    runner,
    sessions,
)
from govbot.services.base import (
    NAME_LENGTH,
    Args,
    Caller,
    ChannelRef,
    Context,
    Handler,
    MemberRef,
    Refusal,
)

TEXT_LENGTH = 500  # a text value's default bound, in characters
QUOTE_LENGTH = 40  # how much of a bad value an error quotes back


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
    GROUP = "group"


@dataclass(frozen=True)
class Param:
    """One parameter: positional or key:value, its kind, and whether it is required."""

    name: str
    kind: Kind
    positional: bool = False
    required: bool = False
    choices: tuple[str, ...] = ()
    placeholder: str = ""
    max_length: int = TEXT_LENGTH  # for text values, the same bound on every database
    default: str | None = None  # used when the value is left out
    hidden: bool = False  # set by buttons (a page number), left out of usage and options

    def shape(self) -> str:
        """Render the value part of the usage line: `<body>`, `yes|no`, `Area/City`."""
        return self.placeholder or "|".join(self.choices) or f"<{self.kind.value}>"

    def usage(self, platform: str = "slack", language: str = DEFAULT_LANGUAGE) -> str:
        """Render this parameter as the usage line shows it (Discord names every option)."""
        if platform == "discord":
            shape = f"<{self.shape()}>" if self.shape() == self.name else self.shape()
            text = f"{discord_name(self.name, language)}:{shape}"
        else:
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
    writes: bool = True  # False: only reads, in a read transaction that records nothing

    @property
    def name(self) -> str:
        """Return `group action` (just `help` for the one command without an action)."""
        return f"{self.group} {self.action}".strip()

    def usage(self, platform: str = "slack", language: str = DEFAULT_LANGUAGE) -> str:
        """Render the usage line as typed on `platform`.

        Slack and the console: `/gov body add <body> <member> [role:member|chair]`;
        Discord: `/body add body:<body> member:<member> [role:member|chair]`.
        """
        params = [p.usage(platform, language) for p in self.options]
        return " ".join([self.invocation(platform, language), *params])

    def invocation(self, platform: str = "slack", language: str = DEFAULT_LANGUAGE) -> str:
        """Render how the command itself is typed: `/gov body join` or `/body join`."""
        if platform == "discord":
            words = [discord_name(w, language) for w in self.name.split()]
            return "/" + " ".join(words)
        return f"/gov {self.name}"

    @property
    def options(self) -> tuple[Param, ...]:
        """Return the parameters a member types (hidden ones are set by buttons only)."""
        return tuple(p for p in self.params if not p.hidden)

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


def _id(name: str = "id") -> Param:
    return Param(name, Kind.TEXT, positional=True, required=True, placeholder="<id>", max_length=12)


def _reason(required: bool = True) -> Param:
    return Param("reason", Kind.TEXT, required=required, placeholder="<text>")


METHODS = ("majority", "supermajority", "consent", "sign-off", "approval", "ranked", "irv")


def describe_key(command: Command) -> str:
    """Return the catalog key of a command's one-line description."""
    return f"cmd.{command.group}.{command.action or 'all'}"


def _help(ctx: Context, args: Args) -> list[Reply]:
    """List the commands (of one group) with their usage lines, as typed on this platform."""
    group = args.text("group")
    if group is not None and group not in GROUPS:
        raise Refusal("error.unknown_group", group=quote(group), groups=ctx.listing(GROUPS))
    platform, language = ctx.caller.platform, ctx.community.language
    head = ctx.t("help.head_discord" if platform == "discord" else "help.head")
    lines = [head]
    for command in COMMANDS:
        if group is None or command.group == group:
            usage = command.usage(platform, language)
            lines.append(f"`{usage}`\n    {ctx.t(describe_key(command))}")
    return [Reply("\n".join(lines), Visibility.PRIVATE)]


COMMANDS: tuple[Command, ...] = (
    Command(
        "help",
        "",
        (Param("group", Kind.GROUP, positional=True, placeholder="group"),),
        _help,
        writes=False,
    ),
    Command(
        "setup",
        "init",
        (
            _p("language", Kind.CHOICE, choices=LANGUAGES),
            _p("timezone", Kind.TIMEZONE, placeholder="Area/City"),
        ),
        community.init_community,
    ),
    Command("setup", "show", (), community.show_settings, writes=False),
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
            _p("weekly_anchor", Kind.BOOL, choices=YES_NO),
            _p("remind", Kind.DURATION, placeholder="<duration>"),
        ),
        community.set_settings,
        form=True,
    ),
    Command(
        "body",
        "create",
        (
            _p("name", Kind.TEXT, required=True, placeholder="<slug>", max_length=32),
            _p("kind", Kind.CHOICE, required=True, choices=("custom",), default="custom"),
            _p("title", Kind.TEXT, placeholder="<text>", max_length=NAME_LENGTH),
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
    Command("body", "list", (), bodies.list_bodies, writes=False),
    Command(
        "body",
        "show",
        (
            _body(),
            _p("history", Kind.BOOL, choices=YES_NO, placeholder="yes"),
            _p("page", Kind.INT, placeholder="<n>", hidden=True),
        ),
        bodies.show_body,
        writes=False,
    ),
    Command(
        "body",
        "term",
        (_body(), _p("length", Kind.DURATION, required=True, placeholder="<duration>")),
        bodies.set_term,
    ),
    Command(
        "body",
        "set",
        (
            _body(),
            _p("delegation", Kind.BOOL, choices=YES_NO),
            _p("window", Kind.DURATION, placeholder="<duration>"),
            _p("absent_votes", Kind.BOOL, choices=YES_NO),
            _p("author_recused", Kind.BOOL, choices=YES_NO),
        ),
        bodies.set_body,
    ),
    Command(
        "audit",
        "log",
        (
            Param("kind", Kind.TEXT, positional=True, placeholder="<kind>", max_length=32),
            Param("id", Kind.TEXT, positional=True, placeholder="<id>", max_length=100),
        ),
        audit_log.show_log,
        writes=False,
    ),
    Command("audit", "verify", (), audit_log.verify_chain, writes=False),
    Command(
        "audit",
        "export",
        (_p("format", Kind.CHOICE, required=True, choices=("json", "csv")),),
        audit_log.export_chain,
        writes=False,
    ),
)

COMMANDS += (
    Command(
        "proposal",
        "create",
        (
            _p("title", Kind.TEXT, placeholder="<text>", max_length=200),
            _p("text", Kind.TEXT, placeholder="<text>", max_length=4000),
            _p("electorate", Kind.TEXT, placeholder="community|<body>", max_length=32),
            _p("method", Kind.CHOICE, choices=METHODS),
            _p("options", Kind.TEXT, placeholder='"A|B|C"', max_length=2000),
            _p("closes", Kind.TIME, placeholder="<time>"),
            _p("quorum", Kind.TEXT, placeholder="<percent>|<count>", max_length=16),
            _p("threshold", Kind.TEXT, placeholder="<fraction>", max_length=16),
            _p("seats", Kind.INT, placeholder="<n>"),
            _p("secret", Kind.BOOL, choices=YES_NO),
            _p("hide_results", Kind.BOOL, choices=YES_NO),
            _p("link", Kind.TEXT, placeholder="<url>", max_length=500),
        ),
        proposals.create_proposal,
        form=True,
    ),
    Command("proposal", "show", (_id(),), proposals.show_proposal, writes=False),
    Command(
        "proposal",
        "list",
        (Param("state", Kind.CHOICE, positional=True, choices=("open", "closed")),),
        proposals.list_proposals,
        writes=False,
    ),
    Command("proposal", "close", (_id(), _reason()), proposals.close_proposal),
    Command(
        "proposal",
        "extend",
        (_id(), _p("closes", Kind.TIME, required=True, placeholder="<time>"), _reason()),
        proposals.extend_proposal,
    ),
    Command("proposal", "withdraw", (_id(),), proposals.withdraw_proposal),
    Command("proposal", "remind", (_id(),), proposals.remind_voters),
    Command("proposal", "forward", (_id(), _body()), proposals.forward_proposal),
    Command(
        "vote",
        "cast",
        (
            _id(),
            Param("choice", Kind.TEXT, positional=True, placeholder="<choice>", max_length=500),
            _reason(required=False),
        ),
        proposals.cast_vote,
    ),
    Command("vote", "receipt", (_id(),), proposals.receipt_code, writes=False),
    Command("concern", "raise", (_id(), _reason(required=False)), proposals.raise_concern),
    Command(
        "concern",
        "withdraw",
        (
            _id(),
            Param(
                "concern",
                Kind.TEXT,
                positional=True,
                required=True,
                placeholder="<concern-id>",
                max_length=12,
            ),
        ),
        proposals.withdraw_concern,
    ),
)

COMMANDS += (
    Command("delegate", "set", (_body(), _member()), delegation.set_delegate),
    Command("delegate", "revoke", (_body(),), delegation.revoke_delegate),
)


def _session() -> Param:
    # Set by the session message's buttons, so a press acts on that session whatever else runs.
    return Param("session", Kind.INT, placeholder="<n>", hidden=True)


COMMANDS += (
    Command(
        "session",
        "open",
        (
            Param("body", Kind.BODY, required=True, placeholder="<body>"),
            _p("agenda", Kind.TEXT, required=True, placeholder='"<id>,<id>,..."', max_length=200),
        ),
        sessions.open_session,
    ),
    Command("session", "present", (_session(),), sessions.mark_present),
    Command("session", "next", (_session(),), sessions.next_item),
    Command("session", "close", (_session(),), sessions.close_session),
    Command("session", "minutes", (_id(),), sessions.show_minutes, writes=False),
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
_DISCORD_USER = re.compile(r"^<@!?(\d{1,20})(?:\|(.+))?>$", re.DOTALL)
_SLACK_USER = re.compile(r"^<@([UW][A-Z0-9]{1,30})(?:\|([^>]*))?>$")
_CONSOLE_USER = re.compile(r"^@([\w.\-]{1,64})$")
_CHANNEL = re.compile(r"^<#([A-Za-z0-9]{1,64})(?:\|([^>]*))?>$")
_CONSOLE_CHANNEL = re.compile(r"^#([\w\-]{1,64})$")
_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_]*):(.*)$", re.DOTALL)
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{0,31}$")


class UsageError(Refusal):
    """The text does not fit the grammar or the command; answered with the usage line."""

    def __init__(self, key: str, command: Command | None = None, /, **params: Any) -> None:
        super().__init__(key, field=params.get("name"), **params)
        self.command = command

    def message(self, language: str, platform: str) -> str:
        """Explain the error, then show the nearest command's usage as typed on `platform`."""
        params = dict(self.params)
        if "hint_key" in params:  # the catalog's example for the value, in this language
            params["hint"] = translate(language, params["hint_key"], **params)
        text = translate(language, self.key, **params)
        if self.command is not None:
            usage = self.command.usage(platform, language)
            text += "\n" + translate(language, "error.usage", usage=usage)
        return for_platform(text, platform, language)


@dataclass
class Invocation:
    """A command line split by the grammar: which entry of the table, with which raw values."""

    command: Command
    raw: dict[str, str] = field(default_factory=dict)

    def args(self, now: datetime, platform: str, zone: tzinfo = UTC) -> Args:
        """Check and convert the raw values."""
        return convert(self.command, self.raw, now, platform, zone)


def quote(text: str) -> str:
    """Quote a value back to the caller, shortened: an error never echoes unbounded input."""
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_LENGTH else flat[: QUOTE_LENGTH - 1] + "…"


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


def split(text: str) -> Invocation:
    """Split `/gov <group> <action> [positional ...] [key:value ...]` by the grammar."""
    tokens = tokenize(text.translate(_FULL_WIDTH).strip())
    if tokens and tokens[0].lower() == "/gov":
        tokens = tokens[1:]
    if not tokens:
        return Invocation(_BY_NAME["help"])
    group = tokens[0].lower()
    if group == "help":
        command, rest = _BY_NAME["help"], tokens[1:]
    elif group in GROUPS and len(tokens) == 1:
        return Invocation(_BY_NAME["help"], {"group": group})  # a group alone: its commands
    else:
        action = tokens[1].lower() if len(tokens) > 1 else ""
        found = find(group, action)
        if found is None:
            shown = quote(f"{group} {action}".strip())
            raise UsageError("error.unknown_command", nearest(group, action), command=shown)
        command, rest = found, tokens[2:]
    raw: dict[str, str] = {}
    positional = [p for p in command.params if p.positional]
    for token in rest:
        match = _KEY.match(token)
        key = match.group(1).lower() if match else ""
        param = command.param(key) if match else None
        if match and param is not None and not param.positional:
            if param.name in raw:
                raise UsageError("error.repeated_key", command, key=param.name)
            raw[param.name] = match.group(2)
        elif match and param is None and not token.startswith("http"):
            raise UsageError("error.unknown_key", command, key=quote(match.group(1)))
        elif positional:
            raw[positional.pop(0).name] = token
        else:
            raise UsageError("error.extra_value", command, value=quote(token))
    return Invocation(command, raw)


def parse(text: str, now: datetime, platform: str, zone: tzinfo = UTC) -> ParsedCommand:
    """Split and convert one line of the text grammar (times without a zone are in `zone`)."""
    invocation = split(text)
    return ParsedCommand(invocation.command, invocation.args(now, platform, zone))


@dataclass
class ParsedCommand:
    """A command with its converted arguments."""

    command: Command
    args: Args


def convert(
    command: Command, raw: dict[str, str], now: datetime, platform: str, zone: tzinfo = UTC
) -> Args:
    """Check and convert raw text values; every front end passes through here."""
    if MORE_FIELD in raw:
        # A form's catch-all field: its pairs count as typed, the form's own fields win.
        try:
            extra = split(f"{command.name} {raw[MORE_FIELD]}").raw
        except UsageError as error:
            error.field = MORE_FIELD  # shown at the field, so the form keeps what was typed
            raise
        typed = {key: value for key, value in raw.items() if key != MORE_FIELD}
        try:
            return convert(command, {**extra, **typed}, now, platform, zone)
        except UsageError as error:
            if error.field in extra and error.field not in typed:
                error.field = MORE_FIELD
            raise
    values: dict[str, Any] = {}
    for param in command.params:
        text = raw.get(param.name)
        if text is None:
            text = param.default
        if text is None:
            if param.required:
                raise UsageError("error.missing_value", command, name=param.name)
            continue
        values[param.name] = _value(command, param, text.strip(), now, platform, zone)
    return Args(values)


def _value(
    command: Command, param: Param, text: str, now: datetime, platform: str, zone: tzinfo
) -> Any:
    def bad() -> UsageError:
        return UsageError(
            "error.bad_value",
            command,
            name=param.name,
            value=quote(text),
            hint_key=_HINTS.get(param.kind, "hint.text"),
            choices=", ".join(param.choices),
        )

    if text == "" and param.required:
        raise UsageError("error.missing_value", command, name=param.name)
    if len(text) > param.max_length:
        raise UsageError("error.too_long", command, name=param.name, max=param.max_length)
    if any(not ch.isprintable() and ch not in "\n\t" for ch in text):
        raise UsageError("error.control_character", command, name=param.name)
    if param.choices:
        chosen = {choice.lower(): choice for choice in param.choices}.get(text.lower())
        if chosen is None:
            raise bad()
        return chosen == "yes" if param.kind is Kind.BOOL else chosen
    converters: dict[Kind, Callable[[], Any]] = {
        Kind.TEXT: lambda: text,
        Kind.BODY: lambda: text.lower() if _SLUG.match(text) else None,
        Kind.GROUP: lambda: text.lower(),
        Kind.MEMBER: lambda: parse_member(text, platform),
        Kind.CHANNEL: lambda: parse_channel(text, platform),
        Kind.INT: lambda: int(text) if re.fullmatch(r"\d{1,9}", text) else None,
        Kind.DURATION: lambda: parse_duration(text),
        Kind.TIME: lambda: parse_time(text, now, zone),
        Kind.TIMEZONE: lambda: canonical_timezone(text),
    }
    value = converters[param.kind]()
    if value is None:
        raise bad()
    return value


# The catalog's example for each kind of value, shown when a value does not fit.
_HINTS = {
    Kind.BODY: "hint.body",
    Kind.MEMBER: "hint.member",
    Kind.CHANNEL: "hint.channel",
    Kind.INT: "hint.int",
    Kind.DURATION: "hint.duration",
    Kind.TIME: "hint.time",
    Kind.TIMEZONE: "hint.timezone",
    Kind.CHOICE: "hint.choice",
    Kind.BOOL: "hint.choice",
}


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


@functools.cache
def _timezones() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def canonical_timezone(text: str) -> str | None:
    """Return the time zone's proper name whatever the letter case (`europe/berlin`)."""
    return _timezones().get(text.lower())


def nearest(group: str, action: str) -> Command | None:
    """Find the command a mistyped one most likely meant."""
    names = list(_BY_NAME)
    match = difflib.get_close_matches(f"{group} {action}".strip(), names, n=1, cutoff=0.4)
    if match:
        return _BY_NAME[match[0]]
    same_group = [c for c in COMMANDS if c.group == group]
    return same_group[0] if same_group else None


def usage_reply(language: str, error: UsageError, platform: str) -> Reply:
    """Explain a usage error privately, with the usage line of the nearest command."""
    return Reply(error.message(language, platform), Visibility.PRIVATE, error=True)


def run_text(
    store: Store, caller: Caller, text: str, now: datetime, *, delivery_key: str | None = None
) -> list[Reply]:
    """Parse and run one line of the text grammar as `caller`."""
    started = time.perf_counter()
    try:
        invocation = split(text)
    except UsageError as error:
        replies = [_usage_to_caller(store, caller, error)]
        _count(caller, error.command, None, replies, started)
        return replies
    return _run(store, caller, invocation, now, delivery_key, started)


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
    return _run(store, caller, Invocation(command, raw), now, delivery_key, started)


def _run(
    store: Store,
    caller: Caller,
    invocation: Invocation,
    now: datetime,
    delivery_key: str | None,
    started: float,
) -> list[Reply]:
    def arguments(ctx: Context) -> Args:
        return invocation.args(ctx.now, caller.platform, ctx.zone)

    command = invocation.command
    replies = runner.execute(
        store,
        caller,
        command.handler,
        arguments,
        now,
        delivery_key=delivery_key,
        writes=command.writes,
    )
    _count(caller, command, delivery_key, replies, started)
    return replies


def _usage_to_caller(store: Store, caller: Caller, error: UsageError) -> Reply:
    language = runner.community_language(store, caller.platform, caller.community_id)
    reply = usage_reply(language, error, caller.platform)
    reply.recipient = caller.user_id
    reply.language = language
    if error.field:
        reply.field_errors[error.field] = reply.text
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
