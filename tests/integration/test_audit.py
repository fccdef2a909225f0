"""The audit chain in the store: every change recorded, every kind of tampering caught."""

from __future__ import annotations

import csv
import gc
import io
import itertools
import json
import os
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlmodel import col

from govbot.commands import run_text
from govbot.domain.audit_chain import ChainEntry, digest, rfc3339
from govbot.replies import Reply
from govbot.services.base import Caller
from govbot.storage import audit
from govbot.storage.db import Store
from govbot.storage.models import AuditEntry, AuditHead
from tests.helpers import START, Community


@pytest.fixture
def community(store: Store) -> Community:
    c = Community(store)
    c.say("admin", "/gov setup init timezone:UTC")
    for name in ("ann", "bob", "cat"):
        c.say(name, "/gov body join operations")
    return c


def cli_verify(url: str) -> subprocess.CompletedProcess[str]:
    """Run `govbot audit verify` against a database, as an operator would."""
    env = {**os.environ, "GOVBOT_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "govbot", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def sql(store: Store, statement: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement))


def head_seq(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT seq FROM audit_head")).scalar_one())


def test_each_change_appends_one_entry_chained_to_the_last(community: Community) -> None:
    with community.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, prev_hash, hash FROM audit_entry ORDER BY seq")).all()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0][1] == "0" * 64
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, len(rows)))
    assert head_seq(community.store) == len(rows)


def test_an_intact_chain_verifies_in_chat_and_on_the_command_line(community: Community) -> None:
    assert "intact" in community.say("anyone", "/gov audit verify")
    result = cli_verify(community.store.url)
    assert result.returncode == 0, result.stderr
    assert "console:c1: intact" in result.stdout


def tamper(store: Store, kind: str, last: int) -> int:
    """Tamper with the stored chain as an attacker with database access would; return the
    sequence number a verifier must name."""
    if kind == "edited":
        sql(store, "UPDATE audit_entry SET actor = 'member:999' WHERE seq = 4")
    elif kind == "deleted":
        sql(store, "DELETE FROM audit_entry WHERE seq = 4")
    elif kind == "newest deleted":
        sql(store, f"DELETE FROM audit_entry WHERE seq >= {last - 1}")
        return last - 1
    elif kind == "inserted":
        # Shift the tail up one and slip a forged entry in at seq 4, chained to seq 3.
        sql(store, "UPDATE audit_entry SET seq = seq + 1000 WHERE seq >= 4")
        sql(store, "UPDATE audit_entry SET seq = seq - 999 WHERE seq >= 1004")
        sql(
            store,
            "INSERT INTO audit_entry (community_id, seq, at, actor, action, subject_kind, "
            "subject_id, data_digest, prev_hash, hash) SELECT community_id, 4, at, actor, "
            "'body.created', 'body', '99', data_digest, hash, hash FROM audit_entry "
            "WHERE seq = 3",
        )
    elif kind == "reordered":
        sql(store, "UPDATE audit_entry SET seq = -1 WHERE seq = 4")
        sql(store, "UPDATE audit_entry SET seq = 4 WHERE seq = 5")
        sql(store, "UPDATE audit_entry SET seq = 5 WHERE seq = -1")
    elif kind == "head edited":
        sql(store, f"UPDATE audit_head SET hash = '{'0' * 64}'")
        return last
    return 4


@pytest.mark.parametrize(
    "kind", ["edited", "deleted", "newest deleted", "inserted", "reordered", "head edited"]
)
def test_every_kind_of_tampering_is_caught_and_the_first_bad_entry_named(
    community: Community, kind: str
) -> None:
    expected_seq = tamper(community.store, kind, head_seq(community.store))
    chat = community.say("anyone", "/gov audit verify")
    assert f"BROKEN at entry #{expected_seq}" in chat
    result = cli_verify(community.store.url)
    assert result.returncode == 1
    assert f"BROKEN at entry #{expected_seq}" in result.stdout


def test_the_chain_keeps_digests_not_data(community: Community) -> None:
    with community.store.engine.connect() as conn:
        row = conn.execute(text("SELECT data_digest FROM audit_entry WHERE seq = 1")).one()
    assert len(row[0]) == 64
    assert row[0] != digest({})


