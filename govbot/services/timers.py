"""Due work (ended terms, chair rotations, closings, reminders, session items), each once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Update, delete, func, update
from sqlmodel import Session, col, select

from govbot.domain.bodies import Role
from govbot.replies import CommunityRef, Notice, Reply, Visibility
from govbot.services import anchors, proposals, sessions
from govbot.services.base import Caller, Context, mention
from govbot.services.bodies import pass_rotating_chair
from govbot.services.runner import address
from govbot.storage import audit
from govbot.storage.db import Store
from govbot.storage.models import (
    Body,
    Community,
    Delivery,
    InboxCommand,
    Member,
    Membership,
    Proposal,
    SessionItem,
    VoteSession,
)

log = logging.getLogger(__name__)

DELIVERY_KEEP = timedelta(days=2)
BATCH = 200


def run_due(store: Store, now: datetime) -> list[Notice]:
    """Do every piece of work that fell due by `now`; return what to tell people."""
    notices: list[Notice] = []
    notices += _record_ended_terms(store, now)
    notices += _rotate_chairs(store, now)
    notices += _end_session_items(store, now)
    notices += _close_sessions(store, now)
    notices += _close_proposals(store, now)
    notices += _remind_voters(store, now)
    notices += anchors.run_due(store, now)
    _forget_old_deliveries(store, now)
    return notices


def _record_ended_terms(store: Store, now: datetime) -> list[Notice]:
    with store.unit_of_work(readonly=True) as session:
        due = session.exec(
            select(Membership.id)
            .where(col(Membership.end) <= now, col(Membership.end_recorded).is_(False))
            .order_by(col(Membership.end))
            .limit(BATCH)
        ).all()
    notices: list[Notice] = []
    for membership_id in due:
        with store.unit_of_work() as session:
            if not _claim(
                session,
                update(Membership)
                .where(col(Membership.id) == membership_id, col(Membership.end_recorded).is_(False))
                .values(end_recorded=True),
            ):
                continue  # another worker has it
            seat = session.get(Membership, membership_id)
            assert seat is not None and seat.end is not None
            body = session.get(Body, seat.body_id)
            member = session.get(Member, seat.member_id)
            assert body is not None and member is not None
            ctx = _system_context(session, body.community_id, now)
            ctx.audit(
                "membership.term_ended",
                "membership",
                seat.id or 0,
                {"end": seat.end},
                actor=audit.SYSTEM,
            )
            text = ctx.t("body.term_ended", body=body.slug, member=mention(member))
            replies = [Reply(text, Visibility.DM, recipient=member.platform_user_id)]
            if seat.role == Role.CHAIR.value and body.rotating_chair:
                replies += pass_rotating_chair(ctx, body)
            session.commit()
        notices += [_notice(ctx.community, reply) for reply in replies]
    return notices


def _rotate_chairs(store: Store, now: datetime) -> list[Notice]:
    with store.unit_of_work(readonly=True) as session:
        due = session.exec(
            select(Body.id, Body.chair_rotates_at).where(col(Body.chair_rotates_at) <= now)
        ).all()
    notices: list[Notice] = []
    for body_id, due_at in due:
        with store.unit_of_work() as session:
            if not _claim(
                session,
                update(Body)
                .where(col(Body.id) == body_id, col(Body.chair_rotates_at) == due_at)
                .values(chair_rotates_at=None),
            ):
                continue
            body = session.get(Body, body_id)
            assert body is not None
            session.refresh(body)
            ctx = _system_context(session, body.community_id, now)
            replies = pass_rotating_chair(ctx, body)
            session.commit()
        notices += [_notice(ctx.community, reply) for reply in replies]
    return notices


def _close_proposals(store: Store, now: datetime) -> list[Notice]:
    """Close proposals whose time came (a sign-off comment period may still hold one open)."""

    def close(ctx: Context, proposal: Proposal) -> list[Reply]:
        period = proposal.comment_period_ends
        if period is not None and period > now:
            proposal.due_at = period  # the comment period runs past the close
            ctx.session.add(proposal)
            return []
        return proposals.close(ctx, proposal, reason=None, early=False, actor=audit.SYSTEM)

    return _due_under_lock(store, now, Proposal, proposals.OPEN, _own_community, close)


def _end_session_items(store: Store, now: datetime) -> list[Notice]:
    """End the live session items whose window ran out."""

    def end(ctx: Context, item: SessionItem) -> list[Reply]:
        return sessions.end_item_on_time(ctx, item, audit.SYSTEM)

    return _due_under_lock(store, now, SessionItem, sessions.LIVE, _session_community, end)


def _close_sessions(store: Store, now: datetime) -> list[Notice]:
    """Close the sessions left open past their limit; the minutes say so."""

    def close(ctx: Context, vote_session: VoteSession) -> list[Reply]:
        return sessions.close_on_time(ctx, vote_session, audit.SYSTEM)

    return _due_under_lock(store, now, VoteSession, sessions.OPEN, _own_community, close)


Due = TypeVar("Due", Proposal, SessionItem, VoteSession)


def _due_under_lock(
    store: Store,
    now: datetime,
    model: type[Due],
    state: str,
    community_of: Callable[[Session, Any], int],
    act: Callable[[Context, Due], list[Reply]],
) -> list[Notice]:
    """Act on each row in `state` whose `due_at` came, claimed under the chain-head lock.

    A second worker, or a command that moved the row on meanwhile, finds it changed once it
    holds the lock, and leaves it.
    """
    with store.unit_of_work(readonly=True) as session:
        due = session.exec(
            select(model.id, model.due_at)
            .where(model.state == state, col(model.due_at) <= now)
            .order_by(col(model.due_at))
            .limit(BATCH)
        ).all()
    notices: list[Notice] = []
    for row_id, due_at in due:
        with store.unit_of_work() as session:
            row = session.get(model, row_id)
            assert row is not None
            ctx = _system_context(session, community_of(session, row), now)
            audit.lock_head(session, ctx.community_id)
            session.refresh(row)
            if row.state != state or row.due_at != due_at:
                continue
            replies = act(ctx, row)
            session.commit()
        notices += [_notice(ctx.community, reply) for reply in replies]
    return notices


def _own_community(session: Session, row: Proposal | VoteSession) -> int:
    return row.community_id


def _session_community(session: Session, item: SessionItem) -> int:
    vote_session = session.get(VoteSession, item.session_id)
    assert vote_session is not None
    return vote_session.community_id


def _remind_voters(store: Store, now: datetime) -> list[Notice]:
    """Remind eligible members who have not voted, once per proposal."""
    with store.unit_of_work(readonly=True) as session:
        due = session.exec(
            select(Proposal.id, Proposal.remind_at)
            .where(Proposal.state == proposals.OPEN, col(Proposal.remind_at) <= now)
            .limit(BATCH)
        ).all()
    notices: list[Notice] = []
    for proposal_id, remind_at in due:
        with store.unit_of_work() as session:
            if not _claim(
                session,
                update(Proposal)
                .where(col(Proposal.id) == proposal_id, col(Proposal.remind_at) == remind_at)
                .values(remind_at=None),
            ):
                continue
            proposal = session.get(Proposal, proposal_id)
            assert proposal is not None
            ctx = _system_context(session, proposal.community_id, now)
            replies = proposals.reminder_replies(ctx, proposal)
            ctx.audit(
                "proposal.reminded",
                "proposal",
                proposal.number,
                {"proposal": proposal.number, "reminded": len(replies)},
                actor=audit.SYSTEM,
            )
            session.commit()
        notices += [_notice(ctx.community, reply) for reply in replies]
    return notices


def _claim(session: Session, statement: Update) -> bool:
    """Run a conditional update; only the worker whose update matched the row goes on."""
    return bool(session.execute(statement).rowcount == 1)  # type: ignore[attr-defined]


def _forget_old_deliveries(store: Store, now: datetime) -> None:
    """Forget deliveries, and inbox commands already run, once no platform retries them."""
    with store.unit_of_work() as session:
        session.execute(
            Delivery.__table__.delete().where(  # type: ignore[attr-defined]
                Delivery.__table__.c.created_at < now - DELIVERY_KEEP  # type: ignore[attr-defined]
            )
        )
        session.execute(
            delete(InboxCommand).where(
                col(InboxCommand.done).is_(True),
                col(InboxCommand.received_at) < now - DELIVERY_KEEP,
            )
        )
        session.commit()


def _system_context(session: Session, community_id: int, now: datetime) -> Context:
    """Build the context timers act in: the actor is `system`, not a member."""
    community = session.get(Community, community_id)
    assert community is not None
    actor = Member(
        id=0,
        community_id=community_id,
        platform_user_id=audit.SYSTEM,
        display_name=audit.SYSTEM,
        created_at=now,
    )
    caller = Caller(
        platform=community.platform,
        community_id=community.external_id,
        user_id=audit.SYSTEM,
        display_name=audit.SYSTEM,
    )
    return Context(session=session, community=community, actor=actor, caller=caller, now=now)


def _notice(community: Community, reply: Reply) -> Notice:
    return Notice(
        CommunityRef(community.platform, community.external_id), address(reply, community, None)
    )


def pending_count(store: Store) -> int:
    """Count the pieces of work waiting for their time (terms, chairs, closings, sessions)."""
    with store.unit_of_work(readonly=True) as session:
        terms = session.exec(
            select(func.count())
            .select_from(Membership)
            .where(col(Membership.end).is_not(None), col(Membership.end_recorded).is_(False))
        ).one()
        rotations = session.exec(
            select(func.count()).select_from(Body).where(col(Body.chair_rotates_at).is_not(None))
        ).one()
        closings = session.exec(
            select(func.count())
            .select_from(Proposal)
            .where(Proposal.state == proposals.OPEN, col(Proposal.due_at).is_not(None))
        ).one()
        meetings = session.exec(
            select(func.count())
            .select_from(VoteSession)
            .where(VoteSession.state == sessions.OPEN, col(VoteSession.due_at).is_not(None))
        ).one()
    return int(terms) + int(rotations) + int(closings) + int(meetings)
