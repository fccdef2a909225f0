"""Delegation and forwarding through the command table, on SQLite and Postgres.

Each test looks at what members and auditors see: replies, tallies, decision records, the
audit log, and, for secret ballots, every row the database keeps.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from govbot.domain.audit_chain import digest
from govbot.replies import Visibility
from govbot.services.timers import run_due
from govbot.storage.db import Store
from govbot.storage.models import AuditEntry, Ballot, Voter
from tests.helpers import Community
from tests.integration.test_proposals import (
    COMMITTEE,
    RECEIPT,
    closed_notices,
    decisions,
    every_row,
    frozen,
    intact,
    member_id,
    open_proposal,
    vote,
)


@pytest.fixture
def community(store: Store) -> Community:
    """The committee ada (chair), ben, cy, dee, eve, fay, which allows delegation; a tsc
    of gus (chair), hal and ida, which does not."""
    c = Community(store)
    c.say("admin", "/gov setup init timezone:UTC")
    for name in COMMITTEE:
        role = " role:chair" if name == "ada" else ""
        c.say("admin", f"/gov body add committee @{name}{role}")
    c.say("admin", "/gov body add tsc @gus role:chair")
    for name in ("hal", "ida"):
        c.say("admin", f"/gov body add tsc @{name}")
    assert "members may delegate their vote: yes" in c.say(
        "ada", "/gov body set committee delegation:yes"
    )
    return c


def delegate(community: Community, who: str, line: str) -> str:
    """Run `delegate <line>` as `who` and return the private reply, failing on a refusal."""
    replies = community.run(who, f"/gov delegate {line}")
    assert not replies[0].error and replies[0].visibility is Visibility.PRIVATE, replies[0].text
    return replies[0].text


def shown(community: Community, number: int) -> str:
    return community.say("anyone", f"/gov proposal show {number}")


def digests(store: Store, action: str) -> list[str]:
    """Return the data digests of the audit entries of one action, oldest first."""
    with store.unit_of_work() as session:
        found = session.exec(
            select(AuditEntry.data_digest)
            .where(AuditEntry.action == action)
            .order_by(col(AuditEntry.seq))
        ).all()
    return list(found)


def close_all(community: Community) -> None:
    community.advance(days=8)
    run_due(community.store, community.now)


# --- delegating and voting ---------------------------------------------------------------


def test_a_delegates_ballot_counts_for_those_who_delegated_and_the_tally_says_how_many(
    community: Community,
) -> None:
    told = community.run("ben", "/gov delegate set committee @ada")
    assert "delegated to @ada" in told[0].text
    assert told[1].visibility is Visibility.DM and told[1].recipient == "ada"
    delegate(community, "cy", "set committee @ada")
    open_proposal(community, "dee", 'title:"Adopt" electorate:committee closes:5d')
    said = vote(community, "ada", "1 yes").text
    assert "Also cast for @ben and @cy" in said or "Also cast for @ben, @cy" in said
    page = shown(community, 1)
    assert "Ballots: 3 of 6" in page and "Cast by delegation: 2." in page
    assert "Tally: Yes 3, No 0, Abstain 0" in page
    ids = [member_id(community.store, name) for name in ("ben", "cy")]
    cast = {"proposal": 1, "choice": "yes", "reason": None, "for": [f"member:{i}" for i in ids]}
    assert digests(community.store, "vote.cast") == [digest(cast)]
    close_all(community)
    (decision,) = decisions(community.store)
    record = json.loads(decision.record)
    assert record["ballots"] == 3 and record["delegated"] == 2
    assert "Cast by delegation: 2 of the 3 ballots." in shown(community, 1)
    assert intact(community)


def test_a_ballot_cast_in_person_overrides_the_delegated_one_before_and_after(
    community: Community,
) -> None:
    for name in ("ben", "cy"):
        delegate(community, name, "set committee @ada")
    open_proposal(community, "dee", 'title:"Adopt" electorate:committee closes:5d')
    vote(community, "cy", '1 no reason:"too soon"')  # before the delegate
    said = vote(community, "ada", "1 yes").text
    assert "@ben" in said and "@cy" not in said  # cy's own ballot stands
    assert "Tally: Yes 2, No 1" in shown(community, 1)
    after = vote(community, "ben", "1 abstain").text  # after the delegate
    assert "is recorded" in after  # ben's own first ballot, not a change
    page = shown(community, 1)
    assert "Tally: Yes 1, No 1, Abstain 1" in page and "Ballots: 3 of 6" in page
    assert "Cast by delegation" not in page
    vote(community, "ada", '1 no reason:"changed my mind"')  # a later cast leaves them be
    assert "Tally: Yes 0, No 2, Abstain 1" in shown(community, 1)
    close_all(community)
    record = json.loads(decisions(community.store)[0].record)
    assert record["counts"] == {"yes": 0, "no": 2, "abstain": 1} and record["delegated"] == 0


def test_delegation_goes_one_step_only(community: Community) -> None:
    delegate(community, "cy", "set committee @ben")
    delegate(community, "ben", "set committee @ada")
    open_proposal(community, "dee", 'title:"Adopt" electorate:committee closes:5d')
    said = vote(community, "ada", "1 yes").text
    assert "@ben" in said and "@cy" not in said
    assert "Ballots: 2 of 6" in shown(community, 1)
    said = vote(community, "ben", '1 no reason:"mine"').text  # ben now votes, for cy too
    assert "Also cast for @cy" in said
    assert "Tally: Yes 1, No 2" in shown(community, 1)


def test_revoking_keeps_ballots_already_cast_and_the_member_may_still_vote(
    community: Community,
) -> None:
    delegate(community, "ben", "set committee @ada")
    open_proposal(community, "dee", 'title:"Adopt" electorate:committee closes:5d')
    vote(community, "ada", "1 yes")
    assert "has ended" in delegate(community, "ben", "revoke committee")
    vote(community, "ada", "1 abstain")  # no longer ben's delegate: his ballot stays yes
    assert "Tally: Yes 1, No 0, Abstain 1" in shown(community, 1)
    vote(community, "ben", "1 abstain")
    assert "Tally: Yes 0, No 0, Abstain 2" in shown(community, 1)
    revoked = {"body": "committee", "delegate": f"member:{member_id(community.store, 'ada')}"}
    assert digests(community.store, "delegation.revoked") == [digest(revoked)]


def test_recused_late_and_unrecorded_members_get_no_delegated_ballot(
    community: Community,
) -> None:
    community.say("admin", "/gov body set committee author_recused:yes")
    delegate(community, "ben", "set committee @ada")
    open_proposal(community, "ben", 'title:"Mine" electorate:committee closes:5d')
    community.say("admin", "/gov body add committee @gus")  # joins after the opening
    delegate(community, "gus", "set committee @ada")
    said = vote(community, "ada", "1 yes").text
    assert "Also cast" not in said
    assert "Ballots: 1 of 5" in shown(community, 1)


def test_a_body_that_stops_allowing_delegation_stops_following_it(community: Community) -> None:
    delegate(community, "ben", "set committee @ada")
    assert "members may delegate their vote: no" in community.say(
        "ada", "/gov body set committee delegation:no"
    )
    open_proposal(community, "dee", 'title:"Adopt" electorate:committee closes:5d')
    assert "Also cast" not in vote(community, "ada", "1 yes").text
    assert digests(community.store, "body.settings_changed")[-1] == digest({"delegation": False})


# --- secret ballots ----------------------------------------------------------------------


def test_a_secret_ballot_reveals_no_delegation_or_delegated_choice_anywhere(
    community: Community,
) -> None:
    for name in ("ben", "cy"):
        delegate(community, name, "set committee @ada")
    open_proposal(
        community,
        "dee",
        'title:"Elect the treasurer" electorate:committee secret:yes closes:5d',
    )
    before = digests(community.store, "vote.cast")
    replies = community.run("ada", "/gov vote cast 1 yes")
    # Only ada hears of it, and only her own receipt: no names, no count of delegated ballots.
    assert len(replies) == 1 and replies[0].visibility is Visibility.PRIVATE
    assert "@ben" not in replies[0].text and "@cy" not in replies[0].text
    assert len(RECEIPT.findall(replies[0].text)) == 1
    # ben never voted himself, yet his delegated ballot has his own receipt.
    ben_receipt = RECEIPT.search(community.say("ben", "/gov vote receipt 1"))
    assert ben_receipt is not None
    vote(community, "cy", '1 no reason:"reason-own"')  # cy overrides in person
    cy_receipt = RECEIPT.search(community.say("cy", "/gov vote receipt 1"))
    assert cy_receipt is not None
    assert "Cast by delegation" not in shown(community, 1)  # results hidden until close
    # Each ballot's audit entry says only which proposal: the same for every voter.
    after = digests(community.store, "vote.cast")[len(before) :]
    assert after == [digest({"proposal": 1})] * 2
    close_all(community)
    record = json.loads(decisions(community.store)[0].record)
    assert record["delegated"] == 1 and record["ballots"] == 3
    assert ben_receipt[0] in record["receipts"] and cy_receipt[0] in record["receipts"]
    # What survives: ballots naming nobody and marking nothing; voter rows of in-person voters.
    with community.store.unit_of_work() as session:
        ballots = session.exec(select(Ballot.member_id, Ballot.delegated)).all()
        voters = session.exec(select(Voter.member_id)).all()
    assert sorted(ballots) == [(None, False)] * 3
    ids = {name: member_id(community.store, name) for name in ("ada", "ben", "cy")}
    assert sorted(voters) == sorted([ids["ada"], ids["cy"]])
    # No row outside the standing delegations names ada or ben next to a choice or receipt.
    receipts = {ben_receipt[0], cy_receipt[0]}
    for table, found in every_row(community.store).items():
        if table == "delegation":
            continue
        for row in found:
            if table == "audit_entry" and str(row["action"]).startswith("delegation."):
                continue
            texts = [str(value) for value in row.values() if value is not None]
            names = any(
                value in (f"member:{i}", f"@{name}", name)
                for value in texts
                for name, i in ids.items()
            ) or (table != "member" and any(row.get("member_id") == i for i in ids.values()))
            held = any(
                value in ("yes", "no") or any(code in value for code in receipts) for value in texts
            )
            assert not (names and held), (table, row)


# --- forwarding --------------------------------------------------------------------------


def passed(community: Community) -> int:
    """Open #1 on the committee and pass it by four yes votes (it closes early)."""
    open_proposal(
        community, "dee", 'title:"Adopt the code of conduct" electorate:committee closes:5d'
    )
    for name in ("ada", "ben", "cy", "dee"):
        vote(community, name, "1 yes")
    assert "Outcome: passed" in shown(community, 1)
    return 1


