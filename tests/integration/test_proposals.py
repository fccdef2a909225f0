"""Proposals and votes through the command table, on SQLite and Postgres.

Each test looks at what a member or an auditor can see: replies, the audit log and exports,
the decision record, and, for secret ballots, every row the database holds.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy import select as table_select
from sqlmodel import col, func, select

from govbot import cli
from govbot.commands import run_text
from govbot.domain.audit_chain import digest
from govbot.replies import Notice, Reply, Visibility
from govbot.services.base import Caller
from govbot.services.timers import run_due
from govbot.storage.db import Store
from govbot.storage.models import AuditEntry, Ballot, Decision, Member, Proposal, Voter
from tests.helpers import START, Community

COMMITTEE = ("ada", "ben", "cy", "dee", "eve", "fay")


@pytest.fixture
def community(store: Store) -> Community:
    """A community whose committee is ada (chair), ben, cy, dee, eve and fay."""
    c = Community(store)
    c.say("admin", "/gov setup init timezone:UTC")
    for name in COMMITTEE:
        role = " role:chair" if name == "ada" else ""
        c.say("admin", f"/gov body add committee @{name}{role}")
    return c


def open_proposal(community: Community, who: str, line: str) -> int:
    """Create a proposal and return its number, failing on a refusal."""
    replies = community.run(who, f"/gov proposal create {line}")
    assert not replies[0].error, replies[0].text
    key = next(r.key for r in replies if r.key)
    assert key is not None
    return int(key.split(":")[1])


def vote(community: Community, who: str, line: str) -> Reply:
    """Cast a ballot and return the private reply, failing on a refusal."""
    reply = community.run(who, f"/gov vote cast {line}")[0]
    assert not reply.error and reply.visibility is Visibility.PRIVATE, reply.text
    return reply


def every_row(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Read every row of every table the database holds, as an auditor with SQL would."""
    tables = MetaData()
    tables.reflect(store.engine)
    with store.engine.connect() as conn:
        return {
            table.name: [dict(row._mapping) for row in conn.execute(table_select(table))]
            for table in tables.sorted_tables
        }


