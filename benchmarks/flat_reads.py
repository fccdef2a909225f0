"""Flat reads: `audit log` (newest, one body, one member) and `audit export` at 1k and 1M entries.

    python benchmarks/flat_reads.py [--sizes 1000 1000000] [--runs 30] [--skip-postgres]

Rows are loaded with fast inserts (sqlite3 executemany, Postgres COPY), not through commands;
they need not chain (nothing here verifies). The body asked about has the same 40 entries at
every size, so its figures show the cost of the chain's length alone. Prints figures; it is not
a pass/fail test.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from govbot.bootstrap import open_store
from govbot.commands import run_text
from govbot.services.base import Caller
from govbot.storage.db import Store
from tests import postgres

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MEMBERS = 500
TARGET_ENTRIES = 40  # entries about the body asked for, at every size


def rows(
    community_id: int, body_id: int, first_member: int, count: int
) -> Iterator[tuple[Any, ...]]:
    """Generate `count` entries: mostly memberships, 40 about one body, spread evenly."""
    every = max(count // TARGET_ENTRIES, 1)
    for seq in range(1, count + 1):
        at = START + timedelta(seconds=seq)
        if seq % every == 0 and seq // every <= TARGET_ENTRIES:
            kind, subject = "body", str(body_id)
        else:
            kind, subject = "membership", str(seq)
        yield (
            community_id,
            seq,
            at,
            f"member:{first_member + seq % MEMBERS}",
            "bench.filled",
            kind,
            subject,
            f"{seq:064x}",
            f"{seq - 1:064x}",
            f"{seq:064x}",
        )


def prepare(store: Store, external_id: str) -> tuple[Caller, int, int, int]:
    """Create a community with its bodies and members; return caller and row ids."""
    caller = Caller("console", external_id, "admin", "admin", True, "general")
    run_text(store, caller, "/gov setup init", START)
    with store.engine.begin() as conn:
        community_id = int(
            conn.execute(
                text("SELECT id FROM community WHERE external_id = :e"), {"e": external_id}
            ).scalar_one()
        )
        body_id = int(
            conn.execute(
                text("SELECT id FROM body WHERE community_id = :c AND slug = 'committee'"),
                {"c": community_id},
            ).scalar_one()
        )
        # Replace what setup wrote with the generated chain.
        conn.execute(text("DELETE FROM audit_entry WHERE community_id = :c"), {"c": community_id})
        conn.execute(
            text(
                "INSERT INTO member (community_id, platform_user_id, display_name, created_at) "
                "VALUES (:c, :u, :u, :t)"
            ),
            [{"c": community_id, "u": f"m{i}", "t": START} for i in range(1, MEMBERS + 1)],
        )
        first_member = int(
            conn.execute(
                text("SELECT id FROM member WHERE community_id = :c AND platform_user_id = 'm1'"),
                {"c": community_id},
            ).scalar_one()
        )
    return caller, community_id, body_id, first_member


def fill(
    kind: str, raw_url: str, community_id: int, body_id: int, first_member: int, count: int
) -> None:
    """Bulk-load `count` entries and set the head to match."""
    if kind == "sqlite":
        conn = sqlite3.connect(raw_url)
        conn.executemany(
            "INSERT INTO audit_entry (community_id, seq, at, actor, action, subject_kind,"
            " subject_id, data_digest, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                (c, s, at.strftime("%Y-%m-%d %H:%M:%S.%f"), *rest)
                for c, s, at, *rest in rows(community_id, body_id, first_member, count)
            ),
        )
        conn.execute(
            "UPDATE audit_head SET seq = ?, hash = ? WHERE community_id = ?",
            (count, f"{count:064x}", community_id),
        )
        conn.commit()
        conn.execute("ANALYZE")
        conn.close()
        return
    with psycopg.connect(raw_url) as pg:
        with pg.cursor().copy(
            "COPY audit_entry (community_id, seq, at, actor, action, subject_kind, subject_id,"
            " data_digest, prev_hash, hash) FROM STDIN"
        ) as copy:
            for row in rows(community_id, body_id, first_member, count):
                copy.write_row(row)
        pg.execute(
            "UPDATE audit_head SET seq = %s, hash = %s WHERE community_id = %s",
            (count, f"{count:064x}", community_id),
        )
    with psycopg.connect(raw_url, autocommit=True) as pg:
        pg.execute("ANALYZE audit_entry")


def median_ms(store: Store, caller: Caller, command: str, runs: int) -> tuple[float, str]:
    """Run a command `runs` times; return the median wall time and the first reply line."""
    times = []
    first = ""
    for _ in range(runs):
        began = time.perf_counter()
        replies = run_text(store, caller, command, START + timedelta(days=365))
        times.append((time.perf_counter() - began) * 1000)
        first = replies[0].text.splitlines()[0]
        assert not replies[0].error, replies[0].text
    return statistics.median(times), first


def export_figures(store: Store, caller: Caller) -> tuple[float, int, int]:
    """Export as JSON through chat: seconds, peak Python memory (bytes), file size (bytes).

    Two runs: one timed, one under tracemalloc (which slows it several times over).
    """
    command, now = "/gov audit export format:json", START + timedelta(days=365)
    began = time.perf_counter()
    replies = run_text(store, caller, command, now)
    seconds = time.perf_counter() - began
    attachment = replies[0].attachment
    assert attachment is not None, replies[0].text
    size = attachment.size()
    del replies, attachment
    tracemalloc.start()
    run_text(store, caller, command, now)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, size


def bench(kind: str, url: str, raw_url: str, sizes: list[int], runs: int) -> None:
    """Print every figure on one database."""
    store = open_store(url)
    print(f"\n== {kind} ==")
    for size in sizes:
        caller, community_id, body_id, first_member = prepare(store, f"size{size}")
        began = time.perf_counter()
        fill(kind, raw_url, community_id, body_id, first_member, size)
        print(f"-- {size:,} entries (loaded in {time.perf_counter() - began:.1f} s)")
        for label, command in (
            ("audit log (newest)", "/gov audit log"),
            ("audit log body committee", "/gov audit log body committee"),
            ("audit log member @m7", "/gov audit log member @m7"),
        ):
            ms, head = median_ms(store, caller, command, runs)
            print(f"{label:<40} median {ms:8.1f} ms   {head}")
        seconds, peak, size_bytes = export_figures(store, caller)
        print(
            f"{'audit export json':<40} {seconds:8.2f} s   peak Python memory "
            f"{peak / 2**20:6.1f} MiB   file {size_bytes / 2**20:7.1f} MiB"
        )
    store.dispose()


def main() -> None:
    """Parse arguments and run on SQLite, then Postgres."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 1_000_000])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = str(Path(scratch) / "bench.db")
        bench("sqlite", f"sqlite:///{path}", path, args.sizes, args.runs)
    if args.skip_postgres:
        return
    if postgres.unavailable():
        print("\npostgres: skipped")
        return
    url = postgres.create_database()
    try:
        raw_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        bench("postgres", url, raw_url, args.sizes, args.runs)
    finally:
        postgres.drop_database(url)


if __name__ == "__main__":
    main()
