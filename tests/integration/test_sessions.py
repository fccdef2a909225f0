"""Committee vote sessions through the command table and the timers, on SQLite and Postgres."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from govbot import cli
from govbot.replies import Notice, Reply, Visibility
from govbot.services.timers import run_due
from govbot.storage.db import Store
from govbot.storage.models import AuditEntry, Proposal, SessionItem
from tests.helpers import START, Community
from tests.integration.test_proposals import (
    actions,
    decisions,
    every_row,
    frozen,
    intact,
    race,
)

TSC = ("tom", "uma", "vic", "wes")


@pytest.fixture
def tsc(store: Store) -> Community:
    """A community whose TSC is tom (chair), uma, vic and wes; proposals #1 and #2 on it."""
    c = Community(store)
    c.say("admin", "/gov setup init timezone:UTC")
    for name in TSC:
        role = " role:chair" if name == "tom" else ""
        c.say("admin", f"/gov body add tsc @{name}{role}")
    c.say("admin", "/gov body add committee @ada role:chair")
    for title in ("Adopt the style guide", "Move CI"):
        ok(c, "tom", f'/gov proposal create title:"{title}" electorate:tsc closes:7d')
    return c


def ok(community: Community, who: str, line: str) -> list[Reply]:
    """Run a command that must not be refused."""
    replies = community.run(who, line)
    assert not any(r.error for r in replies), [r.text for r in replies]
    return replies


def start_meeting(community: Community, agenda: str = "1,2") -> None:
    """Open a session of the TSC with everyone present, and take the first item."""
    ok(community, "tom", f'/gov session open body:tsc agenda:"{agenda}"')
    for name in TSC:
        ok(community, name, "/gov session present")
    ok(community, "tom", "/gov session next")


def item_closings(notices: list[Notice]) -> int:
    return sum("has closed" in n.reply.text for n in notices)


# --- the live window ---------------------------------------------------------------------


def test_the_timer_closes_a_live_item_once_when_two_threads_run_it(tsc: Community) -> None:
    start_meeting(tsc)
    ok(tsc, "uma", "/gov vote cast 1 yes")
    tsc.advance(minutes=11)
    now = tsc.now
    results = race([lambda: run_due(tsc.store, now)] * 2)
    assert sum(item_closings(r) for r in results) == 1
    assert actions(tsc.store, "session.item_closed") == 1
    assert actions(tsc.store, "proposal.closed") == 1
    assert len(decisions(tsc.store)) == 1
    assert item_closings(run_due(tsc.store, tsc.now)) == 0
    assert intact(tsc)


def test_a_ballot_after_the_window_waits_for_no_timer_and_is_refused(tsc: Community) -> None:
    start_meeting(tsc)
    tsc.advance(minutes=11)
    replies = tsc.run("vic", "/gov vote cast 1 yes")
    assert replies[0].error and "closed" in replies[0].text


def test_a_restart_mid_item_closes_it_once_on_time(tsc: Community) -> None:
    start_meeting(tsc)
    ok(tsc, "uma", "/gov vote cast 1 yes")
    tsc.advance(hours=2)  # nothing ran in between: the window ended at 09:10
    first = run_due(tsc.store, tsc.now)
    assert item_closings(first) == 1
    assert item_closings(run_due(tsc.store, tsc.now)) == 0
    with tsc.store.unit_of_work() as session:
        item = session.exec(select(SessionItem).where(SessionItem.position == 1)).one()
    assert item.state == "done" and item.ended_at == START + timedelta(minutes=10)
    minutes = tsc.say("vic", "/gov session minutes 1")
    assert "- Voting: 2026-01-05 09:00 to 2026-01-05 09:10 (UTC)" in minutes
    assert actions(tsc.store, "session.item_closed") == 1
    assert len(decisions(tsc.store)) == 1


def test_an_item_closes_as_soon_as_every_present_member_has_voted(tsc: Community) -> None:
    ok(tsc, "tom", '/gov session open body:tsc agenda:"1"')
    for name in ("tom", "uma", "vic"):
        ok(tsc, name, "/gov session present")
    ok(tsc, "tom", "/gov session next")
    ok(tsc, "tom", "/gov vote cast 1 yes")
    ok(tsc, "uma", "/gov vote cast 1 yes")
    replies = ok(tsc, "vic", "/gov vote cast 1 no reason:later")
    assert any("has closed" in r.text for r in replies)
    update = next(r for r in replies if r.updates == "session:1")
    assert "1. #1 Adopt the style guide: passed" in update.text
    assert update.key is None and update.revision > 0


