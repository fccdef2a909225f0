"""Delegation on Discord: `/delegate set`, a delegate's button vote counting twice, and the
delegator's own button vote overriding it, through discord.py against the fake."""

from __future__ import annotations

from govbot.storage.db import Store
from tests.e2e import discord_fixtures as fx
from tests.e2e.discord_fixtures import embed_text, is_ephemeral
from tests.e2e.fakes.discord_server import FakeDiscord
from tests.e2e.test_discord_ballots import Ballots, _buttons, ballots

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
