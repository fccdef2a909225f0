"""Proposals and ballots on Discord, through discord.py against the fake, with real proposals.

Every ballot type is cast the way a member would (buttons, the reason modal, the select
menu, the ranking modal); the proposal's message is edited in place with its tally; closing
posts the result and removes the controls; a secret ballot names nobody next to a choice in
anything Discord was sent; a community's electorate is the server's member count.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_asyncio

from govbot.replies import CommunityRef, Notice, Reply, Visibility
from govbot.services import messages
from govbot.services.timers import run_due
from govbot.storage.db import Store
from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import (
    DiscordHarness,
    callback_data,
    custom_ids,
    discord_settings,
    embed_text,
    is_ephemeral,
    set_up_community,
)
from tests.e2e.fakes.discord_server import (
    EPHEMERAL,
    FakeDiscord,
    FakeUser,
    InteractionRecord,
    OptionValue,
    RecordedCall,
)

fake, discord_store = fx.fake, fx.discord_store

Json = dict[str, Any]
MODAL = 9
VOTERS = ("ashwini", "bartholomew", "cordelia")


@dataclass
class Ballots:
    """The running front end and three members who vote (besides the fake's own users)."""

    harness: DiscordHarness
    voters: tuple[FakeUser, ...]

    @property
    def fake(self) -> FakeDiscord:
        """Return the fake Discord."""
        return self.harness.fake

    async def slash(
        self, name: str, subcommand: str, user: FakeUser, **options: OptionValue
    ) -> InteractionRecord:
        """Type a slash command as `user`."""
        return await self.harness.slash(name, subcommand, user=user, options=options)

    async def press(
        self, custom_id: str, user: FakeUser, values: Sequence[str] | None = None
    ) -> InteractionRecord:
        """Press a button (or pick from a menu) on the newest message that carries it."""
        payload = self.fake.build_component(custom_id, user=user, values=values)
        return await self.fake.push_interaction(payload)

    async def submit(
        self, custom_id: str, user: FakeUser, values: Mapping[str, str]
    ) -> InteractionRecord:
        """Submit the modal last opened under `custom_id`."""
        payload = self.fake.build_modal_submit(custom_id, user=user, values=values)
        return await self.fake.push_interaction(payload)

    async def shown(self, record: InteractionRecord) -> Json:
        """Return the message an interaction was answered with (direct or after a defer)."""
        return await self.harness.final_answer(record)

    async def modal(self, record: InteractionRecord) -> Json:
        """Return the modal an interaction opened."""
        call = await self.harness.answer(record)
        assert call.body["type"] == MODAL, call.body
        return callback_data(call)

    async def create(self, number: int = 1, **options: OptionValue) -> Json:
        """Open proposal `number` as the steward by slash command; return its message as posted.

        A copy: the fake edits its own message in place, which is read by id when edited.
        """
        record = await self.slash("proposal", "create", self.fake.steward, **options)
        message = await self.shown(record)
        assert not is_ephemeral(message), embed_text(message)
        await self.remembered(number)
        return copy.deepcopy(message)

    async def remembered(self, number: int) -> tuple[str, str]:
        """Wait until the front end knows where proposal `number` was posted."""
        found: list[tuple[str, str]] = []

        def known() -> bool:
            posted = self.posted(number)
            if posted is not None:
                found.append(posted)
            return posted is not None

        await self.fake.wait_until(known, description=f"proposal {number} remembered")
        return found[0]

    def posted(self, number: int) -> tuple[str, str] | None:
        """Say where proposal `number` was posted, as the front end noted it."""
        store = self.harness.store
        return messages.find(store, "discord", str(self.fake.guild_id), f"proposal:{number}")

    async def edited_to(self, message: Json, fragment: str) -> Json:
        """Wait until a message has been edited (PATCH) to show `fragment`; return it."""
        message_id = int(message["id"])

        def shows() -> bool:
            edits = self.fake.message_edits(message_id)
            return bool(edits) and fragment in embed_text(self.fake.messages[message_id])

        await self.fake.wait_until(shows, description=f"an edit showing {fragment!r}")
        return self.fake.messages[message_id]

    async def settled(self) -> None:
        """Wait until the front end has answered everything and sent every pending edit."""
        await self.harness.settle()
        edits = self.harness.front_end.client.presses.edits  # type: ignore[union-attr]
        await self.fake.wait_until(lambda: not edits.busy(), description="the edits sent")

    async def close_by_timer(self, days: int = 8) -> None:
        """Run the timers as if `days` had passed and deliver what they say."""
        assert self.harness.front_end is not None
        notices = run_due(self.harness.store, datetime.now(UTC) + timedelta(days=days))
        for notice in notices:
            await self.harness.front_end.deliver(notice)


@pytest_asyncio.fixture
async def ballots(fake: FakeDiscord, discord_store: Store) -> AsyncIterator[Ballots]:
    """Run the Discord front end on a server that has three more members, set up."""
    # Members and channels must exist before the client connects: GUILD_CREATE carries them.
    voters = tuple(fake.add_user(name) for name in VOTERS)
    announcements = fake.add_text_channel("announcements")
    settings = discord_settings(fake, discord_store.engine.url.render_as_string(False))
    harness = DiscordHarness(fake, discord_store, settings, announcements)
    await harness.start()
    try:
        await set_up_community(harness)
        yield Ballots(harness, voters)
    finally:
        await harness.stop()


def _buttons(message: Json) -> dict[str, str]:
    return {
        c["label"]: c["custom_id"]
        for row in message.get("components") or []
        for c in row["components"]
        if c["type"] == 2
    }


def _menu(message: Json) -> Json:
    return next(
        c for row in message.get("components") or [] for c in row["components"] if c["type"] == 3
    )


def _inputs(modal: Json) -> list[str]:
    return [
        c["custom_id"] for row in modal["components"] for c in row["components"] if c["type"] == 4
    ]


# --- every ballot type -----------------------------------------------------------------------


async def test_yes_no_abstain_buttons_vote_a_no_asks_its_reason_and_the_tally_is_edited_in(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    ann, bart, cord = ballots.voters
    post = await ballots.create(title="Paint the shed")
    assert _buttons(post) == {
        "Yes": "gov:vote cast 1 yes",
        "No": "gov:vote cast 1 no",
        "Abstain": "gov:vote cast 1 abstain",
    }

    yes = await ballots.shown(await ballots.press("gov:vote cast 1 yes", ann))
    assert is_ephemeral(yes)
    assert embed_text(yes).startswith("Your ballot on #1 is recorded: Yes.")
    await ballots.edited_to(post, "Tally: Yes 1, No 0, Abstain 0.")

    reason = await ballots.modal(await ballots.press("gov:vote cast 1 no", bart))
    assert reason["custom_id"] == "govform:0/1:vote cast 1 no"
    assert _inputs(reason) == ["reason"]
    no = await ballots.shown(
        await ballots.submit(reason["custom_id"], bart, {"reason": "Too costly"})
    )
    assert is_ephemeral(no)
    assert embed_text(no).startswith("Your ballot on #1 is recorded: No.")
    abstain = await ballots.shown(await ballots.press("gov:vote cast 1 abstain", cord))
    assert embed_text(abstain).startswith("Your ballot on #1 is recorded: Abstain.")

    edited = await ballots.edited_to(post, "Tally: Yes 1, No 1, Abstain 1.")
    assert "Ballots: 3 of" in embed_text(edited)
    assert custom_ids(edited) == custom_ids(post)  # still open: the buttons stay
    await ballots.settled()
    # Edited in place: the channel shows the proposal and no second copy of it.
    public = [embed_text(m) for m in fake.channel_messages(fake.channel) if not is_ephemeral(m)]
    assert [t.splitlines()[0] for t in public if t.startswith("Proposal")] == [
        "Proposal #1: Paint the shed"
    ]


async def test_consent_buttons_vote_and_a_minus_one_is_cast_through_the_reason_modal(
    ballots: Ballots,
) -> None:
    ann, bart, cord = ballots.voters
    post = await ballots.create(title="Adopt the code of conduct", method="consent")
    assert _buttons(post) == {
        "+1": "gov:vote cast 1 +1",
        "0": "gov:vote cast 1 0",
        "-1": "gov:vote cast 1 -1",
    }

    plus = await ballots.shown(await ballots.press("gov:vote cast 1 +1", ann))
    assert embed_text(plus).startswith("Your ballot on #1 is recorded: +1.")
    zero = await ballots.shown(await ballots.press("gov:vote cast 1 0", bart))
    assert embed_text(zero).startswith("Your ballot on #1 is recorded: 0.")
    reason = await ballots.modal(await ballots.press("gov:vote cast 1 -1", cord))
    assert reason["custom_id"] == "govform:0/1:vote cast 1 -1"
    minus = await ballots.shown(
        await ballots.submit(reason["custom_id"], cord, {"reason": "It has no appeals"})
    )

    assert is_ephemeral(minus)
    assert embed_text(minus).startswith("Your ballot on #1 is recorded: -1")
    await ballots.edited_to(post, "Tally: +1 1, 0 1, -1 1.")


async def test_sign_off_and_a_concern_raised_through_its_reason_modal(ballots: Ballots) -> None:
    fake = ballots.fake
    ann, bart, _ = ballots.voters
    post = await ballots.create(title="Freeze the API", method="sign-off")
    assert _buttons(post) == {
        "Sign off": "gov:vote cast 1 sign-off",
        "Raise a concern": "gov:concern raise 1",
    }

    signed = await ballots.shown(await ballots.press("gov:vote cast 1 sign-off", ann))
    assert is_ephemeral(signed)
    assert embed_text(signed).startswith("Your ballot on #1 is recorded: Sign off.")
    await ballots.edited_to(post, "Tally: Sign off 1.")
    reason = await ballots.modal(await ballots.press("gov:concern raise 1", bart))
    assert reason["custom_id"] == "govform:0/1:concern raise 1"
    raised = await ballots.submit(reason["custom_id"], bart, {"reason": "Errors are not final"})

    concern = await ballots.shown(raised)
    assert not is_ephemeral(concern)  # a concern is raised in the open
    assert (
        embed_text(concern) == "@Bartholomew raised concern 1 on proposal #1: Errors are not final"
    )
    await ballots.settled()
    assert fake.messages[int(post["id"])]["components"] == post["components"]


async def test_approval_is_a_select_menu_of_the_options_and_several_can_be_picked(
    ballots: Ballots,
) -> None:
    ann, bart, _ = ballots.voters
    post = await ballots.create(
        title="Pick the meetup days", method="approval", options="Monday|Wednesday|Friday"
    )
    menu = _menu(post)
    assert menu["custom_id"] == "govsel:vote cast 1"
    assert [(o["label"], o["value"]) for o in menu["options"]] == [
        ("Monday", "1"),
        ("Wednesday", "2"),
        ("Friday", "3"),
    ]
    assert (menu["min_values"], menu["max_values"]) == (1, 3)
    assert menu["placeholder"] == "Pick every option you approve of"

    picked = await ballots.shown(await ballots.press("govsel:vote cast 1", ann, ["1", "3"]))
    assert is_ephemeral(picked)
    assert embed_text(picked).startswith("Your ballot on #1 is recorded: Monday, Friday.")
    await ballots.press("govsel:vote cast 1", bart, ["3"])

    edited = await ballots.edited_to(post, "Tally: Monday 1, Wednesday 0, Friday 2.")
    assert custom_ids(edited) == ["govsel:vote cast 1"]


async def test_ranked_and_irv_ballots_are_cast_in_the_ranking_modal(ballots: Ballots) -> None:
    ann, bart, _ = ballots.voters
    schulze = await ballots.create(
        title="Name the release", method="ranked", options="Aspen|Birch|Cedar"
    )
    runoff = await ballots.create(
        2, title="Name the mascot", method="irv", options="Otter|Fox|Crane"
    )

    ranked_as = {1: "Birch > Aspen > Cedar", 2: "Fox > Otter > Crane"}
    for number, post in ((1, schulze), (2, runoff)):
        assert _buttons(post) == {"Rank the options": f"gov:vote cast {number}"}
        modal = await ballots.modal(await ballots.press(f"gov:vote cast {number}", ann))
        assert modal["custom_id"] == f"govform:0/1:vote cast {number}"
        assert modal["title"] == f"Rank #{number}"
        assert _inputs(modal) == ["choice"]
        ranked = await ballots.shown(
            await ballots.submit(modal["custom_id"], ann, {"choice": "2>1>3"})
        )
        assert is_ephemeral(ranked)
        assert embed_text(ranked).startswith(
            f"Your ballot on #{number} is recorded: {ranked_as[number]}."
        )

    await ballots.edited_to(schulze, "Tally: Aspen 0, Birch 1, Cedar 0.")
    await ballots.edited_to(runoff, "Tally: Otter 0, Fox 1, Crane 0.")
    # A ranking that repeats an option is refused in private; nothing changes.
    modal = await ballots.modal(await ballots.press("gov:vote cast 1", bart))
    refused = await ballots.shown(await ballots.submit(modal["custom_id"], bart, {"choice": "1>1"}))
    assert is_ephemeral(refused)
    assert embed_text(refused) == "`Aspen` appears twice in your ranking."
    assert "Ballots: 1 of" in embed_text(ballots.fake.messages[int(schulze["id"])])


# --- creating from the form ----------------------------------------------------------------


async def test_a_proposal_is_created_from_the_form(ballots: Ballots) -> None:
    fake = ballots.fake
    steward = fake.steward
    modal = await ballots.modal(await ballots.slash("proposal", "create", steward))
    assert modal["custom_id"] == "govform:0/1:proposal create"
    assert modal["title"] == "New proposal"
    # One modal (Discord allows five inputs): the rest of the options as typed pairs.
    assert _inputs(modal) == ["title", "text", "electorate", "method", "more"]

    opened = await ballots.shown(
        await ballots.submit(
            modal["custom_id"],
            steward,
            {
                "title": "Choose a logo",
                "text": "Three drafts",
                "method": "approval",
                "more": 'options:"Circle|Square|Star" closes:3d',
            },
        )
    )

    assert not is_ephemeral(opened)
    text = embed_text(opened)
    assert text.startswith("Proposal #1: Choose a logo\nThree drafts\n")
    assert "Method: Approval." in text
    assert "Options: 1. Circle, 2. Square, 3. Star." in text
    assert _menu(opened)["custom_id"] == "govsel:vote cast 1"
    await ballots.remembered(1)
    # A bad pair is refused in private, and nothing is opened.
    modal = await ballots.modal(await ballots.slash("proposal", "create", steward))
    refused = await ballots.shown(
        await ballots.submit(modal["custom_id"], steward, {"title": "Odd", "more": "colour:red"})
    )
    assert is_ephemeral(refused)
    assert embed_text(refused).startswith("Unknown key colour.\nUsage: /proposal create")
    assert ballots.posted(2) is None


# --- closing ---------------------------------------------------------------------------------


async def test_a_chair_close_in_the_announce_channel_posts_the_result_and_removes_the_controls(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    announce = ballots.harness.announcements
    ann, bart, _ = ballots.voters
    await ballots.harness.answer(
        await ballots.slash("setup", "set", fake.steward, announce=announce)
    )
    created = await ballots.slash("proposal", "create", fake.steward, title="Move the meeting")
    pointer = await ballots.shown(created)
    assert embed_text(pointer) == f"Posted in <#{announce.id}>."
    channel, message_id = await ballots.remembered(1)
    assert channel == str(announce.id)
    post = fake.messages[int(message_id)]
    await ballots.press("gov:vote cast 1 yes", ann)
    await ballots.press("gov:vote cast 1 yes", bart)
    await ballots.edited_to(post, "Tally: Yes 2, No 0, Abstain 0.")

    closing = await ballots.slash("proposal", "close", fake.steward, id="1", reason="Agreed")
    await ballots.shown(closing)

    await fake.wait_until(lambda: fake.messages[int(message_id)]["components"] == [])
    await ballots.settled()
    closed = embed_text(fake.messages[int(message_id)])
    assert "Ballots: 2 of 7." in closed
    assert "Tally:" not in closed  # the result has the tally; the proposal no longer counts
    shown = [embed_text(m) for m in fake.channel_messages(announce) if not is_ephemeral(m)]
    assert len(shown) == 2
    assert shown[1].startswith("Proposal #1 (Move the meeting) has closed early.\n")
    assert "Outcome: passed." in shown[1]
    assert "Tally: Yes 2, No 0, Abstain 0." in shown[1]
    assert "Closed because: Agreed" in shown[1]


async def test_a_timer_closes_the_vote_in_place_and_an_update_nobody_posted_is_dropped(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    assert ballots.harness.front_end is not None
    ann, bart, cord = ballots.voters
    post = await ballots.create(title="Buy a projector", method="consent", closes="2d")
    await ballots.press("gov:vote cast 1 +1", ann)
    await ballots.press("gov:vote cast 1 +1", bart)
    await ballots.edited_to(post, "Tally: +1 2, 0 0, -1 0.")
    await ballots.settled()
    community = CommunityRef("discord", str(fake.guild_id))
    before = len(fake.calls)

    unknown = Reply("Nobody posted this.", Visibility.PUBLIC, updates="proposal:9")
    await ballots.harness.front_end.deliver(Notice(community, unknown))
    await ballots.close_by_timer()

    await fake.wait_until(lambda: fake.messages[int(post["id"])]["components"] == [])
    await ballots.settled()
    result = [m for m in fake.channel_messages(fake.channel) if not is_ephemeral(m)][-1]
    assert embed_text(result).startswith("Proposal #1 (Buy a projector) has closed.\n")
    assert "Outcome: passed." in embed_text(result)
    # No vote after close: the buttons went with the edit, and a typed ballot is refused.
    late = await ballots.shown(await ballots.slash("vote", "cast", cord, id="1", choice="+1"))
    assert is_ephemeral(late)
    assert "closed" in embed_text(late)
    sent = [(c.method, c.path) for c in fake.calls[before:] if c.path.startswith("/channels")]
    assert sent == [
        ("POST", f"/channels/{fake.channel.id}/messages"),
        ("PATCH", f"/channels/{fake.channel.id}/messages/{post['id']}"),
    ]


# --- who can see what ------------------------------------------------------------------------

RECEIPT = re.compile(r"\b[A-Z2-7]{5}-[A-Z2-7]{5}\b")


def _record_of(fake: FakeDiscord, call: RecordedCall) -> InteractionRecord | None:
    """Find the interaction a callback or webhook call answers."""
    callback = re.fullmatch(r"/interactions/(\d+)/[^/]+/callback", call.path)
    if callback is not None:
        return fake.interactions.get(int(callback[1]))
    hook = re.fullmatch(r"/webhooks/\d+/([^/]+)(?:/.*)?", call.path)
    if hook is not None:
        return next((r for r in fake.interactions.values() if r.token == hook[1]), None)
    return None


def _seen_by(fake: FakeDiscord, call: RecordedCall) -> str | None:
    """Say who alone sees what a call sent (a member's id), or None for a channel's readers."""
    record = _record_of(fake, call)
    body: Json = call.body if isinstance(call.body, dict) else {}
    if record is not None:
        member = record.payload.get("member") or {}
        user = str((member.get("user") or record.payload.get("user") or {}).get("id"))
        data = body.get("data") if "/callback" in call.path else body
        flags = int((data or {}).get("flags") or 0)
        if call.path.endswith("/@original") and record.original_message_id is not None:
            flags |= int(fake.messages[record.original_message_id].get("flags") or 0)
        private = body.get("type") == MODAL or bool(flags & EPHEMERAL)
        return user if private else None
    channel = re.fullmatch(r"/channels/(\d+)/messages(?:/\d+)?", call.path)
    found = fake.channels.get(int(channel[1])) if channel is not None else None
    if found is not None and found["type"] == 1:  # a DM: its one reader
        return str((found.get("recipients") or [{}])[0].get("id"))
    return None


def _sent(call: RecordedCall) -> str:
    """Everything a call carried that a person could be shown, as one text."""
    return json.dumps(call.body, ensure_ascii=False)


def _names(user: FakeUser) -> list[str]:
    return [str(user.id), user.username, user.global_name or user.username]


async def test_a_secret_ballot_never_shows_a_voter_beside_a_choice_or_reason(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    ann, bart, cord = ballots.voters
    post = await ballots.create(title="Elect the treasurer", secret="yes")
    assert "Secret ballot" in embed_text(post)
    given: dict[FakeUser, tuple[set[str], set[str]]] = {v: (set(), set()) for v in ballots.voters}

    def gave(voter: FakeUser, choice: str, reason: str | None = None) -> None:
        given[voter][0].add(choice)
        if reason:
            given[voter][1].add(reason)

    receipts: dict[str, str] = {}

    async def answered(record: InteractionRecord) -> str:
        shown = await ballots.shown(record)  # each voter waits for their answer
        assert is_ephemeral(shown)
        found = RECEIPT.findall(embed_text(shown))
        assert len(found) == 1, embed_text(shown)
        voter = str(record.payload["member"]["user"]["id"])
        assert receipts.setdefault(voter, found[0]) == found[0]  # one receipt per voter
        return embed_text(shown)

    modal = await ballots.modal(await ballots.press("gov:vote cast 1 no", ann))
    await answered(await ballots.submit(modal["custom_id"], ann, {"reason": "We cannot afford it"}))
    gave(ann, "no", "We cannot afford it")
    await answered(
        await ballots.slash("vote", "cast", bart, id="1", choice="no", reason="The hall is small")
    )
    gave(bart, "no", "The hall is small")
    changed = await answered(await ballots.press("gov:vote cast 1 yes", bart))
    assert "changed" in changed  # the last ballot counts
    gave(bart, "yes")
    await answered(
        await ballots.slash("vote", "cast", cord, id="1", choice="yes", reason="Best we have")
    )
    gave(cord, "yes", "Best we have")
    assert "Your receipt" in await answered(await ballots.slash("vote", "receipt", ann, id="1"))
    peek = await ballots.shown(await ballots.slash("proposal", "show", fake.member, id="1"))
    assert "Ballots: 3 of 7." in embed_text(peek)
    await ballots.settled()
    before_close = len(fake.calls)

    closing = await ballots.slash("proposal", "close", fake.steward, id="1", reason="Time")
    result = embed_text(await ballots.shown(closing))
    await ballots.edited_to(post, "Ballots: 3 of 7.")
    await ballots.settled()

    # Nothing showed a tally, or edited the proposal, before it closed.
    assert fake.message_edits(post["id"])[0].at >= fake.calls[before_close].at
    assert not [c for c in fake.calls[:before_close] if "Tally" in _sent(c)]
    assert result.startswith("Proposal #1 (Elect the treasurer) has closed early.\n")
    assert "Tally: Yes 2, No 1, Abstain 0." in result
    assert "A voter (No): We cannot afford it" in result
    assert "The hall is small" not in result  # a changed ballot's reason went with it
    assert sorted(RECEIPT.findall(result.split("Receipts counted:")[1])) == sorted(
        receipts.values()
    )
    # Everything Discord was sent: no voter next to a choice or a reason they gave, and each
    # receipt only in its voter's own answers and in the result.
    calls = list(fake.calls)
    kinds = {(c.method, c.body.get("type") if isinstance(c.body, dict) else None) for c in calls}
    assert {("POST", MODAL), ("POST", 4), ("PATCH", None)} <= kinds  # modals, answers, edits
    for call in calls:
        text = _sent(call)
        for voter, (choices, reasons) in given.items():
            if _seen_by(fake, call) == str(voter.id):
                continue  # what the voter alone sees may show them their own ballot
            if not any(name.lower() in text.lower() for name in _names(voter)):
                continue
            assert not any(reason in text for reason in reasons), (call.path, text)
            for choice in choices:
                assert not re.search(rf"\b{choice}\b", text, re.IGNORECASE), (call.path, text)
        for voter_id, receipt in receipts.items():
            if receipt in text and _seen_by(fake, call) != voter_id:
                assert "Receipts counted:" in text and "has closed" in text, (call.path, text)


async def test_hidden_results_show_no_tally_until_the_timer_closes_the_vote(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    ann, bart, _ = ballots.voters
    post = await ballots.create(title="Rename the channel", hide_results="yes", closes="3d")
    assert "Results are hidden until close." in embed_text(post)

    mine = await ballots.shown(await ballots.press("gov:vote cast 1 yes", ann))
    assert embed_text(mine).startswith("Your ballot on #1 is recorded: Yes.")  # to ann only
    modal = await ballots.modal(await ballots.press("gov:vote cast 1 no", bart))
    await ballots.shown(await ballots.submit(modal["custom_id"], bart, {"reason": "Confusing"}))
    peek = await ballots.shown(await ballots.slash("proposal", "show", fake.member, id="1"))
    await ballots.settled()

    assert "Tally" not in embed_text(peek)
    assert fake.message_edits(post["id"]) == []
    assert not [c for c in fake.calls if "Tally" in _sent(c)]
    await ballots.close_by_timer(days=4)
    closed = await ballots.edited_to(post, "Ballots: 2 of 7.")
    assert closed["components"] == []
    await ballots.settled()
    result = [embed_text(m) for m in fake.channel_messages(fake.channel) if not is_ephemeral(m)]
    assert "Tally: Yes 1, No 1, Abstain 0." in result[-1]
    assert "Outcome: failed." in result[-1]


# --- the electorate --------------------------------------------------------------------------


async def test_a_community_vote_counts_its_electorate_from_the_server_member_count(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    ann, bart, _ = ballots.voters
    members = int(fake.guild_payload()["member_count"])
    assert members == 7  # the owner, the steward, the member, the three voters and the bot

    post = await ballots.create(title="Hold a summit", electorate="community", quorum="50%")
    assert "Ballots: 0 of 7." in embed_text(post)
    await ballots.press("gov:vote cast 1 yes", ann)
    await ballots.press("gov:vote cast 1 yes", bart)
    await ballots.edited_to(post, "Ballots: 2 of 7.")
    await ballots.close_by_timer()
    await fake.wait_until(lambda: fake.messages[int(post["id"])]["components"] == [])
    await ballots.settled()

    result = [embed_text(m) for m in fake.channel_messages(fake.channel) if not is_ephemeral(m)]
    assert "Outcome: no quorum." in result[-1]
    assert "Quorum missed: 2 ballots, 4 needed, electorate 7." in result[-1]


# --- the front end's own handling ------------------------------------------------------------


async def test_a_burst_of_ballots_becomes_two_edits_ending_with_the_newest_tally(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    ann = ballots.voters[0]
    edits = ballots.harness.front_end.client.presses.edits  # type: ignore[union-attr]
    post = await ballots.create(title="Pick a colour", method="approval", options="Red|Green|Blue")
    # Discord takes its time over the first edit: everything after it waits meanwhile.
    held = fake.hold("PATCH", rf"/channels/{fake.channel.id}/messages/{post['id']}")

    for _ in range(30):
        picked = await ballots.shown(await ballots.press("govsel:vote cast 1", ann, ["1", "2"]))
        assert is_ephemeral(picked)
    newest = await ballots.shown(await ballots.press("govsel:vote cast 1", ann, ["3"]))
    assert "Blue" in embed_text(newest)
    await fake.wait_until(lambda: held.arrived == 1, description="the first edit")
    held.release()

    await fake.wait_until(
        lambda: len(fake.message_edits(post["id"])) == 2 and not edits.busy(),
        description="the edits",
    )
    sent = fake.message_edits(post["id"])
    assert "Tally: Red 1, Green 1, Blue 0." in embed_text(sent[0].body)
    assert "Tally: Red 0, Green 0, Blue 1." in embed_text(sent[1].body)
    assert "Ballots: 1 of 7." in embed_text(fake.messages[int(post["id"])])


async def test_a_form_button_opens_the_reason_form_and_records_nothing(ballots: Ballots) -> None:
    fake = ballots.fake
    post = await ballots.create(title="Close the forum", method="consent")
    # A form button, as shown when the modal could not open at once (a deferred answer).
    row = [
        {"type": 2, "style": 2, "label": "Your reason", "custom_id": "govform:0/1:vote cast 1 -1"}
    ]
    fake.add_bot_message(
        fake.channel, "That choice needs a reason.", [{"type": 1, "components": row}]
    )

    opened = await ballots.modal(await ballots.press("govform:0/1:vote cast 1 -1", fake.member))

    assert opened["title"] == "Your reason"
    assert _inputs(opened) == ["reason"]
    await ballots.settled()
    assert fake.message_edits(post["id"]) == []  # asking for the form cast nothing


async def test_a_keyed_notice_is_posted_once_and_later_updates_edit_it(ballots: Ballots) -> None:
    fake = ballots.fake
    harness = ballots.harness
    assert harness.front_end is not None
    community = CommunityRef("discord", str(fake.guild_id))

    await harness.front_end.deliver(
        Notice(community, Reply("Proposal 7 is open.", Visibility.PUBLIC, key="proposal:7"))
    )
    await harness.front_end.deliver(
        Notice(community, Reply("Proposal 7: 1 vote.", Visibility.PUBLIC, updates="proposal:7"))
    )

    posted = ballots.posted(7)
    assert posted is not None
    channel, message_id = posted
    assert channel == str(fake.channel.id)  # the system channel: no announce channel is set
    await fake.wait_until(lambda: len(fake.message_edits(message_id)) == 1, description="edit")
    assert embed_text(fake.messages[int(message_id)]) == "Proposal 7: 1 vote."
