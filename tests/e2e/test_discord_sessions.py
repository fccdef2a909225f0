"""A committee meeting on Discord, driven by the session message's buttons against the fake.

The chair opens a session; members press Present; the chair presses Next; Yes votes come
from the session message's own buttons; the one message is edited in place all along; a
member who is not the chair is refused privately; closing posts the minutes as a file.
On a secret item nothing anyone else saw puts a voter beside a ballot, and no tally shows
before the item ends.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest_asyncio

from govbot.services import messages
from govbot.storage.db import Store
from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import (
    DiscordHarness,
    discord_settings,
    embed_text,
    is_ephemeral,
    set_up_community,
)
from tests.e2e.fakes.discord_server import FakeDiscord, FakeUser, InteractionRecord, RecordedCall
from tests.e2e.test_discord_ballots import (
    RECEIPT,
    VOTERS,
    Ballots,
    Json,
    _buttons,
    _names,
    _seen_by,
    _sent,
)

fake, discord_store = fx.fake, fx.discord_store


@pytest_asyncio.fixture
async def meeting(fake: FakeDiscord, discord_store: Store) -> AsyncIterator[Ballots]:
    """Run the Discord front end; the TSC is ann (chair), bart and cord, with proposal #1."""
    voters = tuple(fake.add_user(name) for name in VOTERS)
    announcements = fake.add_text_channel("announcements")
    settings = discord_settings(fake, discord_store.engine.url.render_as_string(False))
    harness = DiscordHarness(fake, discord_store, settings, announcements)
    await harness.start()
    try:
        await set_up_community(harness)
        running = Ballots(harness, voters)
        for index, voter in enumerate(voters):
            options = {"body": "tsc", "member": voter, **({"role": "chair"} if not index else {})}
            await running.shown(await running.slash("body", "add", fake.steward, **options))
        await running.create(title="Adopt the style guide", electorate="tsc")
        yield running
    finally:
        await harness.stop()


async def session_message(meeting: Ballots) -> Json:
    """Wait until the front end knows where session 1's message is; return it as it stands."""
    store, guild = meeting.harness.store, str(meeting.fake.guild_id)

    def known() -> bool:
        return messages.find(store, "discord", guild, "session:1") is not None

    await meeting.fake.wait_until(known, description="session 1 remembered")
    posted = messages.find(store, "discord", guild, "session:1")
    assert posted is not None
    return meeting.fake.messages[int(posted[1])]


async def chair_panel(meeting: Ballots, record: InteractionRecord) -> Json:
    """Wait for the chair's own controls, sent privately with the answer to `record`."""

    def is_panel(call: RecordedCall) -> bool:
        body = call.body if isinstance(call.body, dict) else None
        return "Your controls as chair" in embed_text(body)

    call = await meeting.fake.wait_for_call(
        is_panel, method="POST", path=rf"/webhooks/\d+/{record.token}.*"
    )
    assert isinstance(call.body, dict)
    return call.body


