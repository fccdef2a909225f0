"""Weekly chain anchors: the head posted where members can copy it, so a rewrite shows.

Built like the timers' due work (a claim by conditional update, a Notice for the announce
channel) but imports nothing from `timers`, so `timers.run_due` can call `run_due` here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, or_, select

from govbot.i18n import translate
from govbot.replies import CommunityRef, Notice, Reply, Visibility
from govbot.services.runner import address
from govbot.storage import audit
from govbot.storage.db import Store
from govbot.storage.models import Community

WEEK = timedelta(days=7)
BATCH = 200


def run_due(store: Store, now: datetime) -> list[Notice]:
    """Post each community's chain head once a week, when the chain grew since the last one."""
    with store.unit_of_work(readonly=True) as session:
        due = session.exec(
            select(Community.id, Community.anchor_due_at)
            .where(
                col(Community.weekly_anchor).is_(True),
                or_(col(Community.anchor_due_at).is_(None), col(Community.anchor_due_at) <= now),
            )
            .order_by(col(Community.id))
            .limit(BATCH)
        ).all()
    notices: list[Notice] = []
    for community_id, due_at in due:
        assert community_id is not None
        with store.unit_of_work() as session:
            seq, head_hash = audit.head(session, community_id)
            community = session.get(Community, community_id)
            assert community is not None
            anchored = community.anchored_seq
            # Keep the weekday and hour of the first schedule, even after a long outage.
            next_due = (
                now + WEEK if due_at is None else due_at + WEEK * ((now - due_at) // WEEK + 1)
            )
            # Claim: only the worker whose conditional update matched posts.
            claimed = session.execute(
                update(Community)
                .where(
                    col(Community.id) == community_id,
                    col(Community.anchor_due_at).is_(None)
                    if due_at is None
                    else col(Community.anchor_due_at) == due_at,
                )
                .values(anchor_due_at=next_due, anchored_seq=max(seq, anchored))
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            session.commit()
        # The first schedule only starts the week; a week without entries needs no new line.
        if due_at is None or seq <= anchored:
            continue
        # Not an audit entry: the anchor must not grow the chain it anchors every week.
        reply = Reply(anchor_line(community.language, seq, head_hash), Visibility.PUBLIC)
        where = CommunityRef(community.platform, community.external_id)
        notices.append(Notice(where, address(reply, community, None)))
    return notices


def anchor_line(language: str, seq: int, head_hash: str) -> str:
    """Put the weekly anchor line into words."""
    return translate(language, "audit.anchor_weekly", seq=seq, hash=head_hash)
