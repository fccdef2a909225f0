"""Appending to, verifying and exporting a community's audit chain."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, select, type_coerce, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from govbot.domain.audit_chain import (
    GENESIS_HASH,
    ChainEntry,
    ChainReport,
    digest,
    rfc3339,
    verify_chain,
)
from govbot.storage.models import AuditEntry, AuditHead, Community

SYSTEM = "system"
ANONYMOUS = "anonymous"

_ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]
_HEAD = AuditHead.__table__  # type: ignore[attr-defined]
_COMMUNITY = Community.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CommunityLabel:
    """A community as the command line names it: `platform:external_id`."""

    id: int
    label: str


def list_communities(conn: Connection) -> list[CommunityLabel]:
    """List every community in the database."""
    rows = conn.execute(
        select(_COMMUNITY.c.id, _COMMUNITY.c.platform, _COMMUNITY.c.external_id).order_by(
            _COMMUNITY.c.id
        )
    )
    return [CommunityLabel(row[0], f"{row[1]}:{row[2]}") for row in rows]


def create_head(session: Session, community_id: int) -> None:
    """Start an empty chain for a new community."""
    session.add(AuditHead(community_id=community_id, seq=0, hash=GENESIS_HASH))


def append(
    session: Session,
    community_id: int,
    *,
    actor: str,
    action: str,
    subject_kind: str,
    subject_id: str | int,
    data: dict[str, Any],
    at: datetime,
) -> ChainEntry:
    """Append one entry in the caller's transaction, holding the head row's lock."""
    # Core statements rather than ORM objects: every command pays for this.
    head_seq, head_hash = session.execute(
        select(_HEAD.c.seq, _HEAD.c.hash)
        .where(_HEAD.c.community_id == community_id)
        .with_for_update()
    ).one()
    entry = ChainEntry(
        seq=head_seq + 1,
        at=rfc3339(at),
        actor=actor,
        action=action,
        subject_kind=subject_kind,
        subject_id=str(subject_id),
        data_digest=digest(data),
        prev_hash=head_hash,
    )
    entry_hash = entry.entry_hash()
    session.execute(
        _ENTRY.insert().values(
            community_id=community_id,
            seq=entry.seq,
            at=at,
            actor=actor,
            action=action,
            subject_kind=subject_kind,
            subject_id=entry.subject_id,
            data_digest=entry.data_digest,
            prev_hash=head_hash,
            hash=entry_hash,
        )
    )
    session.execute(
        update(_HEAD)
        .where(_HEAD.c.community_id == community_id)
        .values(seq=entry.seq, hash=entry_hash)
    )
    return entry


def _stream(conn: Connection, community_id: int) -> Iterator[tuple[ChainEntry, str]]:
    sqlite = conn.dialect.name == "sqlite"
    # On SQLite, read the stored text of `at` (always `YYYY-MM-DD HH:MM:SS.ffffff`, UTC) and
    # reshape it, instead of parsing a datetime only to format it again: verify's hot loop.
    at_column = type_coerce(_ENTRY.c.at, String) if sqlite else _ENTRY.c.at
    query = (
        select(
            _ENTRY.c.seq,
            at_column,
            _ENTRY.c.actor,
            _ENTRY.c.action,
            _ENTRY.c.subject_kind,
            _ENTRY.c.subject_id,
            _ENTRY.c.data_digest,
            _ENTRY.c.prev_hash,
            _ENTRY.c.hash,
        )
        .where(_ENTRY.c.community_id == community_id)
        .order_by(_ENTRY.c.seq)
    )
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
    for seq, at, actor, action, kind, subject, data_digest, prev_hash, stored in result:
        stamp = f"{at[:10]}T{at[11:]}Z" if sqlite else rfc3339(at)
        yield ChainEntry(seq, stamp, actor, action, kind, subject, data_digest, prev_hash), stored


def verify(conn: Connection, community_id: int) -> ChainReport:
    """Re-compute a community's whole chain against its head."""
    head = conn.execute(
        select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.community_id == community_id)
    ).one_or_none()
    head_seq, head_hash = (head[0], head[1]) if head is not None else (0, GENESIS_HASH)
    return verify_chain(_stream(conn, community_id), head_seq, head_hash)


def entry_hash(conn: Connection, community_id: int, seq: int) -> str | None:
    """Return the stored hash of entry `seq` (0: the genesis hash), or None if there is none."""
    if seq == 0:
        return GENESIS_HASH
    found: str | None = conn.execute(
        select(_ENTRY.c.hash).where(_ENTRY.c.community_id == community_id, _ENTRY.c.seq == seq)
    ).scalar_one_or_none()
    return found


EXPORT_FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "subject_kind",
    "subject_id",
    "data_digest",
    "prev_hash",
    "hash",
)


def export_community(conn: Connection, community_id: int, fmt: str) -> str:
    """Export a community's chain as JSON (a list) or CSV, in seq order."""
    rows = [{**entry.__dict__, "hash": stored} for entry, stored in _stream(conn, community_id)]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
