"""Due work: terms that ended and rotating chairs, claimed so that each runs exactly once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

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
    with store.unit_of_work(readonly=True) as session:
        due = session.exec(
            select(Proposal.id, Proposal.due_at)
            .where(Proposal.state == proposals.OPEN, col(Proposal.due_at) <= now)
            .order_by(col(Proposal.due_at))
            .limit(BATCH)
        ).all()
    notices: list[Notice] = []
    for proposal_id, due_at in due:
        with store.unit_of_work() as session:
            proposal = session.get(Proposal, proposal_id)
            assert proposal is not None
            ctx = _system_context(session, proposal.community_id, now)
            audit.lock_head(session, ctx.community_id)
            # Claim under the chain-head lock: a second worker finds it moved or closed.
            session.refresh(proposal)
            if proposal.state != proposals.OPEN or proposal.due_at != due_at:
                continue
            period = proposal.comment_period_ends
            if period is not None and period > now:
                proposal.due_at = period  # the comment period runs past the close
                session.add(proposal)
                session.commit()
                continue
            replies = proposals.close(ctx, proposal, reason=None, early=False, actor=audit.SYSTEM)
            session.commit()
        notices += [_notice(ctx.community, reply) for reply in replies]
    return notices


def _end_session_items(store: Store, now: datetime) -> list[Notice]:
    """End the live session items whose window ran out."""
    with store.unit_of_work(readonly=True) as session:
        due = session.exec(
            select(SessionItem.id, SessionItem.due_at)
            .where(SessionItem.state == sessions.LIVE, col(SessionItem.due_at) <= now)
            .order_by(col(SessionItem.due_at))
            .limit(BATCH)
        ).all()
    notices: list[Notice] = []
    for item_id, due_at in due:
        with store.unit_of_work() as session:
            item = session.get(SessionItem, item_id)
            assert item is not None
            vote_session = session.get(VoteSession, item.session_id)
            assert vote_session is not None
            ctx = _system_context(session, vote_session.community_id, now)
            audit.lock_head(session, ctx.community_id)
            # Claim under the chain-head lock: a second worker finds it ended or moved on.
            session.refresh(item)
            if item.state != sessions.LIVE or item.due_at != due_at:
                continue
            replies = sessions.end_item_on_time(ctx, item, audit.SYSTEM)
            session.commit()
        notices += [_notice(ctx.community, reply) for reply in replies]
    return notices


def _close_sessions(store: Store, now: datetime) -> list[Notice]:
    """Close the sessions left open past their limit; the minutes say so."""
    with store.unit_of_work(readonly=True) as session:
        due = session.exec(
            select(VoteSession.id, VoteSession.due_at)
            .where(VoteSession.state == sessions.OPEN, col(VoteSession.due_at) <= now)
            .order_by(col(VoteSession.due_at))
            .limit(BATCH)
        ).all()
    notices: list[Notice] = []
    for session_id, due_at in due:
        with store.unit_of_work() as session:
            vote_session = session.get(VoteSession, session_id)
            assert vote_session is not None
            ctx = _system_context(session, vote_session.community_id, now)
            audit.lock_head(session, ctx.community_id)
            session.refresh(vote_session)
            if vote_session.state != sessions.OPEN or vote_session.due_at != due_at:
                continue
            replies = sessions.close_on_time(ctx, vote_session, audit.SYSTEM)
            session.commit()
        notices += [_notice(ctx.community, reply) for reply in replies]
    return notices


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