def test_export_gives_the_whole_chain_as_json_and_csv(community: Community) -> None:
    as_json = community.run("anyone", "/gov audit export format:json")[0]
    assert as_json.attachment is not None
    entries = json.loads(as_json.attachment.read_text())
    assert [e["seq"] for e in entries] == list(range(1, head_seq(community.store) + 1))
    assert entries[0]["prev_hash"] == "0" * 64
    as_csv = community.run("anyone", "/gov audit export format:csv")[0]
    assert as_csv.attachment is not None
    rows = list(csv.DictReader(io.StringIO(as_csv.attachment.read_text())))
    assert [r["hash"] for r in rows] == [e["hash"] for e in entries]


def test_the_command_line_export_matches_the_chat_export(community: Community) -> None:
    env = {**os.environ, "GOVBOT_DATABASE_URL": community.store.url}
    result = subprocess.run(
        [sys.executable, "-m", "govbot", "audit", "export", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    chat = community.run("anyone", "/gov audit export format:json")[0]
    assert chat.attachment is not None
    assert json.loads(result.stdout) == json.loads(chat.attachment.read_text())


def test_audit_log_names_actors_and_filters_by_subject(community: Community) -> None:
    log = community.say("anyone", "/gov audit log")
    assert "@cat membership.started" in log
    one = community.say("anyone", "/gov audit log body 1")
    assert "body.created body:committee" in one and "membership" not in one


# --- helpers for long chains --------------------------------------------------------------


def community_row_id(store: Store, external_id: str = "c1") -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT id FROM community WHERE external_id = :e"), {"e": external_id}
            ).scalar_one()
        )


def grow_chain(store: Store, community_id: int, count: int, **fields: str) -> None:
    """Append `count` valid entries with fast Core inserts (not through commands)."""
    with store.engine.begin() as conn:
        seq, prev = conn.execute(
            select(AuditHead.seq, AuditHead.hash).where(AuditHead.community_id == community_id)
        ).one()
        rows = []
        for n in range(seq + 1, seq + count + 1):
            at = START + timedelta(seconds=n)
            entry = ChainEntry(
                n,
                rfc3339(at),
                fields.get("actor", "system"),
                fields.get("action", "bench.filled"),
                fields.get("subject_kind", "membership"),
                fields.get("subject_id", str(n)),
                digest({"n": n}),
                prev,
            )
            prev = entry.entry_hash()
            rows.append({**entry.__dict__, "at": at, "hash": prev, "community_id": community_id})
        conn.execute(insert(AuditEntry), rows)
        conn.execute(
            update(AuditHead)
            .where(col(AuditHead.community_id) == community_id)
            .values(seq=seq + count, hash=prev)
        )


def run_in_thread(work: Callable[[], list[Reply]]) -> tuple[threading.Thread, list[list[Reply]]]:
    """Start `work` in a thread; the list receives its replies."""
    out: list[list[Reply]] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)
    thread.start()
    return thread, out


def pause_verify_mid_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[threading.Event, threading.Event]:
    """Make the next verification stop after its first entry until released.

    Returns (reading, release): `reading` is set once the verifier holds its read transaction
    and has read an entry; it goes on when `release` is set (or after 60 s).
    """
    reading, release = threading.Event(), threading.Event()
    real = audit.verify_chain

    def paused(rows: Iterable[tuple[ChainEntry, str]], head_seq: int, head_hash: str) -> Any:
        rows = iter(rows)
        first = next(rows)
        reading.set()
        release.wait(60)
        return real(itertools.chain([first], rows), head_seq, head_hash)

    monkeypatch.setattr(audit, "verify_chain", paused)
    return reading, release


# --- chat verify and export on both databases ---------------------------------------------


def test_verify_and_export_answer_in_chat_when_the_front_end_passes_a_delivery_key(
    community: Community,
) -> None:
    caller = Caller("console", "c1", "anyone", "anyone", False, "general")
    verify = run_text(community.store, caller, "/gov audit verify", community.now, delivery_key="v")
    assert not verify[0].failed, verify[0].text
    assert "Audit chain intact" in verify[0].text
    export = run_text(
        community.store, caller, "/gov audit export format:csv", community.now, delivery_key="e"
    )
    assert not export[0].failed, export[0].text
    assert export[0].attachment is not None
    rows = list(csv.DictReader(io.StringIO(export[0].attachment.read_text())))
    assert len(rows) == head_seq(community.store)
    # A read changes nothing, so a redelivery is answered again and still writes nothing.
    before = community.counts()
    again = run_text(community.store, caller, "/gov audit verify", community.now, delivery_key="v")
    assert "Audit chain intact" in again[0].text
    assert community.counts() == before


