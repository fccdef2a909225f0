"""Ballots through the command layer beside a raw driver, and tally speed, in one run.

    python benchmarks/votes.py [--voters 10000] [--rounds 10] [--ballots 100000] [--skip-postgres]

Prints, on SQLite and on Postgres:
- ballots per second and p50/p99 latency of `/gov vote cast 1 yes` through the command layer
  (`commands.run_text`), cast by `--voters` distinct members on one proposal whose electorate
  is the whole community (each a member seen for the first time);
- beside it the raw driver (`sqlite3`, `psycopg`) writing the same rows for the same members
  on a second proposal, one transaction per ballot: the voter row, the ballot row and an audit
  entry chained to the head by SHA-256 (the head row locked and moved); target ratio >= 0.25.
  The two run in alternating rounds, so both meet the same machine load.

Then the time `voting.tally` takes for `--ballots` random full rankings of `--options`, by
Schulze and by instant runoff (best of 3); target under 0.3 s each.

Figures, not a pass/fail test.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import math
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script from the repository root: make `tests` (tests/postgres.py) importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from govbot.bootstrap import open_store
from govbot.commands import run_text
from govbot.domain.voting import Method, Rules, tally
from govbot.services.base import Caller
from govbot.storage.db import Store
from tests import postgres

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ADMIN = Caller("console", "bench", "admin", "admin", True, "general")
RATIO_TARGET = 0.25
TALLY_TARGET = 0.3


def voter(index: int, community_size: int) -> Caller:
    """Return the `index`th voter, as the platform describes them (member count included)."""
    name = f"v{index:05}"
    return Caller("console", "bench", name, name, False, "general", member_count=community_size)


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of a list (0 < share <= 1)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]


def open_proposals(store: Store, voters: int) -> None:
    """Open #1 (for the command layer) and #2 (for the raw driver) to the whole community."""
    admin = dataclasses.replace(ADMIN, member_count=voters * 2)
    run_text(store, admin, "/gov setup init", START)
    for title in ("Through govbot", "Through the driver"):
        line = f'/gov proposal create title:"{title}" electorate:community closes:30d'
        reply = run_text(store, admin, line, START)[0]
        assert not reply.error, reply.text


def through_govbot(store: Store, first: int, count: int, size: int) -> list[float]:
    """Cast one ballot each for voters `first`.. through `run_text`; return each latency."""
    latencies = []
    now = START + timedelta(seconds=first)
    for i in range(first, first + count):
        now += timedelta(milliseconds=10)
        start = time.perf_counter()
        replies = run_text(store, voter(i, size), "/gov vote cast 1 yes", now)
        latencies.append(time.perf_counter() - start)
        assert not replies[0].error, replies[0].text
    return latencies


def chained(seq: int, at: str, prev: str, actor: str, proposal: int) -> tuple[str, str]:
    """Return an entry's data digest and hash, computed as the chain does."""
    data = {"proposal": proposal, "choice": "yes", "reason": None}
    data_digest = hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    fields = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": "vote.cast",
        "subject_kind": "proposal",
        "subject_id": str(proposal),
        "data_digest": data_digest,
        "prev_hash": prev,
    }
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return data_digest, hashlib.sha256(body.encode()).hexdigest()


_FIND = "SELECT id, community_id FROM proposal WHERE number = 2"
_MEMBERS = "SELECT id FROM member WHERE platform_user_id >= {p} AND platform_user_id < {p}"
_HEAD = "SELECT seq, hash FROM audit_head WHERE community_id = {p}"
_VOTER = "INSERT INTO voter (proposal_id, member_id) VALUES ({p}, {p})"
_BALLOT = (
    "INSERT INTO ballot (proposal_id, slot, member_id, choice, reason) "
    "VALUES ({p}, {p}, {p}, 'yes', NULL)"
)
_ENTRY = (
    "INSERT INTO audit_entry (community_id, seq, at, actor, action, subject_kind, subject_id, "
    "data_digest, prev_hash, hash) VALUES ({p}, {p}, {p}, {p}, 'vote.cast', 'proposal', '2', "
    "{p}, {p}, {p})"
)
_MOVE = "UPDATE audit_head SET seq = {p}, hash = {p} WHERE community_id = {p}"


