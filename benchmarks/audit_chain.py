"""Audit chain speed: appends per second through a service call, and `audit verify` over
1,000,000 entries, each beside a raw-driver baseline doing the same work, on SQLite and Postgres.

    python benchmarks/audit_chain.py [--entries 1000000] [--appends 2000] [--skip-postgres]

Prints figures; it is not a pass/fail test. The target: verify at no less than half the
raw baseline's speed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from govbot.bootstrap import open_store
from govbot.commands import run_text
from govbot.domain.audit_chain import GENESIS_HASH, ChainEntry, digest, rfc3339
from govbot.services.base import Caller
from govbot.storage import audit
from govbot.storage.db import Store

POSTGRES = os.environ.get(
    "GOVBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def canonical_hash(fields: dict[str, Any]) -> str:
    """Hash like the chain does, written out with the standard library only (the baseline)."""
    data = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def timed(work: Callable[[], int]) -> tuple[float, int]:
    """Run `work`, returning seconds taken and the count it reports."""
    began = time.perf_counter()
    count = work()
    return time.perf_counter() - began, count


def report(label: str, ours: tuple[float, int], raw: tuple[float, int], unit: str) -> None:
    """Print one figure beside its baseline, and the ratio of speeds."""
    ours_rate = ours[1] / ours[0]
    raw_rate = raw[1] / raw[0]
    print(
        f"{label:<44} govbot {ours_rate:>11,.0f} {unit}/s   raw {raw_rate:>11,.0f} {unit}/s"
        f"   ratio {ours_rate / raw_rate:5.2f}"
    )


# --- appends ---------------------------------------------------------------------------------


def service_appends(store: Store, count: int) -> int:
    """Append through the command table: join/leave alternately, one entry per command."""
    caller = Caller("console", "bench", "admin", "admin", True, "general")
    run_text(store, caller, "/gov setup init", START)
    now = START
    for i in range(count):
        now += timedelta(seconds=1)
        verb = "join" if i % 2 == 0 else "leave"
        replies = run_text(store, caller, f"/gov body {verb} operations", now)
        assert not replies[0].error, replies[0].text
    return count


def bare_appends(store: Store, count: int) -> int:
    """Append through the store's own append, one transaction each."""
    with store.unit_of_work() as session:
        community_id = session.execute(text("SELECT id FROM community")).scalar_one()
    now = START
    for i in range(count):
        now += timedelta(seconds=1)
        with store.unit_of_work() as session:
            audit.append(
                session,
                community_id,
                actor="member:1",
                action="bench.append",
                subject_kind="bench",
                subject_id=i,
                data={"i": i},
                at=now,
            )
            session.commit()
    return count


