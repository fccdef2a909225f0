"""The path every command takes: reads record nothing, writers race safely, no input crashes it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from govbot.commands import COMMANDS
from govbot.replies import Visibility
from govbot.storage.db import Store
from tests.helpers import Community


@pytest.fixture
def community(store: Store) -> Community:
    c = Community(store)
    c.say("admin", "/gov setup init timezone:Europe/Berlin")
    return c


def test_a_refused_help_from_a_new_member_records_nothing(community: Community) -> None:
    before = community.counts()
    reply = community.run("newcomer", "/gov help frobs")[0]
    assert reply.error and reply.visibility is Visibility.PRIVATE
    assert "Unknown group frobs" in reply.text
    assert community.counts() == before  # not even the newcomer's member row


def test_reading_commands_record_no_member_and_no_entry(community: Community) -> None:
    before = community.counts()
    for line in ("/gov body list", "/gov body show tsc", "/gov setup show", "/gov audit log"):
        assert not community.run("lurker", line)[0].error
    assert community.counts() == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_read_answers_while_another_process_holds_the_write_lock(community: Community) -> None:
    path = community.store.url.removeprefix("sqlite:///")
    locker = sqlite3.connect(path, isolation_level=None, timeout=1)
    locker.execute("BEGIN IMMEDIATE")  # another worker in the middle of a write
    try:
        assert "committee" in community.say("reader", "/gov body list")
        assert "Europe/Berlin" in community.say("reader", "/gov setup show")
    finally:
        locker.execute("ROLLBACK")
        locker.close()


def test_a_group_alone_lists_that_groups_commands(community: Community) -> None:
    text_ = community.say("anyone", "/gov body")
    assert "/gov body join <body>" in text_
    assert "/gov setup init" not in text_
    assert "Unknown command" not in text_


def test_a_mistyped_body_gets_the_nearest_slug(community: Community) -> None:
    reply = community.run("anyone", "/gov body show comittee")[0]
    assert reply.error and "Did you mean committee?" in reply.text


def test_the_same_seat_asked_for_twice_changes_nothing_and_says_so(community: Community) -> None:
    community.say("admin", "/gov body add committee @bob until:6mo")
    before = community.counts()
    community.advance(seconds=20)
    again = community.run("admin", "/gov body add committee @bob until:6mo")[0]
    assert again.error and "already sits on committee" in again.text
    assert community.counts() == before
    shown = community.say("anyone", "/gov body show committee history:yes")
    assert "No past terms" in shown


def test_setup_init_again_refuses_to_change_settings_quietly(community: Community) -> None:
    before = community.counts()
    reply = community.run("admin", "/gov setup init timezone:Asia/Shanghai language:zh-CN")[0]
    assert reply.error and "setup set" in reply.text
    assert "Europe/Berlin" in community.say("admin", "/gov setup show")
    assert community.counts() == before
    assert "Already set up" in community.say("admin", "/gov setup init timezone:Europe/Berlin")
    assert community.counts() == before


def test_a_bare_date_is_read_in_the_communitys_time_zone(community: Community) -> None:
    said = community.say("admin", "/gov body add tsc @wei until:2026-06-30")
    assert "until 2026-06-30 00:00 (Europe/Berlin)" in said


def test_a_new_chair_is_announced_with_the_chair_it_replaces(community: Community) -> None:
    community.say("admin", "/gov body add tsc @ann role:chair")
    said = community.say("admin", "/gov body add tsc @bob role:chair")
    assert "@bob now sits on tsc as chair" in said
    assert "take over the chair from @ann" in said


def test_lists_count_members_in_words(community: Community) -> None:
    community.say("admin", "/gov body add tsc @ann")
    listing = community.say("anyone", "/gov body list")
    assert "tsc: Technical steering committee (by appointment), 1 member, no chair" in listing
    assert "1 members" not in listing


def test_long_history_is_paged_newest_first_with_a_more_button(community: Community) -> None:
    for _ in range(25):
        community.say("ann", "/gov body join quality")
        community.advance(hours=1)
        community.say("ann", "/gov body leave quality")
    first = community.run("anyone", "/gov body show quality history:yes")[0]
    assert first.text.count("• @ann") == 20
    assert "body show quality history:yes page:2" in [b.command for b in first.buttons]
    second = community.run("anyone", "/gov body show quality history:yes page:2")[0]
    assert second.text.count("• @ann") == 5
    assert not any("page:3" in b.command for b in second.buttons)


def test_a_far_future_end_already_stored_never_breaks_body_show(community: Community) -> None:
    community.say("admin", "/gov body add tsc @ann until:1y")
    with community.store.engine.begin() as conn:
        conn.execute(text("UPDATE membership SET \"end\" = '9999-12-31 23:59:59.000000'"))
    shown = community.run("anyone", "/gov body show tsc")[0]
    assert not shown.error and "@ann" in shown.text


RACE = """
import sys
from govbot.storage.db import Store
from tests.helpers import Community
url, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = Store(url)
community = Community(store)
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
for i in range(count):
    community.run(f"{prefix}{i % 5}", "/gov body join operations")