def test_forwarding_a_passed_proposal_opens_a_linked_ratification(community: Community) -> None:
    passed(community)
    record_before = decisions(community.store)[0].record
    replies = community.run("ada", "/gov proposal forward 1 tsc")
    assert not replies[0].error, replies[0].text
    assert replies[0].visibility is Visibility.PUBLIC
    assert "forwarded to tsc for ratification as proposal #2" in replies[0].text
    assert replies[1].key == "proposal:2"
    ratification = shown(community, 2)
    assert "Proposal #2: Ratify: Adopt the code of conduct" in ratification
    assert "Ratifies proposal #1 (Adopt the code of conduct)." in ratification
    assert "Voters: tsc." in ratification and "Method: Majority." in ratification
    assert "Voting closes 2026-01-12 09:00" in ratification
    assert "Forwarded for ratification to tsc: proposal #2." in shown(community, 1)
    assert decisions(community.store)[0].record == record_before  # never edited
    again = community.run("ada", "/gov proposal forward 1 tsc")[0]
    assert again.error and "already forwarded to tsc as proposal #2" in again.text
    for name in ("gus", "hal"):
        vote(community, name, "2 yes")
    records = [json.loads(d.record) for d in decisions(community.store)]
    assert records[1]["proposal"] == 2 and records[1]["ratifies"] == 1
    assert records[1]["outcome"] == "passed" and "ratifies" not in records[0]
    forwarded = {"proposal": 1, "body": "tsc", "ratification": 2}
    assert digests(community.store, "proposal.forwarded") == [digest(forwarded)]
    assert intact(community)


