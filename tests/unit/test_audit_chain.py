"""The chain rules of GOVERNANCE.md section 6, on entries in memory."""

from __future__ import annotations

import dataclasses
import hashlib

from govbot.domain.audit_chain import (
    GENESIS_HASH,
    ChainEntry,
    canonical_json,
    digest,
    verify_chain,
)


def build(count: int) -> list[tuple[ChainEntry, str]]:
    """Build a valid chain of `count` entries."""
    rows = []
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        entry = ChainEntry(
            seq,
            f"2026-01-05T09:00:{seq:02d}.000000Z",
            "member:1",
            "body.created",
            "body",
            str(seq),
            digest({"n": seq}),
            prev,
        )
        prev = entry.entry_hash()
        rows.append((entry, prev))
    return rows


def test_canonical_json_sorts_keys_drops_whitespace_and_keeps_utf8() -> None:
    assert canonical_json({"b": 1, "a": "委员会"}) == '{"a":"委员会","b":1}'.encode()


def test_an_entry_hash_is_sha256_over_its_canonical_json() -> None:
    entry = build(1)[0][0]
    fields = dataclasses.asdict(entry)
    assert entry.entry_hash() == hashlib.sha256(canonical_json(fields)).hexdigest()


def test_the_first_entry_chains_to_64_zeros() -> None:
    assert build(1)[0][0].prev_hash == "0" * 64


def test_an_untouched_chain_verifies() -> None:
    rows = build(5)
    report = verify_chain(rows, 5, rows[-1][1])
    assert report.intact and report.entries == 5


def test_an_edited_entry_is_named() -> None:
    rows = build(5)
    entry, stored = rows[2]
    rows[2] = (dataclasses.replace(entry, actor="member:2"), stored)
    report = verify_chain(rows, 5, rows[-1][1])
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (3, "edited")


def test_a_deleted_entry_is_named() -> None:
    rows = build(5)
    del rows[1]
    report = verify_chain(rows, 5, rows[-1][1])
    assert report.broken is not None and (report.broken.seq, report.broken.reason) == (2, "missing")


def test_deleting_the_newest_entries_is_caught_by_the_head() -> None:
    rows = build(5)
    head_hash = rows[-1][1]
    report = verify_chain(rows[:3], 5, head_hash)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (4, "truncated")


def test_swapping_two_entries_is_caught() -> None:
    rows = build(5)
    (a, ha), (b, hb) = rows[1], rows[2]
    rows[1] = (dataclasses.replace(b, seq=2), hb)
    rows[2] = (dataclasses.replace(a, seq=3), ha)
    report = verify_chain(rows, 5, rows[-1][1])
    assert report.broken is not None and report.broken.seq == 2


def test_an_empty_chain_with_an_empty_head_is_intact() -> None:
    assert verify_chain([], 0, GENESIS_HASH).intact