def raw_sqlite_appends(path: str, community_id: int, count: int) -> int:
    """The baseline: the same chain append with sqlite3, one transaction each."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    now = START
    for i in range(count):
        now += timedelta(seconds=1)
        conn.execute("BEGIN IMMEDIATE")
        seq, prev = conn.execute(
            "SELECT seq, hash FROM audit_head WHERE community_id = ?", (community_id,)
        ).fetchone()
        at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        data_digest = hashlib.sha256(
            json.dumps({"i": i}, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        fields = {
            "seq": seq + 1,
            "at": at,
            "actor": "member:1",
            "action": "bench.raw",
            "subject_kind": "bench",
            "subject_id": str(i),
            "data_digest": data_digest,
            "prev_hash": prev,
        }
        entry_hash = canonical_hash(fields)
        conn.execute(
            "INSERT INTO audit_entry (community_id, seq, at, actor, action, subject_kind, "
            "subject_id, data_digest, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                community_id,
                seq + 1,
                now.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "member:1",
                "bench.raw",
                "bench",
                str(i),
                data_digest,
                prev,
                entry_hash,
            ),
        )
        conn.execute(
            "UPDATE audit_head SET seq = ?, hash = ? WHERE community_id = ?",
            (seq + 1, entry_hash, community_id),
        )
        conn.execute("COMMIT")
    conn.close()
    return count


def raw_postgres_appends(url: str, community_id: int, count: int) -> int:
    """The baseline on Postgres: psycopg, the head row locked, one transaction each."""
    now = START + timedelta(days=1)
    with psycopg.connect(url) as conn:
        for i in range(count):
            now += timedelta(seconds=1)
            with conn.transaction():
                seq, prev = conn.execute(
                    "SELECT seq, hash FROM audit_head WHERE community_id = %s FOR UPDATE",
                    (community_id,),
                ).fetchone()  # type: ignore[misc]
                data_digest = hashlib.sha256(
                    json.dumps({"i": i}, sort_keys=True, separators=(",", ":")).encode()
                ).hexdigest()
                fields = {
                    "seq": seq + 1,
                    "at": rfc3339(now),
                    "actor": "member:1",
                    "action": "bench.raw",
                    "subject_kind": "bench",
                    "subject_id": str(i),
                    "data_digest": data_digest,
                    "prev_hash": prev,
                }
                entry_hash = canonical_hash(fields)
                conn.execute(
                    "INSERT INTO audit_entry (community_id, seq, at, actor, action, subject_kind,"
                    " subject_id, data_digest, prev_hash, hash) VALUES "
                    "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    (
                        community_id,
                        seq + 1,
                        now,
                        "member:1",
                        "bench.raw",
                        "bench",
                        str(i),
                        data_digest,
                        prev,
                        entry_hash,
                    ),
                )
                conn.execute(
                    "UPDATE audit_head SET seq = %s, hash = %s WHERE community_id = %s",
                    (seq + 1, entry_hash, community_id),
                )
    return count


# --- a large chain to verify -------------------------------------------------------------------


def chain_rows(count: int) -> Iterator[tuple[int, datetime, str, str, str, str, str, str, str]]:
    """Generate a valid chain of `count` entries."""
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        at = START + timedelta(seconds=seq)
        entry = ChainEntry(
            seq,
            rfc3339(at),
            f"member:{seq % 500}",
            "membership.started",
            "membership",
            str(seq),
            digest({"n": seq}),
            prev,
        )
        prev = entry.entry_hash()
        yield (
            seq,
            at,
            entry.actor,
            entry.action,
            entry.subject_kind,
            entry.subject_id,
            entry.data_digest,
            entry.prev_hash,
            prev,
        )


def new_community(store: Store, external_id: str) -> int:
    """Create an empty community to fill."""
    caller = Caller("console", external_id, "admin", "admin", True, "general")
    run_text(store, caller, "/gov body list", START)
    with store.unit_of_work() as session:
        return int(
            session.execute(
                text("SELECT id FROM community WHERE external_id = :e"), {"e": external_id}
            ).scalar_one()
        )


def fill_sqlite(path: str, community_id: int, count: int) -> None:
    """Bulk-load a chain with sqlite3."""
    conn = sqlite3.connect(path)
    rows = (
        (community_id, seq, at.strftime("%Y-%m-%d %H:%M:%S.%f"), *rest)
        for seq, at, *rest in chain_rows(count)
    )
    last: list[str] = []

    def remember() -> Iterator[tuple[Any, ...]]:
        for row in rows:
            last[:] = [row[-1]]
            yield row

    conn.executemany(
        "INSERT INTO audit_entry (community_id, seq, at, actor, action, subject_kind, subject_id,"
        " data_digest, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
        remember(),
    )
    conn.execute(
        "UPDATE audit_head SET seq = ?, hash = ? WHERE community_id = ?",
        (count, last[0], community_id),
    )
    conn.commit()
    conn.close()


def fill_postgres(url: str, community_id: int, count: int) -> None:
    """Bulk-load a chain with COPY."""
    last = ""
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(
            "COPY audit_entry (community_id, seq, at, actor, action, subject_kind, subject_id,"
            " data_digest, prev_hash, hash) FROM STDIN"
        ) as copy:
            for seq, at, *rest in chain_rows(count):
                copy.write_row((community_id, seq, at, *rest))
                last = rest[-1]
        conn.execute(
            "UPDATE audit_head SET seq = %s, hash = %s WHERE community_id = %s",
            (count, last, community_id),
        )


def govbot_verify(store: Store, community_id: int) -> int:
    """Verify with govbot's own verifier."""
    with store.reading() as conn:
        result = audit.verify(conn, community_id)
    assert result.intact, result.broken
    return result.entries


