"""The audit hash chain: canonical JSON, SHA-256, and the rules a verifier checks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def rfc3339(moment: datetime) -> str:
    """Format a moment as RFC 3339 in UTC with microseconds, e.g. `2026-01-05T09:00:00.000000Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def canonical_json(value: Any) -> bytes:
    """Encode as canonical JSON: sorted keys, no whitespace, UTF-8."""
    return json.dumps(
        _plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def digest(value: Any) -> str:
    """Return the SHA-256 hex digest of a value's canonical JSON."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _sha256_json(plain: dict[str, str | int]) -> str:
    encoded = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainEntry:
    """The hashed fields of one audit entry, in the order a verifier reads them."""

    seq: int
    at: str  # RFC 3339, UTC
    actor: str
    action: str
    subject_kind: str
    subject_id: str
    data_digest: str
    prev_hash: str

    def entry_hash(self) -> str:
        """Return the SHA-256 of this entry's canonical JSON, chaining it to `prev_hash`."""
        # Every field is already a plain string or int: skip `_plain`'s walk (verify speed).
        return _sha256_json(
            {
                "seq": self.seq,
                "at": self.at,
                "actor": self.actor,
                "action": self.action,
                "subject_kind": self.subject_kind,
                "subject_id": self.subject_id,
                "data_digest": self.data_digest,
                "prev_hash": self.prev_hash,
            }
        )


@dataclass(frozen=True)
class ChainBreak:
    """The first place a chain stops verifying, and why."""

    seq: int
    reason: str  # edited | missing | reordered | inserted | truncated | head


@dataclass(frozen=True)
class ChainReport:
    """What a verification found: how many entries, and the first break if any."""

    entries: int
    head_seq: int
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        """Say whether the whole chain verified."""
        return self.broken is None


def verify_chain(
    rows: Iterable[tuple[ChainEntry, str]], head_seq: int, head_hash: str
) -> ChainReport:
    """Re-compute a chain from (entry, stored hash) pairs in seq order against its head."""
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    for entry, stored_hash in rows:
        count += 1
        if entry.seq < expected_seq:
            return ChainReport(count, head_seq, ChainBreak(entry.seq, "inserted"))
        if entry.seq > expected_seq:
            return ChainReport(count, head_seq, ChainBreak(expected_seq, "missing"))
        if entry.prev_hash != prev_hash:
            reason = "reordered" if count > 1 else "edited"
            return ChainReport(count, head_seq, ChainBreak(entry.seq, reason))
        if entry.entry_hash() != stored_hash:
            return ChainReport(count, head_seq, ChainBreak(entry.seq, "edited"))
        prev_hash = stored_hash
        expected_seq += 1
    last_seq = expected_seq - 1
    if last_seq < head_seq:
        return ChainReport(count, head_seq, ChainBreak(last_seq + 1, "truncated"))
    if last_seq > head_seq or prev_hash != head_hash:
        return ChainReport(count, head_seq, ChainBreak(last_seq, "head"))
    return ChainReport(count, head_seq, None)
