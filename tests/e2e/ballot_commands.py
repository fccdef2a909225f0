"""Stand-in commands whose replies carry ballot controls, for the front-end tests.

The replies are shaped like those the proposal services send (a keyed public post with a
select menu and buttons, a form whose command presets values, updates of the post), so the
front ends' handling of them is tested through the real clients before those services land.
A test module takes the fixture by name (`ballot_commands = ballots.ballot_commands`); it adds
the commands to the parser's lookup only, never to the slash commands Discord is sent.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest

from govbot import commands
from govbot.commands import Command, Kind, Param
from govbot.replies import Button, Form, FormField, Reply, Select, SelectOption, Visibility
from govbot.services.base import Args, Context

KEY = "ballot:1"
MENU = Select(
    "ballot pick 1",
    (
        SelectOption("Apples", "A"),
        SelectOption("Big bananas", "big banana"),
        SelectOption("Cherries", "C"),
    ),
    placeholder="Pick the fruit you want",
    max_values=3,
)
OBJECT = Button("Object", "ballot pick 1 -1", "danger")


@dataclass(frozen=True)
class Pick:
    """One ballot as the stand-in command received it, and from whom."""

    user_id: str
    display_name: str
    choice: str
    reason: str | None
    member_count: int | None


@dataclass
class Ballots:
    """The stand-in commands and every pick they received (commands run on worker threads)."""

    picks: list[Pick] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def table(self) -> tuple[Command, ...]:
        """Return the stand-in commands, in the command table's shape."""
        ballot = Param("id", Kind.INT, positional=True, required=True, placeholder="<id>")
        return (
            Command("ballot", "open", (), self.open_ballot),
            Command(
                "ballot",
                "pick",
                (
                    ballot,
                    Param("choice", Kind.TEXT, positional=True, required=True),
                    Param("reason", Kind.TEXT),
                ),
                self.pick,
            ),
            Command("ballot", "close", (ballot,), self.close),
        )

    def open_ballot(self, ctx: Context, args: Args) -> list[Reply]:
        """Post the ballot publicly under its key, with a menu and a button."""
        return [
            Reply(
                "Ballot 1: which fruit?",
                Visibility.PUBLIC,
                key=KEY,
                select=MENU,
                buttons=[OBJECT],
            )
        ]

    def pick(self, ctx: Context, args: Args) -> list[Reply]:
        """Record a pick; an objection without a reason asks for one in a preset form."""
        choice = args.text("choice") or ""
        reason = args.text("reason")
        if choice == "-1" and not reason:
            fields = (FormField("reason", "Reason", required=True, multiline=True),)
            form = Form("Why do you object?", "ballot pick 1 -1", fields)
            return [Reply("Say why you object.", Visibility.PRIVATE, form=form)]
        with self._lock:
            self.picks.append(
                Pick(
                    ctx.caller.user_id,
                    ctx.caller.display_name,
                    choice,
                    reason,
                    ctx.caller.member_count,
                )
            )
            count = len(self.picks)
        # The update comes first, so that once the picker has their answer the front end
        # has already been handed the update.
        return [
            Reply(
                f"Ballot 1: {count} picks, the last {choice}.",
                Visibility.PUBLIC,
                updates=KEY,
                select=MENU,
                buttons=[OBJECT],
            ),
            Reply(f"Recorded {choice} for {ctx.caller.display_name}.", Visibility.PRIVATE),
        ]

    def close(self, ctx: Context, args: Args) -> list[Reply]:
        """Close the ballot: its post loses the controls, and the result is a new message."""
        return [
            Reply(
                f"Ballot 1 closed after {len(self.picks)} picks.", Visibility.PUBLIC, updates=KEY
            ),
            Reply("Result of ballot 1: apples.", Visibility.PUBLIC),
        ]


@pytest.fixture
def ballot_commands(monkeypatch: pytest.MonkeyPatch) -> Ballots:
    """Make the parser know the stand-in `ballot` commands for one test."""
    ballots = Ballots()
    for command in ballots.table():
        monkeypatch.setitem(commands._BY_NAME, command.name, command)
    return ballots