def raw_sqlite_verify(path: str, community_id: int) -> int:
    """The baseline verifier with sqlite3: the same checks and hashing."""
    conn = sqlite3.connect(path)
    head_seq, head_hash = conn.execute(
        "SELECT seq, hash FROM audit_head WHERE community_id = ?", (community_id,)
    ).fetchone()
    prev, expected = GENESIS_HASH, 1
    for seq, at, actor, action, kind, subject, data_digest, prev_hash, stored in conn.execute(
        "SELECT seq, at, actor, action, subject_kind, subject_id, data_digest, prev_hash, hash "
        "FROM audit_entry WHERE community_id = ? ORDER BY seq",
        (community_id,),
    ):
        fields = {
            "seq": seq,
            "at": at.replace(" ", "T") + "Z",
            "actor": actor,
            "action": action,
            "subject_kind": kind,
            "subject_id": subject,
            "data_digest": data_digest,
            "prev_hash": prev_hash,
        }
        assert seq == expected and prev_hash == prev and canonical_hash(fields) == stored
        prev, expected = stored, expected + 1
    assert expected - 1 == head_seq and prev == head_hash
    conn.close()
    return head_seq


def raw_postgres_verify(url: str, community_id: int) -> int:
    """The baseline verifier with psycopg and a server-side cursor."""
    with psycopg.connect(url) as conn:
        head_seq, head_hash = conn.execute(
            "SELECT seq, hash FROM audit_head WHERE community_id = %s", (community_id,)
        ).fetchone()  # type: ignore[misc]
        prev, expected = GENESIS_HASH, 1
        with conn.cursor(name="verify") as cursor:
            cursor.itersize = 5000
            cursor.execute(
                "SELECT seq, at, actor, action, subject_kind, subject_id, data_digest, prev_hash,"
                " hash FROM audit_entry WHERE community_id = %s ORDER BY seq",
                (community_id,),
            )
            for seq, at, actor, action, kind, subject, data_digest, prev_hash, stored in cursor:
                fields = {
                    "seq": seq,
                    "at": rfc3339(at),
                    "actor": actor,
                    "action": action,
                    "subject_kind": kind,
                    "subject_id": subject,
                    "data_digest": data_digest,
                    "prev_hash": prev_hash,
                }
                assert seq == expected and prev_hash == prev and canonical_hash(fields) == stored
                prev, expected = stored, expected + 1
        assert expected - 1 == head_seq and prev == head_hash
    return int(head_seq)


def bench(kind: str, url: str, raw_url: str, entries: int, appends: int) -> None:
    """Run every figure on one database."""
    store = open_store(url)
    print(f"\n== {kind} ==")
    ours = timed(lambda: service_appends(store, appends))
    with store.unit_of_work() as session:
        community_id = int(session.execute(text("SELECT id FROM community")).scalar_one())
    if kind == "sqlite":
        raw = timed(lambda: raw_sqlite_appends(raw_url, community_id, appends))
    else:
        raw = timed(lambda: raw_postgres_appends(raw_url, community_id, appends))
    report("append via a command (join/leave)", ours, raw, "entries")
    report(
        "append via store.append, own transaction",
        timed(lambda: bare_appends(store, appends)),
        raw,
        "entries",
    )
    big = new_community(store, "big")
    began = time.perf_counter()
    if kind == "sqlite":
        fill_sqlite(raw_url, big, entries)
    else:
        fill_postgres(raw_url, big, entries)
    print(f"(loaded {entries:,} entries in {time.perf_counter() - began:.1f} s)")
    ours = timed(lambda: govbot_verify(store, big))
    if kind == "sqlite":
        raw = timed(lambda: raw_sqlite_verify(raw_url, big))
    else:
        raw = timed(lambda: raw_postgres_verify(raw_url, big))
    report(f"verify {entries:,} entries", ours, raw, "entries")
    print(f"verify wall time: govbot {ours[0]:.2f} s, raw {raw[0]:.2f} s")
    store.dispose()


def main() -> None:
    """Parse arguments and run the benchmark on SQLite, then Postgres."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = str(Path(scratch) / "bench.db")
        bench("sqlite", f"sqlite:///{path}", path, args.entries, args.appends)
    if args.skip_postgres:
        return
    name = f"govbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES).set(database=name)
    try:
        raw_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        bench(
            "postgres",
            url.render_as_string(hide_password=False),
            raw_url,
            args.entries,
            args.appends,
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