def test_a_manager_may_forward_and_in_chinese_the_title_is_chinese(store: Store) -> None:
    c = Community(store)
    c.say("admin", "/gov setup init language:zh-CN timezone:UTC")
    for name in ("ada", "ben", "cy"):
        c.say("admin", f"/gov body add tsc @{name}")
    c.say("admin", "/gov body add committee @ada role:chair")
    open_proposal(c, "ada", 'title:"发布" electorate:tsc closes:5d')
    for name in ("ada", "ben"):
        vote(c, name, "1 yes")
    replies = c.run("admin", "/gov proposal forward 1 committee")
    assert not replies[0].error, replies[0].text
    assert "批准：发布" in c.say("anyone", "/gov proposal show 2")


# --- refusals ----------------------------------------------------------------------------


@pytest.fixture
def settled(community: Community) -> Community:
    """#1 passed, #2 failed, #3 withdrawn, #4 open; ben has delegated to ada."""
    passed(community)
    open_proposal(community, "dee", 'title:"Fails" electorate:committee closes:5d')
    for name in ("ada", "ben", "cy"):  # a tie at best: it fails early
        vote(community, name, '2 no reason:"no"')
    open_proposal(community, "dee", 'title:"Withdrawn" electorate:committee closes:5d')
    assert not community.run("dee", "/gov proposal withdraw 3")[0].error
    open_proposal(community, "dee", 'title:"Open" electorate:committee closes:5d')
    delegate(community, "ben", "set committee @ada")
    return community


