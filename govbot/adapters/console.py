"""The console front end: type commands as any member, move the clock, check the replies."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TextIO

from govbot.commands import run_text
from govbot.domain.durations import parse_duration
from govbot.replies import Reply, Visibility
from govbot.services import Store
from govbot.services.base import Caller
from govbot.services.timers import run_due

PLATFORM = "console"
COMMUNITY = "console"
DEFAULT_CHANNEL = "general"
INTERACTIVE_USER = "you"
_CHANNEL_TOKEN = re.compile(r"<#([^>|]+)(?:\|[^>]*)?>")
PROMPT = "gov> "
HELP_WORDS = frozenset({"help", "/help", "?", "h"})
QUIT_WORDS = frozenset({"quit", "exit", "/quit", "/exit"})
BANNER = (
    "govbot console. Type `/gov help`, or `@name /gov ...` to act as someone else; "
    "`!advance 3d` moves the clock; Ctrl-D quits."
)
HINT = (
    "Commands start with /gov: type `/gov help` for the list. `@name /gov ...` acts as "
    "someone else, `!advance 3d` moves the clock, Ctrl-D or `quit` leaves."
)
ADVANCE_REFUSED = (
    "!advance is refused here: this console did not create the database, and moving the "
    "clock would write future-dated entries into a real record (give --database a new file, "
    "e.g. sqlite:///scratch.db, and the console makes one of its own)"
)

EXIT_OK, EXIT_EXPECTATION, EXIT_ERROR = 0, 1, 2


class DirectiveError(Exception):
    """A script line that is not a directive or a command, or a directive refused."""


class UnknownLine(DirectiveError):
    """A line that is neither a directive nor a command."""


@dataclass
class Shown:
    """One reply as the console shows it to one recipient."""

    line: int
    visibility: str
    recipient: str
    text: str


def render_text(reply: Reply) -> str:
    """Render a reply's text as plain console text, with its menu, buttons, form and file.

    An update of a posted message (`updates`) prints like any public reply: the console
    keeps no messages to edit.
    """
    parts = [_CHANNEL_TOKEN.sub(r"#\1", reply.text)]
    if reply.select is not None:
        labels = " | ".join(option.label for option in reply.select.options)
        parts.append(f"[Select: {labels}]")
    if reply.buttons:
        parts.append(" ".join(f"[{b.label}]" for b in reply.buttons))
    if reply.form is not None:
        keys = ", ".join(f.key for f in reply.form.fields)
        parts.append(f"[{reply.form.title}: {keys}]")
    if reply.attachment is not None:
        parts.append(f"[file {reply.attachment.filename}]\n{reply.attachment.read_text()}")
    return "\n".join(parts)


@dataclass
class Console:
    """A session of the console front end over one store."""

    store: Store
    clock_start: datetime
    json_output: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    real_time: bool = False
    # Only on a database the console made for itself: the clock must not move a real record.
    may_advance: bool = True
    notes: TextIO = field(default_factory=lambda: sys.stderr)
    admins: set[str] = field(default_factory=set)
    channel: str = DEFAULT_CHANNEL
    offset: timedelta = timedelta(0)
    _started: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        """Return the console's clock: its start, real time passed (interactive), and advances."""
        elapsed = datetime.now(UTC) - self._started if self.real_time else timedelta(0)
        return self.clock_start + elapsed + self.offset

    def command(self, number: int, user: str, text: str) -> list[Shown]:
        """Run one command typed by `@user` and print its replies."""
        caller = Caller(PLATFORM, COMMUNITY, user, user, user in self.admins, self.channel)
        return self.show(number, run_text(self.store, caller, text, self.now()))

    def note(self, text: str) -> None:
        """Tell the person at the console something that is not a reply (not on JSON stdout)."""
        print(text, file=self.notes if self.json_output else self.out)

    def advance(self, number: int, amount: str) -> list[Shown]:
        """Move the clock forward and run whatever fell due."""
        if not self.may_advance:
            raise DirectiveError(ADVANCE_REFUSED)
        duration = parse_duration(amount)
        if duration is None:
            raise DirectiveError(f"!advance needs a duration such as 3d or 6mo, not {amount!r}")
        before = self.now()
        self.offset += duration.after(before) - before
        notices = run_due(self.store, self.now())
        return self.show(number, (n.reply for n in notices))

    def show(self, number: int, replies: Iterable[Reply]) -> list[Shown]:
        shown = []
        for reply in replies:
            visibility = reply.visibility.value
            target = reply.recipient or self.channel
            prefix = "#" if reply.visibility is Visibility.PUBLIC else "@"
            item = Shown(number, visibility, prefix + target, render_text(reply))
            shown.append(item)
            if self.json_output:
                print(json.dumps(item.__dict__, ensure_ascii=False), file=self.out)
            else:
                print(f"[{item.visibility} {item.recipient}] {item.text}", file=self.out)
        return shown

    def run_lines(self, lines: Iterable[str], source: str, fail: Callable[[str], None]) -> int:
        """Run script lines; report failed expectations through `fail`; return the exit status."""
        last: list[Shown] = []
        status = EXIT_OK
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                result = self.line(number, line, last)
            except DirectiveError as error:
                fail(f"{source}:{number}: {error}")
                return EXIT_ERROR
            if isinstance(result, str):
                fail(f"{source}:{number}: {result}")
                status = EXIT_EXPECTATION
            elif result is not None:
                last = result
        return status

    def line(self, number: int, line: str, last: list[Shown]) -> list[Shown] | str | None:
        """Run one line: a directive, or `@user /gov ...`; a string is a failed expectation."""
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word.startswith("@") and len(word) > 1:
            return self.command(number, word[1:], rest)
        if word == "!admin" and rest:
            self.admins.add(rest.lstrip("@"))
            return None
        if word == "!channel" and rest:
            self.channel = rest.lstrip("#")
            return None
        if word == "!advance":
            return self.advance(number, rest)
        if word in ("!expect", "!absent") and rest:
            found = any(rest.lower() in shown.text.lower() for shown in last)
            if word == "!expect" and not found:
                return f"expected a reply containing {rest!r}"
            if word == "!absent" and found:
                return f"expected no reply containing {rest!r}"
            return None
        raise UnknownLine(f"unknown directive or command: {line!r}")