async def test_a_meeting_is_run_from_the_buttons_of_one_message_edited_in_place(
    meeting: Ballots,
) -> None:
    fake = meeting.fake
    ann, bart, cord = meeting.voters
    opened = await meeting.slash("session", "open", ann, body="tsc", agenda="1")
    first = await meeting.shown(opened)
    assert not is_ephemeral(first)
    assert embed_text(first).startswith("Session #1 of tsc, chaired by @Ashwini")
    # Everyone sees Present; the chair's controls come to the chair alone, privately.
    assert _buttons(first) == {"Present": "gov:session present session:1"}
    panel = await chair_panel(meeting, opened)
    assert is_ephemeral(panel) and "Your controls as chair of session #1" in embed_text(panel)
    assert _buttons(panel) == {
        "Next item": "gov:session next session:1",
        "Close session": "gov:session close session:1",
    }
    post = await session_message(meeting)

    for voter in (ann, bart):
        here = await meeting.shown(await meeting.press("gov:session present session:1", voter))
        assert is_ephemeral(here) and "You are on the roll of session #1" in embed_text(here)
    await meeting.edited_to(post, "Present (2): @Ashwini, @Bartholomew")

    refused = await meeting.shown(await meeting.press("gov:session next session:1", cord))
    assert is_ephemeral(refused)
    assert "Only the chair of tsc" in embed_text(refused)

    await meeting.press("gov:session next session:1", ann)
    live = await meeting.edited_to(post, "1. #1 Adopt the style guide: voting now")
    assert _buttons(live)["Yes"] == "gov:vote cast 1 yes"
    cast = await meeting.shown(await meeting.press("gov:vote cast 1 yes", ann))
    assert is_ephemeral(cast) and "recorded: Yes" in embed_text(cast)
    await meeting.edited_to(post, "Voted: 1 of 2 present (@Ashwini)")
    # The last present member's ballot ends the item: the result is posted in the open.
    await meeting.press("gov:vote cast 1 yes", bart)
    await meeting.edited_to(post, "1. #1 Adopt the style guide: passed")

    closed = await meeting.shown(await meeting.press("gov:session close session:1", ann))
    assert "Session #1 of tsc has closed" in embed_text(closed)
    done = await meeting.edited_to(post, "The session closed")
    assert _buttons(done) == {}
    await meeting.settled()
    public = [embed_text(m) for m in fake.channel_messages(fake.channel) if not is_ephemeral(m)]
    assert len([t for t in public if t.startswith("Session #1 of tsc, chaired")]) == 1
    with_file = [
        m
        for m in fake.channel_messages(fake.channel)
        if m.get("attachments") and not is_ephemeral(m)
    ]
    assert [a["filename"] for m in with_file for a in m["attachments"]] == ["session-1.md"]


# --- a secret item: who can see what ----------------------------------------------------------

Given = dict[FakeUser, tuple[set[str], set[str]]]


def _lines(value: Any) -> list[str]:
    """Every line of text a call carried, leaving out its controls (buttons and menus)."""
    if isinstance(value, str):
        return value.splitlines()
    if isinstance(value, list):
        return [line for item in value for line in _lines(item)]
    if isinstance(value, dict):
        return [line for key, item in value.items() if key != "components" for line in _lines(item)]
    return []


def read(call: RecordedCall) -> list[str]:
    """Every line a person could read in what a call sent, attached files included."""
    return _lines(call.body) + [line for text in call.file_texts for line in text.splitlines()]


def _named(line: str, user: FakeUser) -> bool:
    return any(name.lower() in line.lower() for name in _names(user))


def assert_no_voter_beside_a_choice(fake: FakeDiscord, given: Given) -> None:
    """No line anyone but the voter saw shows a voter next to a choice or reason they gave.

    By line: minutes list the roll and the (unnamed) reasons in one document.
    """
    calls = list(fake.calls)
    for call in calls:
        for voter, (choices, reasons) in given.items():
            if _seen_by(fake, call) == str(voter.id):
                continue  # what the voter alone sees may show them their own ballot
            for line in read(call):
                if not _named(line, voter):
                    continue
                assert not any(reason in line for reason in reasons), (call.path, line)
                for choice in choices:
                    assert not re.search(rf"\b{choice}\b", line, re.IGNORECASE), (call.path, line)
            # A button or menu never names a voter.
            assert str(voter.id) not in _controls(call), (call.path, _controls(call))


def _controls(call: RecordedCall) -> str:
    """The controls a call carried, as text."""
    body: Json = call.body if isinstance(call.body, dict) else {}
    data = body.get("data") if isinstance(body.get("data"), dict) else body
    return repr((data or {}).get("components") or [])


def ended_at(fake: FakeDiscord, fragment: str) -> int:
    """Index of the first call that said `fragment` (the result of a vote, say)."""
    return next(i for i, c in enumerate(fake.calls) if any(fragment in t for t in read(c)))


