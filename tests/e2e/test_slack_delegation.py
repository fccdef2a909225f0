"""Delegation on Slack: `/gov delegate set`, a delegate's button vote counting twice, and the
delegator's own button vote overriding it, through the Bolt app against the fake. On a secret
ballot, nothing after the delegation notices says who delegated to whom."""

from __future__ import annotations

import json

from tests.e2e import slack_fixtures
from tests.e2e.slack_fixtures import ADMIN_ID, eventually
from tests.e2e.test_slack_ballots import (
    ANN,
    BART,
    CORD,
    RECEIPT,
    VOTERS,
    Ballots,
    _buttons,
    _everything,
    ballots,
)
from tests.e2e.test_slack_sessions import Given, assert_no_voter_beside_a_choice, read

fake_slack = slack_fixtures.fake_slack
__all__ = ["ballots", "fake_slack"]


async def test_a_delegates_button_vote_counts_twice_until_the_member_votes_in_person(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    for user_id in VOTERS:
        since = len(fake.calls)
        await ballots.gov(f"body add committee <@{user_id}>")
        await ballots.bot.posted("now sits on committee", since=since)
    since = len(fake.calls)
    await ballots.gov("body set committee delegation:yes", ADMIN_ID)
    await ballots.bot.posted("members may delegate their vote: yes", since=since)

    delegated = await ballots.said(f"delegate set committee <@{ANN}>", BART)
    assert "Your vote on committee's proposals is delegated to" in delegated

    post = await ballots.create('title:"Move the meetup" electorate:committee')
    assert _buttons(post)["Yes"] == "vote cast 1 yes"
    yes = await ballots.press(post, "vote cast 1 yes", ANN)
    assert "Also cast for" in await ballots.private(yes)
    counted = await ballots.updated_to(1, "Tally: Yes 2, No 0, Abstain 0.")
    assert "Ballots: 2 of 3." in counted["text"]
    assert "Cast by delegation: 1." in counted["text"]

    # Bartholomew votes himself: his own ballot replaces the one cast for him.
    since = len(fake.calls)
    await ballots.press(post, "vote cast 1 no", BART)
    view = await ballots.modal(since)
    assert json.loads(view["private_metadata"])["command"] == "vote cast 1 no"
    await ballots.submit(view, BART, {"reason": "Too far away"})
    no = await ballots.ephemeral_to(BART, since)
    assert no.startswith("Your ballot on #1 is recorded: No.")
    overridden = await ballots.updated_to(1, "Tally: Yes 1, No 1, Abstain 0.")
    assert "Ballots: 2 of 3." in overridden["text"]
    assert "Cast by delegation" not in overridden["text"]
    # A later change by the delegate leaves his in-person ballot alone (and settles the vote).
    since = len(fake.calls)
    await ballots.press(post, "vote cast 1 abstain", ANN)
    result = await ballots.bot.posted("has closed early", since=since)
    assert "Tally: Yes 0, No 1, Abstain 1." in result.args["text"]
    await ballots.settled()


async def test_a_delegate_on_a_secret_ballot_casts_for_the_delegator_and_nothing_says_so(
    ballots: Ballots,
) -> None:
    fake = ballots.fake
    for user_id in VOTERS:
        since = len(fake.calls)
        await ballots.gov(f"body add committee <@{user_id}>")
        await ballots.bot.posted("now sits on committee", since=since)
    since = len(fake.calls)
    await ballots.gov("body set committee delegation:yes", ADMIN_ID)
    await ballots.bot.posted("members may delegate their vote: yes", since=since)
    delegated = await ballots.said(f"delegate set committee <@{ANN}>", BART)
    assert "is delegated to" in delegated

    def told() -> bool:
        return any(s.to == ANN and "delegated their vote" in s.text for s in _everything(ballots))

    await eventually(told)
    # From here on, nothing may say who delegated to whom.
    marks = (len(ballots.acks), len(fake.calls), len(fake.responses))

    post = await ballots.create('title:"Pick the venue" electorate:committee secret:yes')
    yes = await ballots.private(await ballots.press(post, "vote cast 1 yes", ANN))
    assert RECEIPT.search(yes) and "Also cast for" not in yes
    since = len(fake.calls)
    await ballots.press(post, "vote cast 1 no", CORD)
    await ballots.submit(await ballots.modal(since), CORD, {"reason": "Too dear"})
    await ballots.ephemeral_to(CORD, since)
    (bart_receipt,) = RECEIPT.findall(await ballots.said("vote receipt 1", BART))
    since = len(fake.calls)
    await ballots.gov('proposal close 1 reason:"Time"')
    result = (await ballots.bot.posted("has closed early", since=since)).args["text"]
    await ballots.settled()

    assert "Tally: Yes 2, No 1, Abstain 0." in result
    assert "Cast by delegation: 1 of the 3 ballots." in result  # how many, never which
    assert bart_receipt in result
    given: Given = {ANN: ({"yes"}, set()), BART: ({"yes"}, set()), CORD: ({"no"}, {"Too dear"})}
    everything = _everything(ballots)
    assert_no_voter_beside_a_choice(everything, given)
    # What Slack was sent after the notices: `_everything` lists acks, calls, then responses.
    sizes = (len(ballots.acks), len(fake.calls), len(fake.responses))
    starts = (0, sizes[0], sizes[0] + sizes[1])
    after = [
        seen
        for start, mark, size in zip(starts, marks, sizes, strict=True)
        for seen in everything[start + mark : start + size]
    ]
    assert any("has closed early" in seen.text for seen in after)
    for seen in after:
        for line in read(seen):
            if seen.to != BART:
                # The delegator is named nowhere else: not to the delegate, not in the result.
                assert BART not in line and VOTERS[BART] not in line.lower(), (seen.to, line)
            if "delegat" in line.lower():
                assert not RECEIPT.search(line), line  # which ballot came by delegation
                assert ANN not in line and VOTERS[ANN] not in line.lower(), (seen.to, line)