class Raw:
    """Write ballots with the bare driver: the baseline govbot is measured against.

    Per ballot, in one transaction, on proposal #2: the voter row, the ballot row and an
    audit entry chained by SHA-256 to the head, which is read locked and moved.
    """

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        mark = "?" if kind == "sqlite" else "%s"
        self.sql = {
            name: query.format(p=mark)
            for name, query in (
                ("members", _MEMBERS),
                ("head", _HEAD + ("" if kind == "sqlite" else " FOR UPDATE")),
                ("voter", _VOTER),
                ("ballot", _BALLOT),
                ("entry", _ENTRY),
                ("move", _MOVE),
            )
        }
        self.conn: Any
        if kind == "sqlite":
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
                self.conn.execute(f"PRAGMA {pragma}")
        else:
            plain = make_url(url).set(drivername="postgresql")
            self.conn = psycopg.connect(plain.render_as_string(hide_password=False))
            self.conn.autocommit = True  # transactions are explicit below
        self.proposal, self.community = self.conn.execute(_FIND).fetchone()

    def cast(self, first: int, count: int) -> float:
        """Write the ballots of voters `first`.. (already members); return the seconds taken."""
        bounds = (voter(first, 0).user_id, voter(first + count, 0).user_id)
        members = [row[0] for row in self.conn.execute(self.sql["members"], bounds)]
        assert len(members) == count
        now = START + timedelta(days=1, seconds=first)
        began = time.perf_counter()
        for member in members:
            now += timedelta(milliseconds=10)
            self.ballot(member, now)
        return time.perf_counter() - began

    def ballot(self, member: int, now: datetime) -> None:
        """Write one ballot in one transaction."""
        sql, conn, community = self.sql, self.conn, self.community
        actor = f"member:{member}"
        if self.kind == "sqlite":
            at: Any = now.strftime("%Y-%m-%d %H:%M:%S.%f")
            conn.execute("BEGIN IMMEDIATE")
        else:
            at = now
            conn.execute("BEGIN")
        seq, prev = conn.execute(sql["head"], (community,)).fetchone()
        conn.execute(sql["voter"], (self.proposal, member))
        conn.execute(sql["ballot"], (self.proposal, f"m{member}", member))
        data_digest, digest = chained(seq + 1, now.isoformat(), prev, actor, 2)
        conn.execute(sql["entry"], (community, seq + 1, at, actor, data_digest, prev, digest))
        conn.execute(sql["move"], (seq + 1, digest, community))
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def check(store: Store, voters: int) -> None:
    """Make sure both paths wrote what they claim: one ballot per voter on each proposal."""
    with store.engine.connect() as conn:
        counted = conn.execute(
            text(
                "SELECT p.number, count(*) FROM ballot b JOIN proposal p ON p.id = b.proposal_id "
                "GROUP BY p.number ORDER BY p.number"
            )
        ).all()
        shown = conn.execute(text("SELECT ballots FROM proposal WHERE number = 1")).scalar_one()
    assert [tuple(row) for row in counted] == [(1, voters), (2, voters)], counted
    assert shown == voters


def bench(kind: str, url: str, voters: int, rounds: int) -> None:
    """Print the ballot figures on one database.

    Both paths run in alternating rounds, so that both meet the same disk and CPU weather
    (on a shared machine the cost of a commit drifts from minute to minute).
    """
    store = open_store(url)
    open_proposals(store, voters)
    raw = Raw(kind, url)
    latencies: list[float] = []
    ours = theirs = 0.0
    per_round = voters // rounds
    for index in range(rounds):
        began = time.perf_counter()
        latencies += through_govbot(store, index * per_round, per_round, voters * 2)
        ours += time.perf_counter() - began
        theirs += raw.cast(index * per_round, per_round)
    raw.close()
    cast = per_round * rounds
    check(store, cast)
    store.dispose()
    p50, p99 = (percentile(latencies, share) * 1000 for share in (0.5, 0.99))
    ratio = theirs / ours
    verdict = "ok" if ratio >= RATIO_TARGET else "BELOW TARGET"
    print(f"\n{kind}: {cast:,} voters on one proposal (electorate: the community)")
    print(f"  govbot   {cast / ours:8,.0f} ballots/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    print(
        f"  raw      {cast / theirs:8,.0f} ballots/s   (voter + ballot + chained entry per commit)"
    )
    print(f"  ratio    {ratio:8.2f}  (target >= {RATIO_TARGET})  {verdict}")


def best_of(repeat: int, run: Callable[[], Any]) -> float:
    """Return the fastest of `repeat` timed runs."""
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    return best


def tallies(ballots: int, options: int, seed: int) -> None:
    """Print how long Schulze and IRV take over random full rankings."""
    rng = random.Random(seed)
    names = tuple(f"option {i + 1}" for i in range(options))
    choices = [tuple(rng.sample(range(options), options)) for _ in range(ballots)]
    print(f"\ntally: {ballots:,} full rankings over {options} options, best of 3")
    for method, label in ((Method.RANKED, "Schulze"), (Method.IRV, "IRV")):
        rules = Rules(method, names)
        seconds = best_of(3, functools.partial(tally, rules, choices))
        verdict = "ok" if seconds < TALLY_TARGET else "SLOW"
        print(
            f"  {label:8} {seconds * 1000:7.1f} ms"
            f"  (target < {TALLY_TARGET * 1000:.0f} ms)  {verdict}"
        )


def main() -> None:
    """Parse the options and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--voters", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10, help="alternations of the two paths")
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--options", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-postgres", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        bench("sqlite", f"sqlite:///{Path(scratch) / 'votes.db'}", options.voters, options.rounds)
    if options.skip_postgres or postgres.unavailable():
        print("\npostgres: skipped")
    else:
        url = postgres.create_database()
        try:
            bench("postgres", url, options.voters, options.rounds)
        finally:
            postgres.drop_database(url)
    tallies(options.ballots, options.options, options.seed)


if __name__ == "__main__":
    os.environ.setdefault("GOVBOT_LOG_LEVEL", "WARNING")
    main()
