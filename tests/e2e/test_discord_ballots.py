"""Ballot controls on Discord: a select menu, preset forms, and posts edited in place."""

from __future__ import annotations

from typing import Any

from govbot.replies import CommunityRef, Notice, Reply, Visibility
from govbot.services import messages
from tests.e2e import ballot_commands as ballots
from tests.e2e import discord_fixtures as fx
from tests.e2e.ballot_commands import KEY, Ballots, Pick
from tests.e2e.discord_fixtures import (
    DiscordHarness,
    callback_data,
    custom_ids,
    embed_text,
    is_ephemeral,
    set_up_community,
)
from tests.e2e.fakes.discord_server import FakeUser, InteractionRecord

fake, discord_store, harness = fx.fake, fx.discord_store, fx.harness
ballot_commands = ballots.ballot_commands

Json = dict[str, Any]
MENU_ID = "govsel:ballot pick 1"
OBJECT_ID = "gov:ballot pick 1 -1"
FORM_ID = "govform:0/1:ballot pick 1 -1"
MODAL = 9


def _buttons(*custom_ids: str) -> list[Json]:
    row = [{"type": 2, "style": 1, "label": c, "custom_id": c} for c in custom_ids]
    return [{"type": 1, "components": row}]


def _menu(message: Json) -> Json:
    return next(
        c
        for row in message["components"]
        for c in row["components"]
        if c.get("custom_id") == MENU_ID
    )


async def _press(
    harness: DiscordHarness, custom_id: str, user: FakeUser, values: list[str] | None = None
) -> InteractionRecord:
    fake = harness.fake
    return await fake.push_interaction(fake.build_component(custom_id, user=user, values=values))


def _posted_at(harness: DiscordHarness) -> tuple[str, str] | None:
    return messages.find(harness.store, "discord", str(harness.fake.guild_id), KEY)


async def _open_ballot(harness: DiscordHarness) -> Json:
    """Press a button that runs `ballot open`; return the ballot message once it is known."""
    fake = harness.fake
    fake.add_bot_message(fake.channel, "Start the ballot", _buttons("gov:ballot open"))
    record = await _press(harness, "gov:ballot open", fake.member)
    await harness.answer(record)
    await fake.wait_until(lambda: _posted_at(harness) is not None, description="remembered")
    _, message_id = _posted_at(harness) or ("", "")
    return fake.messages[int(message_id)]


async def test_a_ballot_post_carries_a_menu_of_the_options_and_the_other_buttons(
    harness: DiscordHarness, ballot_commands: Ballots
) -> None:
    ballot = await _open_ballot(harness)

    assert embed_text(ballot) == "Ballot 1: which fruit?"
    assert ballot["channel_id"] == str(harness.fake.channel.id)
    menu = _menu(ballot)
    assert [(o["label"], o["value"]) for o in menu["options"]] == [
        ("Apples", "A"),
        ("Big bananas", "big banana"),
        ("Cherries", "C"),
    ]
    assert (menu["min_values"], menu["max_values"]) == (1, 3)
    assert menu["placeholder"] == "Pick the fruit you want"
    # The menu fills the first row alone; the button follows on a row of its own.
    assert [len(row["components"]) for row in ballot["components"]] == [1, 1]
    assert custom_ids(ballot) == [MENU_ID, OBJECT_ID]


async def test_picking_runs_the_command_with_the_picks_as_the_picker_and_edits_the_post(
    harness: DiscordHarness, ballot_commands: Ballots
) -> None:
    fake = harness.fake
    ballot = await _open_ballot(harness)

    record = await _press(harness, MENU_ID, fake.steward, values=["A", "big banana"])

    answer = callback_data(await harness.answer(record))
    assert is_ephemeral(answer)
    assert embed_text(answer) == "Recorded A,big banana for Steward."
    members = int(fake.guild_payload()["member_count"])
    assert ballot_commands.picks == [
        Pick(str(fake.steward.id), "Steward", "A,big banana", None, members)
    ]
    await fake.wait_until(lambda: len(fake.message_edits(ballot["id"])) == 1, description="edit")
    edited = fake.messages[int(ballot["id"])]
    assert embed_text(edited) == "Ballot 1: 1 picks, the last A,big banana."
    assert custom_ids(edited) == [MENU_ID, OBJECT_ID]
    # Edited in place: the channel shows the starter, the ballot, and nothing new.
    public = [m for m in fake.channel_messages(fake.channel) if not is_ephemeral(m)]
    assert len(public) == 2


async def test_an_objection_asks_for_a_reason_and_the_form_keeps_the_preset_values(
    harness: DiscordHarness, ballot_commands: Ballots
) -> None:
    fake = harness.fake
    await _open_ballot(harness)

    record = await _press(harness, OBJECT_ID, fake.member)
    opened = await harness.answer(record)
    assert opened.body["type"] == MODAL
    assert callback_data(opened)["custom_id"] == FORM_ID
    submit = await fake.push_interaction(
        fake.build_modal_submit(FORM_ID, user=fake.member, values={"reason": "Too sour"})
    )

    assert await harness.said(submit) == "Recorded -1 for Member."
    assert ballot_commands.picks[-1].choice == "-1"
    assert ballot_commands.picks[-1].reason == "Too sour"


