"""Decision records and meeting minutes: exported in order, streamed row by row."""

from __future__ import annotations

import json
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.engine import Connection

from govbot.storage.audit import BATCH_ROWS, write_rows
from govbot.storage.models import Body, Decision, Proposal, VoteSession

_DECISION = Decision.__table__  # type: ignore[attr-defined]
_PROPOSAL = Proposal.__table__  # type: ignore[attr-defined]
_SESSION = VoteSession.__table__  # type: ignore[attr-defined]
_BODY = Body.__table__  # type: ignore[attr-defined]

DECISION_FIELDS = (
    "decision",
    "proposal",
    "title",
    "outcome",
    "decided_at",
    "closing_hash",
    "corrects",
    "record",
)


def export_decisions_to(conn: Connection, community_id: int, fmt: str, stream: TextIO) -> int:
    """Write a community's decision records, oldest first, as JSON or CSV; return the count.

    `record` is the canonical JSON the `decision.recorded` audit entry's digest covers.
    """
    query = (
        select(
            _DECISION.c.id,
            _PROPOSAL.c.number,
            _PROPOSAL.c.title,
            _DECISION.c.outcome,
            _DECISION.c.decided_at,
            _DECISION.c.closing_hash,
            _DECISION.c.corrects_id,
            _DECISION.c.record,
        )
        .join(_PROPOSAL, _PROPOSAL.c.id == _DECISION.c.proposal_id)
        .where(_DECISION.c.community_id == community_id)
        .order_by(_DECISION.c.id)
        .execution_options(stream_results=True, yield_per=BATCH_ROWS)
    )
    with conn.execute(query) as result:
        rows = (
            {
                "decision": row[0],
                "proposal": row[1],
                "title": row[2],
                "outcome": row[3],
                "decided_at": row[4].isoformat(),
                "closing_hash": row[5],
                "corrects": row[6],
                "record": json.loads(row[7]) if fmt == "json" else row[7],
            }
            for row in result
        )
        return write_rows(rows, DECISION_FIELDS, fmt, stream)


SESSION_FIELDS = (
    "session",
    "body",
    "opened_at",
    "closed_at",
    "timed_out",
    "closing_hash",
    "minutes",
)


def export_sessions_to(conn: Connection, community_id: int, fmt: str, stream: TextIO) -> int:
    """Write a community's closed vote sessions with their minutes, oldest first."""
    query = (
        select(
            _SESSION.c.number,
            _BODY.c.slug,
            _SESSION.c.opened_at,
            _SESSION.c.closed_at,
            _SESSION.c.timed_out,
            _SESSION.c.closing_hash,
            _SESSION.c.minutes,
        )
        .join(_BODY, _BODY.c.id == _SESSION.c.body_id)
        .where(_SESSION.c.community_id == community_id, _SESSION.c.closed_at.is_not(None))
        .order_by(_SESSION.c.number)
        .execution_options(stream_results=True, yield_per=BATCH_ROWS)
    )
    with conn.execute(query) as result:
        rows = (
            {
                "session": row[0],
                "body": row[1],
                "opened_at": row[2].isoformat(),
                "closed_at": row[3].isoformat(),
                "timed_out": row[4],
                "closing_hash": row[5],
                "minutes": row[6],
            }
            for row in result
        )
        return write_rows(rows, SESSION_FIELDS, fmt, stream)
