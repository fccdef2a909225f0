"""Delegation on Discord: `/delegate set`, a delegate's button vote counting twice, and the
delegator's own button vote overriding it, through discord.py against the fake. On a secret
ballot, nothing after the delegation notices says who delegated to whom."""

from __future__ import annotations

from govbot.storage.db import Store
from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import embed_text, is_ephemeral
from tests.e2e.fakes.discord_server import FakeDiscord
from tests.e2e.test_discord_ballots import RECEIPT, Ballots, _buttons, _names, _seen_by, ballots
from tests.e2e.test_discord_sessions import Given, assert_no_voter_beside_a_choice, read

fake, discord_store = fx.fake, fx.discord_store
__all__ = ["ballots", "discord_store", "fake"]


async def test_a_delegates_button_vote_counts_twice_until_the_member_votes_in_person(
    ballots: Ballots, fake: FakeDiscord, discord_store: Store
) -> None:
    ann, bart, _ = ballots.voters
    for voter in ballots.voters:
        seated = await ballots.slash("body", "add", fake.steward, body="committee", member=voter)
        await ballots.shown(seated)
    allowed = await ballots.shown(
        await ballots.slash("body", "set", fake.steward, body="committee", delegation="yes")
    )
    assert "members may delegate their vote: yes" in embed_text(allowed)

    delegated = await ballots.shown(
        await ballots.slash("delegate", "set", bart, body="committee", member=ann)
    )
    assert is_ephemeral(delegated)
    assert "Your vote on committee's proposals is delegated to @Ashwini" in embed_text(delegated)

    post = await ballots.create(title="Move the meetup", electorate="committee")
    assert _buttons(post)["Yes"] == "gov:vote cast 1 yes"
    yes = await ballots.shown(await ballots.press("gov:vote cast 1 yes", ann))
    assert is_ephemeral(yes)
    assert "Also cast for @Bartholomew" in embed_text(yes)
    counted = await ballots.edited_to(post, "Tally: Yes 2, No 0, Abstain 0.")
    assert "Ballots: 2 of 3." in embed_text(counted)
    assert "Cast by delegation: 1." in embed_text(counted)

    # Bartholomew votes himself: his own ballot replaces the one cast for him.
    reason = await ballots.modal(await ballots.press("gov:vote cast 1 no", bart))
    no = await ballots.shown(
        await ballots.submit(reason["custom_id"], bart, {"reason": "Too far away"})
    )
    assert embed_text(no).startswith("Your ballot on #1 is recorded: No.")
    overridden = await ballots.edited_to(post, "Tally: Yes 1, No 1, Abstain 0.")
    assert "Ballots: 2 of 3." in embed_text(overridden)
    assert "Cast by delegation" not in embed_text(overridden)
    # A later change by the delegate leaves his in-person ballot alone (and settles the vote).
    await ballots.press("gov:vote cast 1 abstain", ann)

    def result_posted() -> bool:
        return any(
            "has closed early" in text and "Tally: Yes 0, No 1, Abstain 1." in text
            for text in map(embed_text, fake.messages.values())
        )

    await fake.wait_until(result_posted, description="the result posted")
    await ballots.settled()


async def test_a_delegate_on_a_secret_ballot_casts_for_the_delegator_and_nothing_says_so(
    ballots: Ballots, fake: FakeDiscord
) -> None:
    ann, bart, cord = ballots.voters
    for voter in ballots.voters:
        seated = await ballots.slash("body", "add", fake.steward, body="committee", member=voter)
        await ballots.shown(seated)
    await ballots.shown(
        await ballots.slash("body", "set", fake.steward, body="committee", delegation="yes")
    )
    delegated = await ballots.shown(
        await ballots.slash("delegate", "set", bart, body="committee", member=ann)
    )
    assert is_ephemeral(delegated)

    def told() -> bool:
        return any(
            "delegated their vote" in line and _seen_by(fake, c) == str(ann.id)
            for c in fake.calls
            for line in read(c)
        )

    await fake.wait_until(told, description="the delegate told by DM")
    notices = len(fake.calls)  # from here on, nothing may say who delegated to whom

    post = await ballots.create(title="Pick the venue", electorate="committee", secret="yes")
    yes = embed_text(await ballots.shown(await ballots.press("gov:vote cast 1 yes", ann)))
    assert RECEIPT.search(yes) and "Also cast for" not in yes
    reason = await ballots.modal(await ballots.press("gov:vote cast 1 no", cord))
    await ballots.shown(await ballots.submit(reason["custom_id"], cord, {"reason": "Too dear"}))
    mine = embed_text(await ballots.shown(await ballots.slash("vote", "receipt", bart, id="1")))
    (bart_receipt,) = RECEIPT.findall(mine)  # the ballot cast for him has his receipt
    closing = await ballots.slash("proposal", "close", fake.steward, id="1", reason="Time")
    result = embed_text(await ballots.shown(closing))
    await ballots.edited_to(post, "Ballots: 3 of 3.")
    await ballots.settled()

    assert "Tally: Yes 2, No 1, Abstain 0." in result
    assert "Cast by delegation: 1 of the 3 ballots." in result  # how many, never which
    assert bart_receipt in result
    given: Given = {ann: ({"yes"}, set()), bart: ({"yes"}, set()), cord: ({"no"}, {"Too dear"})}
    assert_no_voter_beside_a_choice(fake, given)
    for call in fake.calls[notices:]:
        for line in read(call):
            if _seen_by(fake, call) != str(bart.id):
                # The delegator is named nowhere else: not to the delegate, not in the result.
                assert not any(name.lower() in line.lower() for name in _names(bart)), line
            if "delegat" in line.lower():
                assert not RECEIPT.search(line), line  # which ballot came by delegation
                assert not any(n.lower() in line.lower() for n in _names(ann)), line
