"""The command path's speed and flatness, each beside a raw baseline measured in the same run.

    python benchmarks/command_path.py [--commands 2000] [--history 500000] [--skip-postgres]

Prints, on SQLite and on Postgres:
- state-changing commands per second through the command layer (`body join` / `body leave`,
  one membership row and one chained audit entry each), beside the raw driver doing the same
  row and chained entry in one transaction (synchronous=FULL on SQLite); target ratio >= 0.25;
- read-only commands per second (`body show quality`); target >= 2,000/s on SQLite;
- the statements one command sends;
- flatness: `body show`, the timer tick and the pending-work count with 1,000 and with
  `--history` past terms on the same body (each should stay about the same).

Figures, not a pass/fail test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from govbot.bootstrap import open_store
from govbot.commands import run_text
from govbot.services.base import Caller
from govbot.services.timers import pending_count, run_due
from govbot.storage.db import Store
from tests import postgres

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ADMIN = Caller("console", "bench", "admin", "admin", True, "general")


def member(name: str) -> Caller:
    """Return a console caller without the admin right."""
    return Caller("console", "bench", name, name, False, "general")


def rate(count: int, work: Callable[[], None]) -> float:
    """Run `work` and return how many of `count` it did per second."""
    began = time.perf_counter()
    work()
    return count / (time.perf_counter() - began)


def median_ms(work: Callable[[], Any], runs: int = 50) -> float:
    """Return the median time of `work` in milliseconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def join_and_leave(store: Store, count: int) -> None:
    """Alternate `body join` and `body leave` by one member: one row and one entry each."""
    now = START
    for i in range(count):
        now += timedelta(seconds=1)
        verb = "join" if i % 2 == 0 else "leave"
        reply = run_text(store, member("bench"), f"/gov body {verb} operations", now)[0]
        assert not reply.error, reply.text


def show_bodies(store: Store, count: int) -> None:
    """Run a read-only command `count` times."""
    for _ in range(count):
        reply = run_text(store, member("reader"), "/gov body show quality", START)[0]
        assert not reply.error, reply.text


def statements_per_command(store: Store, line: str) -> int:
    """Count the statements one command sends to the database."""
    sent = 0

    def count(*_: Any) -> None:
        nonlocal sent
        sent += 1

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        run_text(store, member("bench"), line, START + timedelta(days=1))
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return sent


def entry_hash(seq: int, at: str, prev: str, i: int) -> tuple[str, str]:
    """Hash an entry as the chain does, with the standard library only."""
    data_digest = hashlib.sha256(json.dumps({"i": i}).encode()).hexdigest()
    fields = {
        "seq": seq,
        "at": at,
        "actor": "member:1",
        "action": "membership.started",
        "subject_kind": "membership",
        "subject_id": str(i),
        "data_digest": data_digest,
        "prev_hash": prev,
    }
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return data_digest, hashlib.sha256(body.encode()).hexdigest()


