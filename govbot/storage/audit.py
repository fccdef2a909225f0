"""Appending to, verifying and exporting a community's audit chain."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Engine, String, bindparam, event, select, type_coerce, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from govbot.domain.audit_chain import (
    GENESIS_HASH,
    ChainEntry,
    ChainReport,
    digest,
    rfc3339,
    verify_chain,
)
from govbot.storage import rows
from govbot.storage.models import AuditEntry, AuditHead, Community, Member

SYSTEM = "system"
ANONYMOUS = "anonymous"

_ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]
_ENTRY_FIELDS = (
    "community_id",
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
_HEAD = AuditHead.__table__  # type: ignore[attr-defined]
_COMMUNITY = Community.__table__  # type: ignore[attr-defined]
_MEMBER = Member.__table__  # type: ignore[attr-defined]

# Rows fetched per round trip when walking a whole chain: memory stays flat at any length.
BATCH_ROWS = 1000


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


_HEADS = "govbot_audit_heads"  # session.info key: community id -> (seq, hash) held locked


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_heads(session: OrmSession, transaction: SessionTransaction) -> None:
    # A head is known only while its lock is held: until the transaction ends.
    if transaction.parent is None:
        session.info.pop(_HEADS, None)


# Built once: every writing command runs these.
_LOCK_HEAD = rows.Prepared(
    select(_HEAD.c.seq, _HEAD.c.hash)
    .where(_HEAD.c.community_id == bindparam("community"))
    .with_for_update()
)
_INSERT_ENTRY = rows.Prepared(
    _ENTRY.insert().values({column: bindparam(column) for column in _ENTRY_FIELDS})
)
_MOVE_HEAD = rows.Prepared(
    update(_HEAD)
    .where(_HEAD.c.community_id == bindparam("community"))
    .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
)


def lock_head(session: Session, community_id: int) -> None:
    """Lock a community's chain head for the rest of the transaction (writers call it first)."""
    row = _LOCK_HEAD.first(session, {"community": community_id})
    if row is None:
        raise LookupError(f"community {community_id} has no audit chain head")
    session.info.setdefault(_HEADS, {})[community_id] = (row[0], row[1])


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
    heads = session.info.setdefault(_HEADS, {})
    if community_id not in heads:
        lock_head(session, community_id)
    head_seq, head_hash = heads[community_id]
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
    _INSERT_ENTRY.rows(
        session,
        {
            "community_id": community_id,
            "seq": entry.seq,
            "at": at,
            "actor": actor,
            "action": action,
            "subject_kind": subject_kind,
            "subject_id": entry.subject_id,
            "data_digest": entry.data_digest,
            "prev_hash": head_hash,
            "hash": entry_hash,
        },
    )
    _MOVE_HEAD.rows(
        session, {"community": community_id, "head_seq": entry.seq, "head_hash": entry_hash}
    )
    heads[community_id] = (entry.seq, entry_hash)
    return entry


@contextmanager
def snapshot(bind: Session | Connection | Engine) -> Iterator[Connection]:
    """Yield a connection of its own in a read transaction, seeing one consistent snapshot.

    Long reads (verify, export) use it whatever transaction the caller holds: on SQLite a
    deferred BEGIN makes it a WAL reader that never blocks writers; on Postgres REPEATABLE
    READ keeps the head and the entries read a moment later consistent with each other.
    """
    if isinstance(bind, Session):
        found = bind.get_bind()
        engine = found if isinstance(found, Engine) else found.engine
    elif isinstance(bind, Connection):
        engine = bind.engine
    else:
        engine = bind
    options: dict[str, Any] = {"govbot_readonly": True}
    if engine.dialect.name == "postgresql":
        options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    with engine.connect() as conn:
        conn.execution_options(**options)
        with conn.begin():
            yield conn


def head(bind: Session | Connection, community_id: int) -> tuple[int, str]:
    """Return a community's chain head: its last sequence number and hash."""
    row = bind.execute(
        select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.community_id == community_id)
    ).one_or_none()
    return (int(row[0]), str(row[1])) if row is not None else (0, GENESIS_HASH)


def head_anchor(bind: Session | Connection, community_id: int) -> str:
    """Name the chain head as members copy it to anchor the chain: `#SEQ HASH`."""
    seq, digest_hex = head(bind, community_id)
    return f"#{seq} {digest_hex}"


def _stream(conn: Connection, community_id: int) -> Generator[tuple[ChainEntry, str], None, None]:
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
        # Options on the statement, not the connection: a server-side cursor for this one
        # query, never for whatever the connection's owner runs next (an INSERT cannot be one).
        .execution_options(stream_results=True, yield_per=BATCH_ROWS)
    )
    with conn.execute(query) as result:
        for seq, at, actor, action, kind, subject, data_digest, prev_hash, stored in result:
            stamp = f"{at[:10]}T{at[11:]}Z" if sqlite else rfc3339(at)
            entry = ChainEntry(seq, stamp, actor, action, kind, subject, data_digest, prev_hash)
            yield entry, stored


def verify(conn: Connection, community_id: int) -> ChainReport:
    """Re-compute a community's whole chain against its head."""
    head_seq, head_hash = head(conn, community_id)
    rows = _stream(conn, community_id)
    try:
        return verify_chain(rows, head_seq, head_hash)
    finally:
        rows.close()  # a break found early closes the cursor now, not at garbage collection


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
MEMBER_FIELDS = ("actor", "name")


def export_to(conn: Connection, community_id: int, fmt: str, stream: TextIO) -> int:
    """Write a community's chain to a text stream as JSON (a list) or CSV, in seq order.

    Rows go out one by one, so memory stays flat however long the chain; returns the count.
    """
    rows = ({**entry.__dict__, "hash": stored} for entry, stored in _stream(conn, community_id))
    return write_rows(rows, EXPORT_FIELDS, fmt, stream)


def export_members_to(conn: Connection, community_id: int, fmt: str, stream: TextIO) -> int:
    """Write the table naming each `member:ID` actor: JSON (a list) or CSV; returns the count.

    The chain holds stable ids only; this table is apart so a community can redact names.
    """
    query = (
        select(_MEMBER.c.id, _MEMBER.c.display_name)
        .where(_MEMBER.c.community_id == community_id)
        .order_by(_MEMBER.c.id)
        .execution_options(stream_results=True, yield_per=BATCH_ROWS)
    )
    with conn.execute(query) as result:
        rows = ({"actor": f"member:{row[0]}", "name": row[1]} for row in result)
        return write_rows(rows, MEMBER_FIELDS, fmt, stream)


def write_rows(
    rows: Iterator[dict[str, Any]], fields: tuple[str, ...], fmt: str, stream: TextIO
) -> int:
    """Write rows as JSON (a list, one row per line) or CSV; return the count."""
    count = 0
    if fmt == "json":
        stream.write("[")
        for row in rows:
            stream.write(",\n " if count else "\n ")
            stream.write(json.dumps(row, ensure_ascii=False))
            count += 1
        stream.write("\n]\n" if count else "]\n")
        return count
    writer = csv.DictWriter(stream, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def export_community(conn: Connection, community_id: int, fmt: str) -> str:
    """Export a community's chain as one string (small chains; prefer `export_to`)."""
    out = io.StringIO()
    export_to(conn, community_id, fmt, out)
    return out.getvalue()
