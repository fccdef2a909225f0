"""Appending to, verifying and exporting a community's audit chain."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import Session
from sqlmodel import select as orm_select

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
) -> AuditEntry:
    """Append one entry in the caller's transaction, holding the head row's lock."""
    head = session.exec(
        orm_select(AuditHead).where(AuditHead.community_id == community_id).with_for_update()
    ).one()
    chain = ChainEntry(
        seq=head.seq + 1,
        at=rfc3339(at),
        actor=actor,
        action=action,
        subject_kind=subject_kind,
        subject_id=str(subject_id),
        data_digest=digest(data),
        prev_hash=head.hash,
    )
    entry = AuditEntry(
        community_id=community_id,
        seq=chain.seq,
        at=at,
        actor=chain.actor,
        action=action,
        subject_kind=subject_kind,
        subject_id=chain.subject_id,
        data_digest=chain.data_digest,
        prev_hash=chain.prev_hash,
        hash=chain.entry_hash(),
    )
    head.seq, head.hash = entry.seq, entry.hash
    session.add(entry)
    session.add(head)
    session.flush()
    return entry


def _stream(conn: Connection, community_id: int) -> Iterator[tuple[ChainEntry, str]]:
    query = (
        select(
            _ENTRY.c.seq,
            _ENTRY.c.at,
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
        yield (
            ChainEntry(seq, rfc3339(at), actor, action, kind, subject, data_digest, prev_hash),
            stored,
        )


def verify(conn: Connection, community_id: int) -> ChainReport:
    """Re-compute a community's whole chain against its head."""
    head = conn.execute(
        select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.community_id == community_id)
    ).one_or_none()
    head_seq, head_hash = (head[0], head[1]) if head is not None else (0, GENESIS_HASH)
    return verify_chain(_stream(conn, community_id), head_seq, head_hash)


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