def raw_sqlite(path: str, count: int) -> None:
    """The baseline: sqlite3 inserting the membership row and its chained entry per commit."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    cid, body, who = conn.execute(
        "SELECT b.community_id, b.id, m.id FROM body b JOIN member m "
        "ON m.community_id = b.community_id WHERE b.slug = 'tsc' LIMIT 1"
    ).fetchone()
    now = START + timedelta(days=2)
    for i in range(count):
        now += timedelta(seconds=1)
        stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.execute("BEGIN IMMEDIATE")
        seq, prev = conn.execute(
            "SELECT seq, hash FROM audit_head WHERE community_id = ?", (cid,)
        ).fetchone()
        conn.execute(
            'INSERT INTO membership (body_id, member_id, role, start, "end", end_recorded) '
            "VALUES (?, ?, 'member', ?, NULL, 0)",
            (body, who, stamp),
        )
        data_digest, digest = entry_hash(seq + 1, stamp, prev, i)
        conn.execute(
            "INSERT INTO audit_entry (community_id, seq, at, actor, action, subject_kind, "
            "subject_id, data_digest, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                cid,
                seq + 1,
                stamp,
                "member:1",
                "membership.started",
                "membership",
                str(i),
                data_digest,
                prev,
                digest,
            ),
        )
        conn.execute(
            "UPDATE audit_head SET seq = ?, hash = ? WHERE community_id = ?", (seq + 1, digest, cid)
        )
        conn.execute("COMMIT")
    conn.close()


def raw_postgres(url: str, count: int) -> None:
    """The baseline on Postgres: psycopg, the head row locked, one transaction each."""
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as conn:
        cid, body, who = conn.execute(
            "SELECT b.community_id, b.id, m.id FROM body b JOIN member m "
            "ON m.community_id = b.community_id WHERE b.slug = 'tsc' LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        now = START + timedelta(days=2)
        for i in range(count):
            now += timedelta(seconds=1)
            with conn.transaction():
                seq, prev = conn.execute(
                    "SELECT seq, hash FROM audit_head WHERE community_id = %s FOR UPDATE", (cid,)
                ).fetchone()  # type: ignore[misc]
                conn.execute(
                    'INSERT INTO membership (body_id, member_id, role, start, "end", '
                    "end_recorded) VALUES (%s, %s, 'member', %s, NULL, false)",
                    (body, who, now),
                )
                data_digest, digest = entry_hash(seq + 1, now.isoformat(), prev, i)
                conn.execute(
                    "INSERT INTO audit_entry (community_id, seq, at, actor, action, "
                    "subject_kind, subject_id, data_digest, prev_hash, hash) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    (
                        cid,
                        seq + 1,
                        now,
                        "member:1",
                        "membership.started",
                        "membership",
                        str(i),
                        data_digest,
                        prev,
                        digest,
                    ),
                )
                conn.execute(
                    "UPDATE audit_head SET seq = %s, hash = %s WHERE community_id = %s",
                    (seq + 1, digest, cid),
                )


def add_history(store: Store, terms: int) -> None:
    """Give `quality` this many past terms (recorded, as the timer leaves them), quickly."""
    with store.engine.begin() as conn:
        body = conn.execute(text("SELECT id FROM body WHERE slug = 'quality'")).scalar_one()
        who = conn.execute(text("SELECT id FROM member WHERE platform_user_id = 'admin'")).scalar()
        rows = [
            {
                "body": body,
                "who": who,
                "start": START - timedelta(days=400, minutes=2 * i + 1),
                "end": START - timedelta(days=400, minutes=2 * i),
            }
            for i in range(terms)
        ]
        conn.execute(
            text(
                'INSERT INTO membership (body_id, member_id, role, start, "end", end_recorded) '
                "VALUES (:body, :who, 'member', :start, :end, true)"
            ),
            rows,
        )
        # What autovacuum (Postgres) or a routine ANALYZE would do after such growth.
        conn.execute(text("ANALYZE"))


def flatness(store: Store, label: str) -> None:
    """Print body show, the timer tick and the pending count at the current history size."""
    show = median_ms(lambda: show_bodies(store, 1))
    tick = median_ms(lambda: run_due(store, START), runs=20)
    pending = median_ms(lambda: pending_count(store), runs=20)
    print(
        f"  {label:<28} body show {show:6.2f} ms   tick {tick:6.2f} ms   pending {pending:6.2f} ms"
    )


def bench(kind: str, url: str, commands: int, history: int) -> None:
    """Run every figure on one database."""
    store = open_store(url)
    run_text(store, ADMIN, "/gov setup init", START)
    run_text(store, ADMIN, "/gov body add tsc @admin", START)
    print(f"\n{kind}")
    ours = rate(commands, lambda: join_and_leave(store, commands))
    if kind == "sqlite":
        raw = rate(commands, lambda: raw_sqlite(url.removeprefix("sqlite:///"), commands))
    else:
        raw = rate(commands, lambda: raw_postgres(url, commands))
    print(f"  writes: govbot {ours:8,.0f}/s   raw {raw:8,.0f}/s   ratio {ours / raw:5.2f}")
    reads = rate(commands, lambda: show_bodies(store, commands))
    print(f"  reads (body show): {reads:8,.0f}/s")
    sent = statements_per_command(store, "/gov body join operations")
    print(f"  statements per write command: {sent}")
    add_history(store, 1000)
    flatness(store, "1,000 past terms:")
    add_history(store, history - 1000)
    flatness(store, f"{history:,} past terms:")
    store.dispose()


def main() -> None:
    """Parse the options and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--history", type=int, default=500_000)
    parser.add_argument("--skip-postgres", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "bench.db"
        bench("sqlite", f"sqlite:///{path}", options.commands, options.history)
    if options.skip_postgres or postgres.unavailable():
        print("\npostgres: skipped")
        return
    url = postgres.create_database()
    try:
        bench("postgres", url, options.commands, options.history)
    finally:
        postgres.drop_database(url)


if __name__ == "__main__":
    os.environ.setdefault("GOVBOT_LOG_LEVEL", "WARNING")
    main()