def test_absent_members_vote_until_the_deadline_where_the_body_allows_it(tsc: Community) -> None:
    ok(tsc, "admin", "/gov body set tsc absent_votes:yes window:5m")
    ok(tsc, "tom", '/gov session open body:tsc agenda:"1"')
    for name in ("tom", "uma", "vic"):
        ok(tsc, name, "/gov session present")
    ok(tsc, "tom", "/gov session next")
    ok(tsc, "tom", "/gov vote cast 1 yes")
    ok(tsc, "wes", "/gov vote cast 1 yes")  # absent, and allowed
    tsc.advance(minutes=6)
    assert item_closings(run_due(tsc.store, tsc.now)) == 0  # the window ended, not the vote
    ok(tsc, "uma", "/gov vote cast 1 no reason:wait")  # a tie still possible: stays open
    closing = "\n".join(
        r.attachment.read_text() if r.attachment else r.text
        for r in ok(tsc, "tom", "/gov session close")
    )
    assert "open to absent members until 2026-01-12 09:00 (UTC)" in closing
    assert "Absent members could vote" in closing
    with tsc.store.unit_of_work() as session:
        proposal = session.exec(select(Proposal).where(Proposal.number == 1)).one()
    assert proposal.state == "open" and proposal.ballots == 3


def test_a_session_left_open_closes_after_four_hours_and_its_minutes_say_so(
    tsc: Community,
) -> None:
    start_meeting(tsc)
    tsc.advance(hours=3, minutes=59)
    run_due(tsc.store, tsc.now)
    assert actions(tsc.store, "session.closed") == 0
    tsc.advance(minutes=1)
    notices = run_due(tsc.store, tsc.now)
    minutes = [n.reply for n in notices if n.reply.attachment is not None]
    assert len(minutes) == 1 and minutes[0].visibility is Visibility.PUBLIC
    assert minutes[0].attachment is not None
    assert minutes[0].attachment.filename == "session-1.md"
    assert "was left open and closed by itself" in minutes[0].text
    written = minutes[0].attachment.read_text()
    assert "Left open: closed by itself after 4 hours" in written
    assert "- Closed: 2026-01-05 13:00 (UTC)" in written
    assert run_due(tsc.store, tsc.now) == []
    assert actions(tsc.store, "session.closed") == 1
    assert intact(tsc)


# --- refusals ----------------------------------------------------------------------------


def _withdrawn_and_foreign(c: Community) -> None:
    ok(c, "uma", '/gov proposal create title:"Mine" electorate:tsc closes:7d')
    ok(c, "uma", "/gov proposal withdraw 3")
    ok(c, "ada", '/gov proposal create title:"Budget" electorate:committee closes:7d')
    ok(c, "tom", '/gov proposal create title:"Old" electorate:tsc closes:7d')
    ok(c, "tom", "/gov proposal close 5 reason:duplicate")


REFUSED = [
    ("uma", '/gov session open body:tsc agenda:"1"', "Only the chair of tsc"),
    ("tom", '/gov session open body:tsc agenda:"1,3"', "#3 was withdrawn"),
    ("tom", '/gov session open body:tsc agenda:"1,4"', "#4 is not voted by tsc"),
    ("tom", '/gov session open body:tsc agenda:"5"', "#5 is closed"),
    ("tom", '/gov session open body:tsc agenda:"42"', "no proposal #42"),
    ("tom", '/gov session open body:tsc agenda:"1,1"', "twice"),
    ("tom", '/gov session open body:tsc agenda:"one"', "proposal ids"),
    ("tom", '/gov session open body:tsc agenda:"2"', "already has a meeting open"),
    ("ada", "/gov session present", "You do not sit on tsc"),
    ("tom", "/gov session present", "already on the roll"),
    ("uma", "/gov session next", "Only the chair of tsc"),
    ("uma", "/gov session close", "Only the chair of tsc"),
    ("vic", "/gov vote cast 2 yes", "voted when the chair takes it"),
    ("tom", "/gov session minutes 7", "no session #7"),
]


@pytest.mark.parametrize(("who", "line", "said"), REFUSED, ids=[r[1] for r in REFUSED])
def test_a_refused_session_command_writes_nothing_and_says_why_privately(
    tsc: Community, who: str, line: str, said: str
) -> None:
    _withdrawn_and_foreign(tsc)
    ok(tsc, "tom", '/gov session open body:tsc agenda:"1,2"')
    ok(tsc, "tom", "/gov session present")
    before = frozen(every_row(tsc.store))
    replies = tsc.run(who, line)
    assert len(replies) == 1 and replies[0].error, replies[0].text
    assert replies[0].visibility is Visibility.PRIVATE and replies[0].recipient == who
    assert said in replies[0].text
    assert frozen(every_row(tsc.store)) == before


def test_next_with_no_items_left_and_present_with_no_session_are_refused(tsc: Community) -> None:
    assert "No meeting is open" in tsc.say("tom", "/gov session present")
    start_meeting(tsc, agenda="1")
    before = frozen(every_row(tsc.store))
    replies = tsc.run("tom", "/gov session next")
    assert replies[0].error and "no agenda item left" in replies[0].text
    assert frozen(every_row(tsc.store)) == before


def test_a_session_short_of_quorum_does_not_take_the_item(tsc: Community) -> None:
    ok(tsc, "tom", '/gov session open body:tsc agenda:"1"')
    ok(tsc, "tom", "/gov session present")
    before = frozen(every_row(tsc.store))
    replies = tsc.run("tom", "/gov session next")
    assert replies[0].error and "1 present who may vote, 3 needed" in replies[0].text
    assert frozen(every_row(tsc.store)) == before