def texts(calls: Iterable[RecordedCall]) -> list[str]:
    """Every line of every call."""
    return [line for call in calls for line in read(call)]


async def test_a_secret_item_in_a_meeting_shows_nobody_beside_a_ballot_and_no_tally_until_it_ends(
    meeting: Ballots,
) -> None:
    fake = meeting.fake
    ann, bart, cord = meeting.voters
    await meeting.create(2, title="Elect the secretary", electorate="tsc", secret="yes")
    await meeting.shown(await meeting.slash("session", "open", ann, body="tsc", agenda="2"))
    post = await session_message(meeting)
    for voter in meeting.voters:
        await meeting.shown(await meeting.press("gov:session present session:1", voter))
    await meeting.edited_to(post, "Present (3)")
    await meeting.press("gov:session next session:1", ann)
    live = await meeting.edited_to(post, "1. #2 Elect the secretary: voting now")
    assert _buttons(live)["No"] == "gov:vote cast 2 no"
    given: Given = {v: (set(), set()) for v in meeting.voters}
    receipts: dict[str, str] = {}

    async def cast(record: Any, voter: FakeUser, choice: str, reason: str = "") -> str:
        await meeting.shown(record)
        await meeting.settled()
        ids = [record.original_message_id or 0, *record.followup_ids]
        private = [fake.messages[i] for i in ids if i in fake.messages]
        shown = "\n".join(embed_text(m) for m in private if is_ephemeral(m))
        found = RECEIPT.findall(shown)
        assert len(found) == 1, shown
        assert receipts.setdefault(str(voter.id), found[0]) == found[0]
        given[voter][0].add(choice)
        if reason:
            given[voter][1].add(reason)
        return shown

    await cast(await meeting.press("gov:vote cast 2 abstain", ann), ann, "abstain")
    await meeting.edited_to(post, "Voted: 1 of 3 present.")
    changed = await cast(await meeting.press("gov:vote cast 2 yes", ann), ann, "yes")
    assert "changed" in changed
    modal = await meeting.modal(await meeting.press("gov:vote cast 2 no", bart))
    submitted = await meeting.submit(modal["custom_id"], bart, {"reason": "Too soon to say"})
    await cast(submitted, bart, "no", "Too soon to say")
    await meeting.edited_to(post, "Voted: 2 of 3 present.")
    await cast(await meeting.press("gov:vote cast 2 yes", cord), cord, "yes")
    ended = await meeting.edited_to(post, "1. #2 Elect the secretary: ")
    await fake.wait_until(
        lambda: any("Proposal #2" in t and "has closed" in t for t in texts(fake.calls)),
        description="the result posted",
    )
    closed = await meeting.shown(await meeting.press("gov:session close session:1", ann))
    assert "Session #1 of tsc has closed" in embed_text(closed)
    await meeting.edited_to(post, "The session closed")
    await meeting.settled()
    assert "voting now" not in embed_text(ended)

    result = next(t for c in fake.calls for t in [_sent(c)] if "Receipts counted:" in t)
    assert "Tally: Yes 2, No 1, Abstain 0." in result
    assert "A voter (No): Too soon to say" in result
    minutes = "\n".join(t for c in fake.calls for t in c.file_texts)
    assert "# Minutes of session #1 (tsc)" in minutes
    assert "Reason (No): Too soon to say" in minutes
    # Until the item ended, nothing showed a tally: not the session message, not anything.
    end = ended_at(fake, "Receipts counted:")
    assert any("Voted: 2 of 3 present." in t for t in texts(fake.calls[:end]))
    assert not [t for t in texts(fake.calls[:end]) if "Tally" in t]
    assert not [t for t in texts(fake.calls[:end]) if re.search(r"\b(Yes|No|Abstain) \d", t)]
    assert_no_voter_beside_a_choice(fake, given)
    for voter_id, code in receipts.items():
        for call in fake.calls:
            if code in _sent(call) and _seen_by(fake, call) != voter_id:
                assert "Receipts counted:" in _sent(call), (call.path, _sent(call))
