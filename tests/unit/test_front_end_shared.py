"""What every front end shares: a pick's command line, preset forms, coalesced edits."""

from __future__ import annotations

import asyncio

import pytest

from govbot.adapters.console import render_text
from govbot.adapters.edits import InPlaceEdits
from govbot.adapters.forms import form_target, picked, submission
from govbot.commands import named, tokenize
from govbot.replies import Button, Reply, Select, SelectOption, Visibility


@pytest.mark.parametrize(
    ("values", "line"),
    [
        (["A"], "vote cast 7 A"),
        (["A", "C"], "vote cast 7 A,C"),
        (["Big bananas", "C"], 'vote cast 7 "Big bananas,C"'),
        (['say "hi"'], 'vote cast 7 "say \\"hi\\""'),
        ([], "vote cast 7"),
    ],
)
def test_a_pick_runs_the_menus_command_with_the_values_comma_joined(
    values: list[str], line: str
) -> None:
    assert picked("vote cast 7", values) == line


def test_a_pick_reads_back_as_one_value_whatever_spaces_or_quotes_it_holds() -> None:
    values = ["Big bananas", 'say "hi"', "C"]

    assert tokenize(picked("vote cast 7", values))[-1] == ",".join(values)


def test_a_form_command_with_positionals_presets_them_and_fields_go_on_top() -> None:
    invocation = submission("body show quality", {"history": "yes", "page": "  "})

    assert invocation is not None
    assert invocation.command is named("body show")
    assert invocation.raw == {"body": "quality", "history": "yes"}


def test_a_submitted_field_wins_over_a_preset_value() -> None:
    invocation = submission("body show quality", {"body": "tsc"})

    assert invocation is not None
    assert invocation.raw == {"body": "tsc"}


def test_a_plain_form_command_presets_nothing_and_an_unknown_one_is_none() -> None:
    target = form_target("setup set")

    assert target is not None
    assert (target.command, target.raw) == (named("setup set"), {})
    assert form_target("frobnicate now") is None
    assert submission("frobnicate now", {"reason": "x"}) is None


def test_the_console_shows_a_menu_as_its_options() -> None:
    menu = Select("vote cast 7", (SelectOption("Yes please", "A"), SelectOption("B", "B")))
    reply = Reply("Vote", Visibility.PUBLIC, select=menu, buttons=[Button("Object", "x")])

    assert render_text(reply) == "Vote\n[Select: Yes please | B]\n[Object]"


class _Platform:
    """A platform whose edits wait until the test lets them through."""

    def __init__(self, posted: dict[str, tuple[str, str]]) -> None:
        self.posted = posted
        self.gate = asyncio.Event()
        self.edits: list[tuple[str, str, str]] = []
        self.fail = False

    async def find(self, community: str, key: str) -> tuple[str, str] | None:
        return self.posted.get(key)

    async def edit(self, community: str, channel: str, message: str, content: str) -> None:
        await self.gate.wait()
        if self.fail:
            self.fail = False
            raise RuntimeError("the platform said no")
        self.edits.append((channel, message, content))


async def _settle(edits: InPlaceEdits[str]) -> None:
    await asyncio.wait_for(edits.settled(), 5)


async def test_updates_arriving_during_an_edit_are_sent_once_as_the_newest() -> None:
    platform = _Platform({"proposal:7": ("C1", "M1")})
    edits = InPlaceEdits("test", platform.find, platform.edit)

    for n in range(1, 1001):
        edits.submit("guild", "proposal:7", f"tally {n}")
        await asyncio.sleep(0)
    platform.gate.set()
    await _settle(edits)

    assert platform.edits == [("C1", "M1", "tally 1"), ("C1", "M1", "tally 1000")]


async def test_an_update_older_than_one_already_taken_never_overwrites_it() -> None:
    platform = _Platform({"proposal:7": ("C1", "M1")})
    platform.gate.set()
    edits = InPlaceEdits("test", platform.find, platform.edit)

    edits.submit("guild", "proposal:7", "tally at #12", revision=12)
    await _settle(edits)
    edits.submit("guild", "proposal:7", "tally at #11", revision=11)  # a slower thread's
    await _settle(edits)
    edits.submit("guild", "proposal:7", "tally at #13", revision=13)
    await _settle(edits)

    assert [edit[2] for edit in platform.edits] == ["tally at #12", "tally at #13"]


async def test_each_message_has_its_own_edit_in_flight() -> None:
    platform = _Platform({"proposal:7": ("C1", "M7"), "proposal:8": ("C1", "M8")})
    platform.gate.set()
    edits = InPlaceEdits("test", platform.find, platform.edit)

    edits.submit("guild", "proposal:7", "seven")
    edits.submit("guild", "proposal:8", "eight")
    await _settle(edits)

    assert sorted(platform.edits) == [("C1", "M7", "seven"), ("C1", "M8", "eight")]


async def test_an_update_of_a_message_never_posted_is_dropped() -> None:
    platform = _Platform({})
    platform.gate.set()
    edits = InPlaceEdits("test", platform.find, platform.edit)

    edits.submit("guild", "proposal:9", "nine")
    await _settle(edits)

    assert platform.edits == []


async def test_a_failed_edit_is_logged_and_the_next_update_still_goes_out() -> None:
    platform = _Platform({"proposal:7": ("C1", "M1")})
    platform.fail = True
    edits = InPlaceEdits("test", platform.find, platform.edit)

    edits.submit("guild", "proposal:7", "lost")
    await asyncio.sleep(0)
    edits.submit("guild", "proposal:7", "shown")
    platform.gate.set()
    await _settle(edits)

    assert platform.edits == [("C1", "M1", "shown")]


async def test_past_the_bound_an_update_of_yet_another_message_is_dropped() -> None:
    platform = _Platform({"a": ("C", "1"), "b": ("C", "2")})
    edits = InPlaceEdits("test", platform.find, platform.edit, limit=1)

    edits.submit("guild", "a", "A")
    edits.submit("guild", "b", "B")
    platform.gate.set()
    await _settle(edits)

    assert platform.edits == [("C", "1", "A")]


async def test_closing_drops_what_waits() -> None:
    platform = _Platform({"a": ("C", "1")})
    edits = InPlaceEdits("test", platform.find, platform.edit)
    edits.submit("guild", "a", "A")
    edits.submit("guild", "a", "B")

    await edits.close()

    assert not edits.busy()
    platform.gate.set()
    await asyncio.sleep(0)
    assert platform.edits == []