def run_script(console: Console, path: str) -> int:
    """Run a script file non-interactively; return 0, 1 (an expectation failed) or 2."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        print(f"cannot read {path}: {error.strerror}", file=sys.stderr)
        return EXIT_ERROR
    return console.run_lines(lines, path, lambda message: print(message, file=sys.stderr))


def run_interactive(console: Console, source: TextIO | None = None) -> int:
    """Read commands from a terminal or a pipe; a bare `/gov ...` is typed by `@you`, an admin."""
    source = sys.stdin if source is None else source
    terminal = source is sys.stdin and source.isatty()
    if terminal:
        import readline  # noqa: F401  (gives input() line editing and history)
    console.admins.add(INTERACTIVE_USER)
    console.note(BANNER)
    # A prompt on JSON output would break the one-object-a-line contract.
    prompt = "" if console.json_output else PROMPT
    last: list[Shown] = []
    number = 0
    try:
        while True:
            if terminal:
                try:
                    raw = input(prompt)
                except EOFError:
                    if not console.json_output:
                        print(file=console.out)
                    break
            else:
                raw = source.readline()
                if not raw:
                    break
            number += 1
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.lower() in QUIT_WORDS:
                break
            if line.lower() in HELP_WORDS:
                console.note(HINT)
                continue
            if line.startswith("/gov"):
                line = f"@{INTERACTIVE_USER} {line}"
            for notice in run_due(console.store, console.now()):
                console.show(number, [notice.reply])
            try:
                result = console.line(number, line, last)
            except UnknownLine as error:
                console.note(f"{error}; type /gov help")
                continue
            except DirectiveError as error:
                console.note(str(error))
                continue
            if isinstance(result, str):
                console.note(result)
            elif result is not None:
                last = result
    except KeyboardInterrupt:
        # Ctrl-C leaves like Ctrl-D: on a fresh line, with no traceback.
        if terminal and not console.json_output:
            print(file=console.out)
    return EXIT_OK