store.dispose()
"""


def test_two_processes_racing_to_join_seat_each_member_once(community: Community) -> None:
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, community.store.url, "m", "40"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        for _ in range(2)
    ]
    for racer in racers:
        assert racer.stdout is not None and racer.stdout.readline().strip() == "ready"
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    for racer in racers:
        assert racer.wait(timeout=120) == 0
    with community.store.engine.connect() as conn:
        seated = conn.execute(
            text(
                "SELECT m.display_name, count(*) FROM membership s "
                "JOIN member m ON m.id = s.member_id JOIN body b ON b.id = s.body_id "
                "WHERE b.slug = 'operations' GROUP BY m.display_name"
            )
        ).all()
    assert sorted(seated) == [(f"m{i}", 1) for i in range(5)]
    assert "intact" in community.say("admin", "/gov audit verify")


_WORDS = st.sampled_from(
    [c.name for c in COMMANDS]
    + ["tsc", "@ann", "#x", "until:", "role:chair", "999999y", '"', "：", "\x00", "é" * 120]
)


@given(
    words=st.lists(
        st.one_of(_WORDS, st.text(max_size=30)),
        max_size=6,
    )
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_makes_the_command_layer_fail(community: Community, words: list[str]) -> None:
    line = "/gov " + " ".join(words)
    before = community.counts()
    replies = community.run("fuzzer", line)
    assert replies, line
    assert not any(reply.failed for reply in replies), (line, replies[0].text)
    if any(reply.error for reply in replies):
        after = community.counts()
        after.pop("Member")
        before.pop("Member")
        assert after == before, line  # a refusal writes nothing
    community.advance(seconds=1)


def test_setting_the_same_term_twice_changes_nothing(community: Community) -> None:
    community.say("admin", "/gov body term tsc length:1y")
    before = community.counts()
    again = community.run("admin", "/gov body term tsc length:12mo")[0]
    assert again.error and "already last 1 year" in again.text
    assert community.counts() == before


def test_a_platform_id_too_long_for_the_columns_is_refused_alike(community: Community) -> None:
    before = community.counts()
    reply = community.run("u" * 65, "/gov body join quality")[0]
    assert reply.error and "too long" in reply.text
    assert community.counts() == before


def test_a_large_body_lists_its_first_seats_chair_first_and_counts_the_rest(
    community: Community,
) -> None:
    for i in range(55):
        community.say(f"m{i:02}", "/gov body join operations")
    community.say("admin", "/gov body add operations @m54 role:chair")
    shown = community.say("m00", "/gov body show operations")
    lines = [line for line in shown.splitlines() if line.startswith("• ")]
    assert len(lines) == 50
    assert lines[0] == "• @m54, chair"
    assert "… and 5 more." in shown
    assert "55 members, chair @m54" in community.say("m00", "/gov body list")