async def test_a_form_button_opens_the_form_of_a_preset_command(
    harness: DiscordHarness, ballot_commands: Ballots
) -> None:
    fake = harness.fake
    # A form button, as shown when the modal could not open at once (a deferred answer).
    fake.add_bot_message(fake.channel, "Say why you object.", _buttons(FORM_ID))

    record = await _press(harness, FORM_ID, fake.member)

    opened = await harness.answer(record)
    assert opened.body["type"] == MODAL
    assert callback_data(opened)["title"] == "Why do you object?"
    assert ballot_commands.picks == []  # asking for the form recorded nothing


async def test_in_the_announce_channel_a_ballot_is_updated_then_closed_in_place(
    harness: DiscordHarness, ballot_commands: Ballots
) -> None:
    fake = harness.fake
    announce = harness.announcements
    await set_up_community(harness)
    await harness.answer(
        await harness.slash("setup", "set", user=fake.steward, options={"announce": announce})
    )
    fake.add_bot_message(fake.channel, "Start", _buttons("gov:ballot open", "gov:ballot close 1"))

    opened = await harness.final_answer(await _press(harness, "gov:ballot open", fake.member))
    assert embed_text(opened) == f"Posted in <#{announce.id}>."
    await fake.wait_until(lambda: _posted_at(harness) is not None, description="remembered")
    ballot = fake.channel_messages(announce)[-1]
    assert _posted_at(harness) == (str(announce.id), ballot["id"])
    await harness.answer(await _press(harness, MENU_ID, fake.member, values=["C"]))
    await fake.wait_until(lambda: len(fake.message_edits(ballot["id"])) == 1, description="edit")
    await harness.final_answer(await _press(harness, "gov:ballot close 1", fake.steward))

    await fake.wait_until(lambda: len(fake.message_edits(ballot["id"])) == 2, description="close")
    closed = fake.messages[int(ballot["id"])]
    assert embed_text(closed) == "Ballot 1 closed after 1 picks."
    assert closed["components"] == []
    shown = [embed_text(m) for m in fake.channel_messages(announce) if not is_ephemeral(m)]
    assert shown == ["Ballot 1 closed after 1 picks.", "Result of ballot 1: apples."]


async def test_a_timer_notice_edits_the_ballot_and_an_unknown_key_is_dropped(
    harness: DiscordHarness, ballot_commands: Ballots
) -> None:
    fake = harness.fake
    assert harness.front_end is not None
    community = CommunityRef("discord", str(fake.guild_id))
    ballot = await _open_ballot(harness)
    before = len(fake.calls)

    await harness.front_end.deliver(
        Notice(community, Reply("Nobody knows this one.", Visibility.PUBLIC, updates="ballot:9"))
    )
    await harness.front_end.deliver(
        Notice(community, Reply("Ballot 1 closed: time is up.", Visibility.PUBLIC, updates=KEY))
    )

    await fake.wait_until(lambda: len(fake.message_edits(ballot["id"])) == 1, description="edit")
    closed = fake.messages[int(ballot["id"])]
    assert embed_text(closed) == "Ballot 1 closed: time is up."
    assert closed["components"] == []
    assert [(c.method, c.path) for c in fake.calls[before:]] == [
        ("PATCH", f"/channels/{fake.channel.id}/messages/{ballot['id']}")
    ]


async def test_a_burst_of_updates_becomes_two_edits_ending_with_the_newest(
    harness: DiscordHarness, ballot_commands: Ballots
) -> None:
    fake = harness.fake
    assert harness.front_end is not None
    edits = harness.front_end.client.presses.edits  # type: ignore[union-attr]
    ballot = await _open_ballot(harness)
    # Discord takes its time over the first edit: everything after it waits meanwhile.
    held = fake.hold("PATCH", rf"/channels/{fake.channel.id}/messages/{ballot['id']}")

    burst = [await _press(harness, MENU_ID, fake.member, values=["A"]) for _ in range(50)]
    for record in burst:
        assert "Recorded A" in embed_text(await harness.final_answer(record))
    newest = await _press(harness, MENU_ID, fake.member, values=["C"])
    assert "Recorded C" in embed_text(await harness.final_answer(newest))
    await fake.wait_until(lambda: held.arrived == 1, description="the first edit")
    held.release()

    await fake.wait_until(
        lambda: len(fake.message_edits(ballot["id"])) == 2 and not edits.busy(),
        description="the edits",
    )
    sent = fake.message_edits(ballot["id"])
    assert len(sent) == 2
    assert embed_text(sent[-1].body) == "Ballot 1: 51 picks, the last C."
    assert embed_text(fake.messages[int(ballot["id"])]) == "Ballot 1: 51 picks, the last C."
    assert len(ballot_commands.picks) == 51


async def test_a_keyed_notice_is_posted_once_and_later_updates_edit_it(
    harness: DiscordHarness,
) -> None:
    fake = harness.fake
    assert harness.front_end is not None
    community = CommunityRef("discord", str(fake.guild_id))
    await set_up_community(harness)  # the community exists before a timer can fire for it

    await harness.front_end.deliver(
        Notice(community, Reply("Proposal 7 is open.", Visibility.PUBLIC, key="proposal:7"))
    )
    await harness.front_end.deliver(
        Notice(community, Reply("Proposal 7: 1 vote.", Visibility.PUBLIC, updates="proposal:7"))
    )

    posted = messages.find(harness.store, "discord", str(fake.guild_id), "proposal:7")
    assert posted is not None
    channel, message_id = posted
    assert channel == str(fake.channel.id)  # the system channel: no announce channel is set
    await fake.wait_until(lambda: len(fake.message_edits(message_id)) == 1, description="edit")
    assert embed_text(fake.messages[int(message_id)]) == "Proposal 7: 1 vote."