def frozen(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """Make a table dump comparable whatever order the database returned rows in."""
    return {
        name: sorted(repr(sorted(row.items())) for row in found) for name, found in rows.items()
    }


def member_columns(store: Store) -> dict[str, set[str]]:
    """Name, per table, the columns that hold a member's row id (foreign keys to member.id)."""
    tables = MetaData()
    tables.reflect(store.engine)
    found: dict[str, set[str]] = {"member": {"id"}}
    for table in tables.sorted_tables:
        for column in table.columns:
            if any(key.column.table.name == "member" for key in column.foreign_keys):
                found.setdefault(table.name, set()).add(column.name)
    return found


def member_id(store: Store, name: str) -> int:
    with store.unit_of_work() as session:
        found = session.exec(select(Member.id).where(Member.platform_user_id == name)).first()
    assert found is not None
    return found


def actions(store: Store, action: str) -> int:
    with store.unit_of_work() as session:
        return session.exec(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        ).one()


def decisions(store: Store) -> list[Decision]:
    with store.unit_of_work() as session:
        return list(session.exec(select(Decision).order_by(col(Decision.id))).all())


def closed_notices(notices: list[Notice]) -> list[Reply]:
    return [n.reply for n in notices if "has closed" in n.reply.text]


def intact(community: Community) -> bool:
    return "intact" in community.say("admin", "/gov audit verify")


# --- secret ballots ----------------------------------------------------------------------

SECRET_BALLOTS = (
    # (voter, ballot); ben and eve change theirs, the last one counts. Each leaves the
    # outcome open, so the vote stays open (no early close) until the timer closes it.
    ("ben", 'no reason:"reason-too-soon"'),
    ("cy", 'no reason:"reason-costs"'),
    ("ben", "yes"),
    ("dee", "abstain"),
    ("eve", "yes"),
    ("eve", 'no reason:"reason-late"'),
    ("ada", "yes"),
)
LAST_CHOICES = (("ben", "yes"), ("cy", "no"), ("dee", "abstain"), ("eve", "no"), ("ada", "yes"))
RECEIPT = re.compile(r"\b[A-Z2-7]{5}-[A-Z2-7]{5}\b")
REASONS = ("reason-too-soon", "reason-costs", "reason-late")


@pytest.fixture
def secret(community: Community) -> dict[str, str]:
    """Open secret ballot #1 and cast SECRET_BALLOTS; return each voter's receipt."""
    open_proposal(
        community,
        "ada",
        'title:"Elect the treasurer" electorate:committee method:majority secret:yes closes:2d',
    )
    receipts: dict[str, str] = {}
    for who, ballot in SECRET_BALLOTS:
        replies = community.run(who, f"/gov vote cast 1 {ballot}")
        # Only the voter hears of it: no public tally moves on a secret ballot.
        assert len(replies) == 1 and replies[0].visibility is Visibility.PRIVATE
        reply = replies[0]
        assert not reply.error, reply.text
        code = RECEIPT.search(reply.text)
        assert code is not None, reply.text
        assert receipts.setdefault(who, code[0]) == code[0]  # a change keeps the receipt
        community.advance(minutes=1)
    return receipts


def rows_linking_voters_to_choices(
    community: Community, voters: dict[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    """Find every row that names one of `voters` and also holds a choice, a reason or a receipt.

    A row names a voter by a member-id column, their platform id, display name, `@name`, or
    the `member:<id>` label the audit chain uses. It holds a choice when a value is a choice
    word or contains a reason or the voter's receipt.
    """
    store = community.store
    ids = {name: member_id(store, name) for name in voters}
    id_columns = member_columns(store)
    choices = {"yes", "no", "abstain"}
    found = []
    for table, rows in every_row(store).items():
        for row in rows:
            named = {
                name
                for name, row_id in ids.items()
                if any(row.get(column) == row_id for column in id_columns.get(table, ()))
                or any(
                    isinstance(value, str)
                    and (value in (name, f"member:{row_id}") or f"@{name}" in value)
                    for value in row.values()
                )
            }
            for name in named:
                texts = [value for value in row.values() if isinstance(value, str)]
                if any(
                    value in choices
                    or any(reason in value for reason in REASONS)
                    or voters[name] in value
                    for value in texts
                ):
                    found.append((table, row))
    return found


def test_no_row_of_any_table_holds_a_secret_voter_next_to_their_choice(
    community: Community, secret: dict[str, str]
) -> None:
    assert rows_linking_voters_to_choices(community, secret) == []
    community.advance(days=3)
    assert len(closed_notices(run_due(community.store, community.now))) == 1
    assert rows_linking_voters_to_choices(community, secret) == []
    # The ballots are there, naming nobody: only receipts and choices.
    with community.store.unit_of_work() as session:
        ballots = session.exec(select(Ballot.slot, Ballot.member_id, Ballot.choice)).all()
    assert sorted(ballots) == sorted((secret[who], None, choice) for who, choice in LAST_CHOICES)


def test_no_audit_digest_encodes_a_secret_choice(
    community: Community, secret: dict[str, str]
) -> None:
    # An open ballot's entry digests {"proposal", "choice", "reason"}; a secret one must not,
    # or anyone could try the few possible choices against each voter's entry.
    guesses = {
        digest({"proposal": 1, "choice": choice, "reason": reason})
        for choice in ("yes", "no", "abstain")
        for reason in (None, *REASONS)
    }
    with community.store.unit_of_work() as session:
        digests = set(session.exec(select(AuditEntry.data_digest)).all())
    assert digests.isdisjoint(guesses)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_no_transaction_id_or_storage_order_links_a_closed_secret_ballot_to_its_voter(
    community: Community, secret: dict[str, str]
) -> None:
    community.advance(days=3)
    run_due(community.store, community.now)
    with community.store.engine.connect() as conn:
        voted = {str(row[0]) for row in conn.execute(text("SELECT xmin::text FROM voter")).all()}
        ballots = conn.execute(text("SELECT xmin::text, slot FROM ballot ORDER BY ctid")).all()
    # A voter row is written in the voter's own transaction; a ballot row must not share it.
    assert voted.isdisjoint(str(row[0]) for row in ballots)
    # Nor may the ballots' physical order replay the order people voted in.
    assert [row[1] for row in ballots] == sorted(row[1] for row in ballots)


def test_a_secret_ballot_shows_no_tally_before_close_and_no_name_after(
    community: Community, secret: dict[str, str]
) -> None:
    shown = community.say("fay", "/gov proposal show 1")
    assert "Ballots: 5 of 6" in shown and "Tally" not in shown
    community.advance(days=3)
    result = closed_notices(run_due(community.store, community.now))[0].text
    assert "Outcome: failed" in result and "Tally: Yes 2, No 2, Abstain 1" in result
    for name in COMMITTEE:
        assert f"@{name}" not in result
    for reason in REASONS[1:]:
        assert f"A voter (No): {reason}" in result
    assert REASONS[0] not in result  # ben's first ballot no longer counts, nor its reason


def test_a_closed_secret_ballot_forgets_its_key_and_lists_every_receipt(
    community: Community, secret: dict[str, str]
) -> None:
    assert community.say("ben", "/gov vote receipt 1").endswith(f"{secret['ben']}.")
    community.advance(days=3)
    run_due(community.store, community.now)
    with community.store.unit_of_work() as session:
        keys = session.exec(select(Proposal.ballot_key)).all()
    assert keys == [None]
    refused = community.run("ben", "/gov vote receipt 1")[0]
    assert refused.error and "receipts are shown only until close" in refused.text
    (decision,) = decisions(community.store)
    record = json.loads(decision.record)
    assert sorted(record["receipts"]) == sorted(secret.values())
    assert all("member" not in given for given in record["reasons"])
    for name in COMMITTEE:
        who = member_id(community.store, name)
        assert f"@{name}" not in decision.record and f"member:{who}" not in decision.record
    shown = community.say("anyone", "/gov proposal show 1")
    for receipt in secret.values():
        assert receipt in shown


def test_audit_log_and_export_show_no_secret_choice(
    community: Community, secret: dict[str, str]
) -> None:
    community.advance(days=3)
    run_due(community.store, community.now)
    log = community.say("admin", "/gov audit log proposal 1")
    assert log.count("vote.cast") == 5 and log.count("vote.changed") == 2
    seen = [log, community.say("admin", "/gov audit log")]
    for name in ("ben", "eve"):
        seen.append(community.say("admin", f"/gov audit log member @{name}"))
    for fmt in ("json", "csv"):
        for reply in community.run("admin", f"/gov audit export format:{fmt}"):
            assert reply.attachment is not None
            seen.append(reply.attachment.read_text())
    for shown in seen:
        for reason in REASONS:
            assert reason not in shown
        words = set(shown.replace(",", " ").replace('"', " ").split())
        assert words.isdisjoint({"yes", "no", "abstain", "Yes", "No", "Abstain"}), shown[:300]


# --- timers ------------------------------------------------------------------------------


def test_a_deadline_passed_while_the_bot_was_down_closes_once_on_the_next_run(
    community: Community,
) -> None:
    open_proposal(community, "ada", 'title:"Adopt" electorate:committee closes:2d')
    vote(community, "ben", "1 yes")
    community.advance(days=30)  # nothing ran in between
    first = run_due(community.store, community.now)
    assert len(closed_notices(first)) == 1 and "Outcome: passed" in closed_notices(first)[0].text
    assert closed_notices(run_due(community.store, community.now)) == []
    community.advance(minutes=1)
    assert closed_notices(run_due(community.store, community.now)) == []
    assert len(decisions(community.store)) == 1
    assert actions(community.store, "proposal.closed") == 1
    assert actions(community.store, "decision.recorded") == 1
    assert intact(community)


def open_many(community: Community, count: int) -> None:
    for i in range(count):
        open_proposal(community, "ada", f'title:"Item {i}" electorate:committee closes:1d')
        vote(community, "ben", f"{i + 1} yes")


def assert_each_closed_once(community: Community, count: int, closed: int) -> None:
    assert closed == count
    assert len(decisions(community.store)) == count
    assert actions(community.store, "proposal.closed") == count
    assert actions(community.store, "decision.recorded") == count
    with community.store.unit_of_work() as session:
        per_proposal = session.exec(
            select(Decision.proposal_id, func.count()).group_by(col(Decision.proposal_id))
        ).all()
    assert {n for _, n in per_proposal} == {1}
    assert intact(community)


def race(runs: list[Any]) -> list[Any]:
    """Start each callable in a thread at the same moment; return their results."""
    start = threading.Barrier(len(runs))
    results: list[Any] = [None] * len(runs)

    def go(index: int) -> None:
        start.wait()
        results[index] = runs[index]()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(runs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_timer_runs_in_parallel_threads_close_each_proposal_once(
    community: Community,
) -> None:
    open_many(community, 8)
    community.advance(days=2)
    now = community.now
    results = race([lambda: run_due(community.store, now)] * 2)
    assert_each_closed_once(community, 8, sum(len(closed_notices(r)) for r in results))


def test_two_engines_on_one_database_close_each_proposal_once(community: Community) -> None:
    open_many(community, 8)
    community.advance(days=2)
    now = community.now
    stores = [Store(community.store.url) for _ in range(2)]
    try:
        results = race([lambda s=s: run_due(s, now) for s in stores])
    finally:
        for other in stores:
            other.dispose()
    assert_each_closed_once(community, 8, sum(len(closed_notices(r)) for r in results))


TIMER = """
import sys
from datetime import datetime
from govbot.services.base import Caller
from govbot.services.timers import run_due
from govbot.storage.db import Store
store = Store(sys.argv[1])
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
notices = run_due(store, datetime.fromisoformat(sys.argv[2]))
print(sum("has closed" in n.reply.text for n in notices))
store.dispose()
"""


def test_two_timer_processes_close_each_proposal_once(community: Community) -> None:
    open_many(community, 8)
    community.advance(days=2)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", TIMER, community.store.url, community.now.isoformat()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.getcwd(), "GOVBOT_LOG_LEVEL": "WARNING"},
        )
        for _ in range(2)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    closed = 0
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        closed += int(out.strip())
    assert_each_closed_once(community, 8, closed)


def test_reminders_go_once_to_the_eligible_who_have_not_voted(community: Community) -> None:
    community.say("admin", "/gov body set committee author_recused:yes")
    open_proposal(community, "ada", 'title:"Adopt" electorate:committee closes:3d')
    vote(community, "ben", "1 yes")
    vote(community, "cy", '1 no reason:"not yet"')
    community.say("admin", "/gov body add committee @gus")  # joined after opening
    community.say("admin", "/gov body remove committee @fay")  # left after opening
    community.advance(days=2, minutes=1)  # a day before close (the default reminder)
    now = community.now
    results = race([lambda: run_due(community.store, now)] * 2)
    dms = [n.reply for r in results for n in r if n.reply.visibility is Visibility.DM]
    # Not ada (the recused author), not ben or cy (voted), not gus (joined late).
    assert sorted(r.recipient or "" for r in dms) == ["dee", "eve", "fay"]
    assert all("have not voted on proposal #1" in r.text for r in dms)
    assert not any(n.reply.visibility is Visibility.PUBLIC for r in results for n in r)
    community.advance(hours=1)
    assert run_due(community.store, community.now) == []
    assert actions(community.store, "proposal.reminded") == 1


# --- refusals ----------------------------------------------------------------------------


@pytest.fixture
def ballot_box(community: Community) -> Community:
    """Proposals of each kind to refuse ballots on.

    #1 majority (open), #2 closed by the chair, #3 withdrawn, #4 approval A|B|C,
    #5 ranked A|B|C, #6 consent, #7 on tsc whose author sits out, #8 past its deadline.
    """
    c = community
    c.say("admin", "/gov body add tsc @ada role:chair")
    c.say("admin", "/gov body add tsc @ben")
    c.say("admin", "/gov body add tsc @gus")  # on tsc, not its chair, not on the committee
    c.say("admin", "/gov body set tsc author_recused:yes")
    for line in (
        'title:"Open" electorate:committee closes:5d',
        'title:"Closed" electorate:committee closes:5d',
        'title:"Withdrawn" electorate:committee closes:5d',
        'title:"Approve" electorate:committee method:approval options:"A|B|C" closes:5d',
        'title:"Rank" electorate:committee method:ranked options:"A|B|C" closes:5d',
        'title:"Consent" electorate:committee method:consent closes:5d',
        'title:"Recused" electorate:tsc closes:5d',
        'title:"Late" electorate:committee closes:1h',
    ):
        open_proposal(c, "ada", line)
    assert not c.run("ada", '/gov proposal close 2 reason:"moot"')[0].error
    assert not c.run("ada", "/gov proposal withdraw 3")[0].error
    vote(c, "ben", "1 yes")
    c.advance(hours=2)  # #8 is past its deadline; no timer has run
    return c


REFUSED = [
    ("ben", "/gov vote cast 99 yes", "no proposal #99"),
    ("ben", "/gov vote cast abc yes", "not a proposal number"),
    ("ben", "/gov vote cast 2 yes", "#2 is closed"),
    ("ben", "/gov vote cast 3 yes", "#3 was withdrawn"),
    ("ben", "/gov vote cast 8 yes", "#8 is closed"),
    ("zed", "/gov vote cast 1 yes", "only members of committee"),
    ("ada", "/gov vote cast 7 yes", "you wrote it"),
    ("cy", "/gov vote cast 4 A,Zed", "`Zed` is not an option"),
    ("cy", "/gov vote cast 5 A>B>A", "appears twice"),
    ("cy", "/gov vote cast 1 A,B", "Choose one of"),
    ("cy", "/gov vote cast 1 1", "Choose one of"),
    ("cy", "/gov vote cast 4 yes", "not an option"),
    ("cy", "/gov vote cast 6 yes", "Choose one of"),
    ("cy", "/gov vote cast 1 maybe", "Choose one of"),
    ("cy", "/gov concern raise 1 reason:x", "not one"),
    ("ada", '/gov proposal create title:"One" method:approval options:"A"', "two options"),
    ("ada", '/gov proposal create title:"None" method:ranked', "two options"),
    ("ada", '/gov proposal create title:"I" method:irv options:"A"', "two options"),
    ("ada", '/gov proposal create title:"T" method:supermajority threshold:0', "above 0"),
    ("ada", '/gov proposal create title:"T" method:supermajority threshold:3/2', "above 0"),
    ("ada", '/gov proposal create title:"T" threshold:1.5', "above 0"),
    ("ada", '/gov proposal create title:"T" threshold:0/0', "above 0"),
    ("ada", '/gov proposal create title:"T" closes:2020-01-01', "in the future"),
    ("ada", '/gov proposal create title:"T" quorum:0', "quorum"),
    ("ada", "/gov proposal withdraw 1", "already has ballots"),
    ("ben", "/gov proposal withdraw 4", "Only the author"),
    ("ada", '/gov proposal extend 1 closes:1d reason:"r"', "later than the current"),
    ("gus", '/gov proposal extend 7 closes:9d reason:"r"', "Only the chair"),
    ("gus", '/gov proposal close 7 reason:"r"', "Only the chair"),
    ("gus", "/gov proposal remind 7", "Only the chair"),
    ("gus", '/gov proposal close 1 reason:"r"', "Only the chair"),
    ("ada", '/gov proposal close 2 reason:"again"', "#2 is closed"),
]


@pytest.mark.parametrize(("who", "line", "said"), REFUSED, ids=[r[1] for r in REFUSED])
def test_a_refused_command_writes_nothing_and_says_why_privately(
    ballot_box: Community, who: str, line: str, said: str
) -> None:
    before = frozen(every_row(ballot_box.store))
    replies = ballot_box.run(who, line)
    assert len(replies) == 1 and replies[0].error, replies[0].text
    assert replies[0].visibility is Visibility.PRIVATE and replies[0].recipient == who
    assert said in replies[0].text
    assert frozen(every_row(ballot_box.store)) == before


@pytest.mark.parametrize(
    ("line", "command"),
    [("1 no", "vote cast 1 no"), ("6 -1", "vote cast 6 -1")],
)
def test_a_choice_missing_its_reason_asks_for_it_and_writes_nothing(
    ballot_box: Community, line: str, command: str
) -> None:
    before = frozen(every_row(ballot_box.store))
    (reply,) = ballot_box.run("cy", f"/gov vote cast {line}")
    assert reply.visibility is Visibility.PRIVATE and reply.form is not None
    assert reply.form.command == command and [f.key for f in reply.form.fields] == ["reason"]
    assert frozen(every_row(ballot_box.store)) == before
    done = ballot_box.run("cy", f'/gov vote cast {line} reason:"no budget"')[0]
    assert not done.error and "recorded" in done.text


# --- changing ballots, the electorate ----------------------------------------------------


def test_a_changed_ballot_counts_once_the_last_choice_and_every_change_is_audited(
    community: Community,
) -> None:
    open_proposal(community, "ada", 'title:"Adopt" electorate:committee closes:2d')
    assert "recorded: Yes." in vote(community, "ben", "1 yes").text
    assert "changed to: No." in vote(community, "ben", '1 no reason:"on second thought"').text
    shown = community.say("anyone", "/gov proposal show 1")
    assert "Tally: Yes 0, No 1, Abstain 0" in shown and "Ballots: 1 of 6" in shown
    assert "changed to: Abstain." in vote(community, "ben", "1 abstain").text
    vote(community, "cy", "1 yes")
    shown = community.say("anyone", "/gov proposal show 1")
    assert "Tally: Yes 1, No 0, Abstain 1" in shown and "Ballots: 2 of 6" in shown
    log = community.say("admin", "/gov audit log proposal 1").splitlines()
    assert [line.split()[4] for line in log if "vote." in line] == [
        "vote.cast",
        "vote.changed",
        "vote.changed",
        "vote.cast",
    ]
    community.advance(days=3)
    result = closed_notices(run_due(community.store, community.now))[0].text
    assert "Tally: Yes 1, No 0, Abstain 1" in result and "Ballots: 2 of" in result
    assert "on second thought" not in result


@pytest.mark.parametrize(
    ("method", "ballots", "tally"),
    [
        (
            'method:approval options:"A|B|C"',
            [("ben", "A,B"), ("cy", "B"), ("ben", "C"), ("cy", "A,C"), ("ben", "B,C")],
            "Tally: A 1, B 1, C 2",
        ),
        (
            'method:ranked options:"A|B|C"',
            [("ben", "A>B"), ("cy", "B>C"), ("ben", "C>A"), ("cy", "A"), ("cy", "C>B>A")],
            "Tally: A 0, B 0, C 2",
        ),
    ],
)
def test_changing_a_choice_ballot_never_counts_a_voter_twice(
    community: Community, method: str, ballots: list[tuple[str, str]], tally: str
) -> None:
    open_proposal(community, "ada", f'title:"Pick" electorate:committee {method} closes:2d')
    for who, ballot in ballots:
        vote(community, who, f"1 {ballot}")
    shown = community.say("anyone", "/gov proposal show 1")
    assert tally in shown and "Ballots: 2 of 6" in shown
    community.advance(days=3)
    result = closed_notices(run_due(community.store, community.now))[0].text
    assert tally in result and "Ballots: 2 of" in result
    with community.store.unit_of_work() as session:
        assert session.exec(select(func.count()).select_from(Voter)).one() == 2
        assert session.exec(select(func.count()).select_from(Ballot)).one() == 2


def test_the_electorate_is_fixed_when_the_proposal_opens(community: Community) -> None:
    open_proposal(community, "ada", 'title:"Adopt" electorate:committee closes:2d')
    vote(community, "ben", "1 yes")
    community.say("admin", "/gov body add committee @gus")
    refused = community.run("gus", "/gov vote cast 1 yes")[0]
    assert refused.error and "as of its opening" in refused.text
    community.say("admin", "/gov body remove committee @ben")
    assert "@ben" not in community.say("anyone", "/gov body show committee")
    community.advance(days=3)
    result = closed_notices(run_due(community.store, community.now))[0].text
    assert "Tally: Yes 1, No 0, Abstain 0" in result
    assert "Ballots: 1 of an electorate of 6" in result


# --- outcomes ----------------------------------------------------------------------------


@pytest.mark.parametrize("quorum", ["4", "60%"])
def test_a_vote_short_of_quorum_never_passes(community: Community, quorum: str) -> None:
    open_proposal(community, "ada", f'title:"Adopt" electorate:committee quorum:{quorum} closes:2d')
    vote(community, "ben", "1 yes")
    vote(community, "cy", "1 yes")
    vote(community, "dee", "1 yes")
    assert "closed" not in community.say("anyone", "/gov proposal show 1")
    community.advance(days=3)
    result = closed_notices(run_due(community.store, community.now))[0].text
    assert "Outcome: no quorum" in result and "passed" not in result
    assert "Quorum missed: 3 ballots, 4 needed, electorate 6" in result
    (decision,) = decisions(community.store)
    assert decision.outcome == "no quorum"


def test_a_vote_closes_early_once_the_outcome_cannot_change(community: Community) -> None:
    open_proposal(community, "ada", 'title:"Adopt" electorate:committee closes:5d')
    for who in ("ben", "cy", "dee"):
        replies = community.run(who, "/gov vote cast 1 yes")
        assert not any("closed early" in r.text for r in replies)  # 3 of 6: a tie is possible
    replies = community.run("eve", "/gov vote cast 1 yes")
    result = next(r for r in replies if "closed early" in r.text)
    assert result.visibility is Visibility.PUBLIC and "Outcome: passed" in result.text
    refused = community.run("fay", "/gov vote cast 1 no reason:late")[0]
    assert refused.error and "#1 is closed" in refused.text
    assert len(decisions(community.store)) == 1
    community.advance(days=6)
    assert closed_notices(run_due(community.store, community.now)) == []


@pytest.fixture
def tsc(community: Community) -> Community:
    """Give the tsc four members: ada (chair), ben, cy, dee."""
    community.say("admin", "/gov body add tsc @ada role:chair")
    for name in ("ben", "cy", "dee"):
        community.say("admin", f"/gov body add tsc @{name}")
    return community


def test_sign_off_passes_after_its_comment_period(tsc: Community) -> None:
    open_proposal(tsc, "ada", 'title:"Stabilise" electorate:tsc method:sign-off closes:3d')
    vote(tsc, "ben", "1 sign-off")
    said = "\n".join(r.text for r in tsc.run("cy", "/gov vote cast 1 sign-off"))
    assert "comment period runs until 2026-01-12 09:00" in said
    tsc.advance(days=4)  # past the close, inside the comment period
    assert closed_notices(run_due(tsc.store, tsc.now)) == []
    assert "open" in tsc.say("anyone", "/gov proposal list")
    tsc.advance(days=3)
    result = closed_notices(run_due(tsc.store, tsc.now))[0].text
    assert "Outcome: passed" in result
    assert len(decisions(tsc.store)) == 1


def test_a_concern_raised_in_the_comment_period_stops_it(tsc: Community) -> None:
    open_proposal(tsc, "ada", 'title:"Stabilise" electorate:tsc method:sign-off closes:3d')
    vote(tsc, "ben", "1 sign-off")
    vote(tsc, "cy", "1 sign-off")
    tsc.advance(days=1)
    said = tsc.say("dee", '/gov concern raise 1 reason:"error types unsettled"')
    assert "stopped" in said
    tsc.advance(days=7)  # past where the comment period would have ended
    result = closed_notices(run_due(tsc.store, tsc.now))[0].text
    assert "Outcome: failed" in result
    assert "Concern 1 (standing): error types unsettled" in result


# --- decision records --------------------------------------------------------------------


@pytest.fixture
def cli_main(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Call `govbot` as an operator would and return its standard output."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level

    def call(*args: str) -> str:
        capsys.readouterr()
        assert cli.main(list(args)) == 0
        return capsys.readouterr().out

    yield call
    root.handlers[:], root.level = saved


def test_a_decision_record_is_written_once_and_exports_as_its_audit_entry_says(
    community: Community, cli_main: Any
) -> None:
    open_proposal(community, "ada", 'title:"Adopt" electorate:committee closes:2d')
    vote(community, "ben", '1 no reason:"too soon"')
    vote(community, "cy", "1 yes")
    community.advance(days=3)
    run_due(community.store, community.now)
    (written,) = decisions(community.store)
    # Nothing after the close touches it: more timer runs, reads, refused chair actions.
    for later in range(3):
        community.advance(days=later + 1)
        run_due(community.store, community.now)
        community.run("ada", '/gov proposal close 1 reason:"again"')
        community.run("ada", '/gov proposal extend 1 closes:30d reason:"again"')
        community.run("ben", "/gov vote cast 1 yes")
        community.say("anyone", "/gov proposal show 1")
    assert [d.model_dump() for d in decisions(community.store)] == [written.model_dump()]

    url = community.store.url
    exported = json.loads(cli_main("export", "decisions", "--format", "json", "--database", url))
    assert [(row["decision"], row["proposal"], row["outcome"]) for row in exported] == [
        (written.id, 1, "failed")
    ]
    record = exported[0]["record"]
    assert record["closing_hash"] == written.closing_hash == exported[0]["closing_hash"]
    assert record["reasons"] == [{"choice": "no", "member": "@ben", "reason": "too soon"}]
    with community.store.unit_of_work() as session:
        recorded = session.exec(
            select(AuditEntry.data_digest).where(AuditEntry.action == "decision.recorded")
        ).one()
        closing = session.exec(
            select(AuditEntry.hash).where(AuditEntry.action == "proposal.closed")
        ).one()
    assert recorded == digest({"proposal": 1, "decision": written.id, "record": record})
    assert closing == written.closing_hash

    table = cli_main("export", "decisions", "--format", "csv", "--database", url)
    (row,) = csv.DictReader(io.StringIO(table))
    assert row["decision"] == str(written.id) and row["outcome"] == "failed"
    assert json.loads(row["record"]) == record
    assert intact(community)


# --- languages ---------------------------------------------------------------------------


def test_a_proposal_in_a_chinese_community_answers_in_chinese(store: Store) -> None:
    c = Community(store)
    c.say("admin", "/gov setup init language:zh-CN timezone:Asia/Shanghai")
    for name in ("ada", "ben", "cy"):
        c.say("admin", f"/gov body add committee @{name}")
    opened = c.say("ada", '/gov proposal create title:"采用新章程" electorate:committee closes:2d')
    assert (
        "提案 #1：采用新章程" in opened and "投票截止于 2026-01-07 17:00（Asia/Shanghai）" in opened
    )
    assert "你对 #1 的选票已记录：赞成。" in c.say("ben", "/gov vote cast 1 yes")
    refused = c.run("zed", "/gov vote cast 1 yes")[0]
    assert refused.error and refused.text.startswith("你不能就 #1 投票")
    asked = c.run("cy", "/gov vote cast 1 no")[0]
    assert asked.form is not None and asked.text.startswith("这个选择需要理由")
    assert "已改为" not in c.say("cy", "/gov vote cast 1 no reason:太早")
    c.advance(days=3)
    (closing,) = [n.reply.text for n in run_due(store, c.now) if "表决已结束" in n.reply.text]
    assert closing.startswith("提案 #1（采用新章程）表决已结束。")
    assert "结果：未通过。" in closing and "计票：赞成 1、反对 1、弃权 0。" in closing
    assert "@cy（反对）：太早" in closing
    assert "通过" in c.say("anyone", "/gov proposal show 1")
    for english in ("Outcome", "Tally", "Proposal", "yes", "no"):
        assert english not in closing


def test_a_community_vote_counts_the_platforms_members_and_takes_anyone(
    community: Community,
) -> None:
    admin = Caller("console", "c1", "admin", "admin", True, "general", member_count=40)
    opened = run_text(
        community.store, admin, '/gov proposal create title:"Adopt" quorum:25% closes:2d', START
    )
    assert "Ballots: 0 of 40" in opened[0].text
    before = frozen(every_row(community.store))
    asked = community.run("newcomer", "/gov vote cast 1 no")[0]
    assert asked.form is not None and not asked.error
    after = frozen(every_row(community.store))
    # Only the runner's record of a first-time caller (as for any writing command): nothing
    # of the vote.
    assert {k: v for k, v in after.items() if k != "member"} == {
        k: v for k, v in before.items() if k != "member"
    }
    assert "recorded" in vote(community, "newcomer", '1 no reason:"first time here"').text
    community.advance(days=3)
    result = closed_notices(run_due(community.store, community.now))[0].text
    assert "Quorum missed: 1 ballot, 10 needed, electorate 40" in result