REFUSED = [
    ("ben", "/gov delegate set committee @ben", "to yourself"),
    ("ben", "/gov delegate set committee @zed", "not a member of committee"),
    ("ben", "/gov delegate set committee @gus", "not a member of committee"),
    ("hal", "/gov delegate set tsc @gus", "does not allow delegation"),
    ("zed", "/gov delegate set committee @ada", "Only members of committee"),
    ("cy", "/gov delegate revoke committee", "no delegation on committee"),
    ("ben", "/gov delegate set nope @ada", "nope"),
    ("ada", "/gov proposal forward 4 tsc", "#4 is open"),
    ("ada", "/gov proposal forward 2 tsc", "#2 is failed"),
    ("ada", "/gov proposal forward 3 tsc", "#3 is withdrawn"),
    ("ada", "/gov proposal forward 1 nope", "nope"),
    ("ada", "/gov proposal forward 1 committee", "forward it to another body"),
    ("hal", "/gov proposal forward 1 tsc", "Only the chair"),
    ("gus", "/gov proposal forward 1 tsc", "Only the chair"),
]


@pytest.mark.parametrize(("who", "line", "said"), REFUSED, ids=[r[1] for r in REFUSED])
def test_a_refused_delegation_or_forward_writes_nothing_and_says_why_privately(
    settled: Community, who: str, line: str, said: str
) -> None:
    before = frozen(every_row(settled.store))
    replies = settled.run(who, line)
    assert len(replies) == 1 and replies[0].error, replies[0].text
    assert replies[0].visibility is Visibility.PRIVATE and replies[0].recipient == who
    assert said in replies[0].text
    assert frozen(every_row(settled.store)) == before


def test_every_delegation_change_is_audited_and_an_unchanged_one_writes_nothing(
    community: Community,
) -> None:
    delegate(community, "ben", "set committee @ada")
    before = frozen(every_row(community.store))
    assert "already delegated to @ada" in delegate(community, "ben", "set committee @ada")
    assert frozen(every_row(community.store)) == before
    delegate(community, "ben", "set committee @cy")
    delegate(community, "ben", "revoke committee")
    ids = {name: member_id(community.store, name) for name in ("ada", "cy")}
    sets = [digest({"body": "committee", "delegate": f"member:{ids[n]}"}) for n in ("ada", "cy")]
    assert digests(community.store, "delegation.set") == sets
    log = community.say("admin", "/gov audit log")
    assert log.count("delegation.set") == 2 and log.count("delegation.revoked") == 1


def test_closed_notices_name_no_delegation_on_an_open_ballot_that_had_none(
    community: Community,
) -> None:
    open_proposal(community, "dee", 'title:"Adopt" electorate:committee closes:5d')
    vote(community, "ada", "1 yes")
    community.advance(days=6)
    (notice,) = closed_notices(run_due(community.store, community.now))
    assert "Cast by delegation" not in notice.text


@pytest.mark.parametrize("secret", ["no", "yes"])
def test_a_member_whose_delegate_voted_is_not_reminded(community: Community, secret: str) -> None:
    delegate(community, "dee", "set committee @ben")
    open_proposal(community, "ada", f'title:"Adopt" electorate:committee closes:3d secret:{secret}')
    vote(community, "ben", "1 yes")
    community.advance(days=2, minutes=1)  # a day before close (the default reminder)

    notices = run_due(community.store, community.now)

    dms = sorted(n.reply.recipient or "" for n in notices if n.reply.visibility is Visibility.DM)
    # Not ben (voted), not dee (ben voted for her); the rest of the committee.
    assert dms == ["ada", "cy", "eve", "fay"]
