"""The audit chain in the store: every change recorded, every kind of tampering caught."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from govbot.domain.audit_chain import digest
from govbot.storage.db import Store
from tests.helpers import Community


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
    entries = json.loads(as_json.attachment.content)
    assert [e["seq"] for e in entries] == list(range(1, head_seq(community.store) + 1))
    assert entries[0]["prev_hash"] == "0" * 64
    as_csv = community.run("anyone", "/gov audit export format:csv")[0]
    assert as_csv.attachment is not None
    rows = list(csv.DictReader(io.StringIO(as_csv.attachment.content)))
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
    assert json.loads(result.stdout) == json.loads(chat.attachment.content)


def test_audit_log_names_actors_and_filters_by_subject(community: Community) -> None:
    log = community.say("anyone", "/gov audit log")
    assert "@cat membership.started" in log
    one = community.say("anyone", "/gov audit log body 1")
    assert "body.created body:1" in one and "membership" not in one