# --- privacy -----------------------------------------------------------------------------


def test_on_a_secret_item_no_message_names_who_voted_what(tsc: Community) -> None:
    ok(tsc, "tom", '/gov proposal create title:"Elect" electorate:tsc secret:yes closes:7d')
    ok(tsc, "tom", '/gov session open body:tsc agenda:"3"')
    seen: list[Reply] = []
    for name in TSC:
        seen += ok(tsc, name, "/gov session present")
    seen += ok(tsc, "tom", "/gov session next")
    seen += ok(tsc, "uma", "/gov vote cast 3 yes")
    seen += ok(tsc, "vic", "/gov vote cast 3 no reason:unsure")
    seen += ok(tsc, "wes", "/gov vote cast 3 abstain")
    seen += ok(tsc, "tom", "/gov session close")
    seen += ok(tsc, "wes", "/gov session minutes 1")
    choice = re.compile(r"\b(Yes|No|Abstain|yes|no|abstain)\b")
    for reply in seen:
        texts = [reply.text] + ([reply.attachment.read_text()] if reply.attachment else [])
        for line in "\n".join(texts).splitlines():
            if reply.visibility is Visibility.PRIVATE and "receipt" in line.lower():
                continue  # the voter's own receipt, to themselves
            named = [n for n in ("uma", "vic", "wes") if f"@{n}" in line]
            assert not (named and choice.search(line)), line
    session_posts = [r.text for r in seen if r.updates == "session:1"]
    assert any("Voted: 2 of 4 present." in text for text in session_posts)
    assert not any("Voted:" in text and "(@" in text for text in session_posts)


# --- body settings -----------------------------------------------------------------------


def test_body_set_changes_the_window_and_absent_votes_and_audits_it(tsc: Community) -> None:
    shown = tsc.say("vic", "/gov body set tsc")
    assert "open for 10 minutes" in shown and "session items: no" in shown
    changed = tsc.say("tom", "/gov body set tsc window:15m absent_votes:yes")
    assert "open for 15 minutes" in changed and "session items: yes" in changed
    assert actions(tsc.store, "body.settings_changed") == 1
    before = frozen(every_row(tsc.store))
    assert "at most one day" in tsc.say("tom", "/gov body set tsc window:2d")
    assert "Nothing changed" in tsc.say("tom", "/gov body set tsc window:15m")
    assert frozen(every_row(tsc.store)) == before


# --- minutes -----------------------------------------------------------------------------


def test_minutes_are_written_once_at_close_and_export_with_the_closing_hash(
    tsc: Community, capsys: pytest.CaptureFixture[str]
) -> None:
    start_meeting(tsc, agenda="1")
    for name, choice in zip(TSC, ("yes", "yes", "no reason:later", "abstain"), strict=True):
        ok(tsc, name, f"/gov vote cast 1 {choice}")
    closed = ok(tsc, "tom", "/gov session close")
    posted = next(r for r in closed if r.attachment is not None)
    assert posted.attachment is not None and posted.attachment.filename == "session-1.md"
    written = posted.attachment.read_text()
    assert "- Tally: Yes 2, No 1, Abstain 1" in written
    # A later change (a new body setting) leaves the minutes as they were written.
    ok(tsc, "admin", "/gov body set tsc window:20m")
    shown = tsc.run("uma", "/gov session minutes 1")[0]
    assert shown.text == written and shown.visibility is Visibility.PRIVATE
    with tsc.store.unit_of_work() as session:
        closing = session.exec(
            select(AuditEntry.hash).where(AuditEntry.action == "session.closed")
        ).one()
    assert f"`{closing}`" in written

    root = logging.getLogger()
    saved = root.handlers[:], root.level

    def cli_main(*args: str) -> str:
        capsys.readouterr()
        try:
            assert cli.main(list(args)) == 0
        finally:  # the command line sets up logging for itself
            root.handlers[:], root.level = saved
        return capsys.readouterr().out

    url = tsc.store.url
    (row,) = json.loads(cli_main("export", "sessions", "--format", "json", "--database", url))
    assert (row["session"], row["body"], row["timed_out"]) == (1, "tsc", False)
    assert row["closing_hash"] == closing and row["minutes"] == written
    table = cli_main("export", "sessions", "--format", "csv", "--database", url)
    (line,) = csv.DictReader(io.StringIO(table))
    assert line["minutes"] == written


def test_items_not_taken_stay_open_and_the_minutes_say_so(tsc: Community) -> None:
    start_meeting(tsc, agenda="1,2")
    replies = ok(tsc, "tom", "/gov session close")
    update = next(r for r in replies if r.updates == "session:1")
    assert "2. #2 Move CI: not taken (open)" in update.text
    posted = next(r for r in replies if r.attachment is not None)
    assert posted.attachment is not None
    assert "- Not taken in the session; the proposal is open" in posted.attachment.read_text()
    ok(tsc, "vic", "/gov vote cast 2 yes")  # an ordinary vote again, the session over