def test_verify_names_the_head_a_member_can_compare_with_an_anchor(community: Community) -> None:
    with community.store.engine.connect() as conn:
        seq, digest_hex = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
    intact = community.say("anyone", "/gov audit verify")
    assert f"Chain head: #{seq} {digest_hex}" in intact
    tamper(community.store, "edited", seq)
    broken = community.say("anyone", "/gov audit verify")
    assert "BROKEN at entry #4" in broken and f"Chain head: #{seq} {digest_hex}" in broken


def test_head_anchor_names_the_newest_sequence_number_and_hash(community: Community) -> None:
    with community.store.unit_of_work() as session:
        anchor = audit.head_anchor(session, community_row_id(community.store))
        seq, digest_hex = session.execute(text("SELECT seq, hash FROM audit_head")).one()
    assert anchor == f"#{seq} {digest_hex}"


# --- long work never blocks writers ---------------------------------------------------------


def test_a_write_commits_while_a_verification_reads_its_own_snapshot(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = community.store
    grow_chain(store, community_row_id(store), 500)
    before = head_seq(store)
    reading, release = pause_verify_mid_chain(monkeypatch)

    def verify() -> list[Reply]:
        with store.unit_of_work(readonly=True) as session, audit.snapshot(session) as conn:
            report = audit.verify(conn, community_row_id(store))
        return [Reply(f"{report.entries} {report.intact}")]

    verifier, verified = run_in_thread(verify)
    try:
        assert reading.wait(30), "the verification never started"
        # The verifier is parked inside its read transaction: a write that needed its lock
        # could not finish until `release` is set, so finishing first proves it is not held.
        writer, written = run_in_thread(lambda: community.run("dan", "/gov body join operations"))
        writer.join(30)
        assert not writer.is_alive(), "a write waited on a running verification"
        assert "joined operations" in written[0][0].text
    finally:
        release.set()
    verifier.join(60)
    # The verification saw one consistent snapshot: the chain as it was when it began.
    assert verified[0][0].text == f"{before} True"
    assert head_seq(store) == before + 1


def test_a_write_commits_while_a_chat_verify_runs(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = community.store
    grow_chain(store, community_row_id(store), 500)
    before = head_seq(store)
    community.say("anyone", "/gov audit log")  # recorded as a member now, not during verify
    reading, release = pause_verify_mid_chain(monkeypatch)
    verifier, verified = run_in_thread(lambda: community.run("anyone", "/gov audit verify"))
    try:
        assert reading.wait(30), "the verification never started"
        writer, written = run_in_thread(lambda: community.run("dan", "/gov body join operations"))
        writer.join(10)
        blocked = writer.is_alive()
    finally:
        release.set()
    verifier.join(60)
    writer.join(60)
    assert f"Audit chain intact: {before} entries" in verified[0][0].text
    assert "joined operations" in written[0][0].text
    assert not blocked, "a write waited on a running chat verify"


def export_peak(community: Community, fmt: str) -> int:
    """Export through chat and return the peak of Python memory it took, in bytes."""
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    replies = community.run("anyone", f"/gov audit export format:{fmt}")
    peak = tracemalloc.get_traced_memory()[1] - base
    assert replies[0].attachment is not None and replies[0].attachment.size() > 0
    return peak


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_memory_stays_flat_as_the_chain_grows(community: Community, fmt: str) -> None:
    store, community_id = community.store, community_row_id(community.store)
    grow_chain(store, community_id, 2_000)
    tracemalloc.start()
    try:
        export_peak(community, fmt)  # warm caches (compiled statements, imports)
        small = export_peak(community, fmt)
        grow_chain(store, community_id, 18_000)
        large = export_peak(community, fmt)
    finally:
        tracemalloc.stop()
    print(f"export {fmt} peak: {small:,} bytes at 2k entries, {large:,} bytes at 20k")
    # Holding the rows or the text in memory would take ten times as much at 20k.
    assert large < small * 1.5 + 256 * 1024, (small, large)


def test_export_streams_to_a_file_that_goes_away_with_the_reply(community: Community) -> None:
    reply = community.run("anyone", "/gov audit export format:json")[0]
    assert reply.attachment is not None and reply.attachment.path is not None
    path = reply.attachment.path
    assert json.loads(Path(path).read_text(encoding="utf-8"))[0]["seq"] == 1
    del reply
    gc.collect()
    assert not os.path.exists(path)


def test_export_to_writes_the_chain_to_a_text_stream(community: Community) -> None:
    out = io.StringIO()
    with audit.snapshot(community.store.engine) as conn:
        count = audit.export_to(conn, community_row_id(community.store), "json", out)
    assert count == head_seq(community.store)
    assert [e["seq"] for e in json.loads(out.getvalue())] == list(range(1, count + 1))


# --- an audit log people can read ----------------------------------------------------------


def test_audit_log_says_how_many_of_how_many_it_shows(community: Community) -> None:
    grow_chain(community.store, community_row_id(community.store), 30)
    total = head_seq(community.store)
    shown = community.say("anyone", "/gov audit log")
    assert f"Audit log, newest 20 of {total} (times in UTC):" in shown
    grow_chain(
        community.store,
        community_row_id(community.store),
        25,
        subject_kind="body",
        subject_id="1",
        action="body.term_set",
    )
    log = community.say("anyone", "/gov audit log body committee")
    assert "Audit log, newest 20 of 26 (times in UTC):" in log
    assert log.count("body:committee") == 20


def test_audit_log_takes_a_body_slug_and_refuses_an_unknown_one(community: Community) -> None:
    assert "body.created body:committee" in community.say("anyone", "/gov audit log body committee")
    refused = community.run("anyone", "/gov audit log body nosuch")[0]
    assert refused.error and "There is no body called nosuch." in refused.text


def test_audit_log_of_a_member_shows_what_they_did_and_what_was_done_to_them(
    community: Community,
) -> None:
    community_id = community_row_id(community.store)
    with community.store.engine.connect() as conn:
        bob = conn.execute(text("SELECT id FROM member WHERE platform_user_id = 'bob'")).scalar()
    grow_chain(
        community.store,
        community_id,
        1,
        subject_kind="member",
        subject_id=str(bob),
        action="member.renamed",
    )
    log = community.say("anyone", "/gov audit log member @bob")
    assert "Audit log, newest 2 of 2 (times in UTC):" in log
    assert "@bob membership.started" in log
    assert "system member.renamed member:@bob" in log
    assert "@ann" not in log and "@cat" not in log
    assert log == community.say("anyone", f"/gov audit log member #{bob}")
    refused = community.run("anyone", "/gov audit log member @nobody")[0]
    assert refused.error and "No member @nobody is known here" in refused.text


def test_audit_log_reads_slack_and_discord_mentions(store: Store) -> None:
    for platform, user_id, mention in (
        ("slack", "U0ALICE", "<@U0ALICE|alice>"),
        ("discord", "4242", "<@4242>"),
    ):
        alice = Caller(platform, "w1", user_id, "alice", True, "C1")
        run_text(store, alice, "/gov setup init", START)
        log = "\n".join(
            r.text for r in run_text(store, alice, f"/gov audit log member {mention}", START)
        )
        assert "@alice community.initialized" in log, log


def test_audit_log_refuses_an_unknown_kind_naming_the_valid_ones(community: Community) -> None:
    refused = community.run("anyone", "/gov audit log bodies committee")[0]
    assert refused.error
    assert "Unknown subject kind bodies; kinds: body, community, member, membership" in refused.text


def test_entries_about_restricted_subjects_stay_restricted_in_a_members_log(
    community: Community,
) -> None:
    with community.store.engine.connect() as conn:
        ann = conn.execute(text("SELECT id FROM member WHERE platform_user_id = 'ann'")).scalar()
    grow_chain(
        community.store,
        community_row_id(community.store),
        1,
        actor=f"member:{ann}",
        subject_kind="report",
        subject_id="7",
        action="report.filed",
    )
    log = community.say("anyone", "/gov audit log member @ann")
    assert "restricted" in log and "report.filed" not in log
    assert "report.filed" not in community.say("anyone", "/gov audit log report 7")


def test_export_sends_a_member_table_apart_from_the_chain(community: Community) -> None:
    chain, members = community.run("anyone", "/gov audit export format:json")
    assert chain.attachment is not None and members.attachment is not None
    assert members.attachment.filename.endswith("-members.json")
    names = {row["actor"]: row["name"] for row in json.loads(members.attachment.read_text())}
    actors = {e["actor"] for e in json.loads(chain.attachment.read_text())}
    assert {names[a] for a in actors if a.startswith("member:")} == {"admin", "ann", "bob", "cat"}
    assert "alice" not in chain.attachment.read_text()
    as_csv = community.run("anyone", "/gov audit export format:csv")[1]
    assert as_csv.attachment is not None
    rows = list(csv.DictReader(io.StringIO(as_csv.attachment.read_text())))
    assert {r["name"] for r in rows} >= {"admin", "ann", "bob", "cat"}
