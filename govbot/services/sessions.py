"""Committee vote sessions: a meeting with a roll, an agenda taken item by item, and minutes.

A session's items are ordinary proposals of its body: ballots go through `vote cast`, and an
item that ends is closed with the proposal's own decision record. The session adds who may
vote while it runs (the roll), when each item is open (its live window), and the minutes.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, func, select

from govbot.domain import voting
from govbot.domain.durations import parse_duration
from govbot.replies import Attachment, Button, Reply, Visibility
from govbot.services import proposals
from govbot.services.base import Args, Context, Refusal, mention
from govbot.storage.models import (
    Body,
    Decision,
    Eligible,
    Member,
    PostedMessage,
    Proposal,
    SessionAttendee,
    SessionItem,
    Voter,
    VoteSession,
)

OPEN, CLOSED = "open", "closed"
PENDING, LIVE, DONE, SKIPPED = "pending", "live", "done", "skipped"
DEFAULT_WINDOW = "10m"
LONGEST_WINDOW = timedelta(days=1)
# A session left open closes by itself after this long, the minutes saying so.
SESSION_LIMIT = timedelta(hours=4)
MAX_AGENDA = 20


# --- running a session ---------------------------------------------------------------------


def open_session(ctx: Context, args: Args) -> list[Reply]:
    """Open a session of a body with an agenda of its open proposals (its chair or a manager)."""
    body = ctx.body(args.text("body") or "")
    _require_chair(ctx, body)
    numbers = _agenda_numbers(args.text("agenda") or "")
    agenda = [_agenda_proposal(ctx, body, number) for number in numbers]
    running = _open_session_of(ctx, body)
    if running is not None:
        raise Refusal("error.session.already_open", body=body.slug, number=running.number)
    vote_session = VoteSession(
        community_id=ctx.community_id,
        number=_next_number(ctx),
        body_id=_id(body),
        chair_id=_id(ctx.actor),
        state=OPEN,
        window=body.session_window or DEFAULT_WINDOW,
        absent_votes=body.absent_votes,
        opened_at=ctx.now,
        due_at=ctx.now + SESSION_LIMIT,
    )
    ctx.session.add(vote_session)
    ctx.session.flush()
    session_id = _id(vote_session)
    ctx.session.add_all(
        SessionItem(session_id=session_id, position=i, proposal_id=_id(p), state=PENDING)
        for i, p in enumerate(agenda, 1)
    )
    # The roll starts as the body's members now, none present; `present` marks arrivals.
    members = dict.fromkeys(seat.member_id for seat in ctx.seats(body))
    ctx.session.add_all(SessionAttendee(session_id=session_id, member_id=m) for m in members)
    ctx.audit(
        "session.opened",
        "session",
        vote_session.number,
        {
            "session": vote_session.number,
            "body": body.slug,
            "agenda": numbers,
            "window": vote_session.window,
            "absent_votes": vote_session.absent_votes,
        },
    )
    ctx.session.flush()
    return [_post(ctx, vote_session), _chair_panel(ctx, vote_session)]


def mark_present(ctx: Context, args: Args) -> list[Reply]:
    """Put the caller on the roll of their body's open session."""
    vote_session = _find_session(ctx, args, chair=False)
    body = _body(ctx, vote_session)
    if not ctx.seats(body, ctx.actor):
        raise Refusal("error.session.not_member", body=body.slug, number=vote_session.number)
    seat = ctx.session.get(SessionAttendee, (vote_session.id, ctx.actor.id))
    if seat is not None and seat.arrived_at is not None:
        raise Refusal("error.session.already_present", number=vote_session.number)
    if seat is None:  # joined the body after the session opened
        seat = SessionAttendee(session_id=_id(vote_session), member_id=_id(ctx.actor))
    seat.arrived_at = ctx.now
    ctx.session.add(seat)
    ctx.audit(
        "session.present",
        "session",
        vote_session.number,
        {"session": vote_session.number, "member": mention(ctx.actor)},
    )
    ctx.session.flush()
    done = ctx.private("session.marked_present", number=vote_session.number)
    return [done, _update(ctx, vote_session)]


def next_item(ctx: Context, args: Args) -> list[Reply]:
    """End the live item, if any, and open the next one for its live window."""
    vote_session = _find_session(ctx, args, chair=True)
    body = _body(ctx, vote_session)
    _require_chair(ctx, body)
    items = _items(ctx, vote_session)
    waiting = [(item, proposal) for item, proposal in items if item.state == PENDING]
    chosen = next(((i, p) for i, p in waiting if _votable(ctx, p)), None)
    if chosen is None:
        raise Refusal("error.session.no_items", number=vote_session.number)
    item, proposal = chosen
    present = _voters_present(ctx, vote_session, proposal)
    needed = quorum_needed(proposal)
    if len(present) < needed:
        raise Refusal(
            "error.session.no_quorum",
            number=proposal.number,
            present=len(present),
            needed=needed,
        )
    replies: list[Reply] = []
    for live, _ in (pair for pair in items if pair[0].state == LIVE):
        replies += _end_item(ctx, vote_session, live)
    for passed, _ in waiting:
        if passed.position >= item.position:
            break
        passed.state = SKIPPED  # its proposal closed or was withdrawn before its turn
        ctx.session.add(passed)
    window = parse_duration(vote_session.window)
    item.state = LIVE
    item.opened_at = ctx.now
    item.due_at = window.after(ctx.now) if window else ctx.now + timedelta(minutes=10)
    ctx.session.add(item)
    ctx.audit(
        "session.item_opened",
        "session",
        vote_session.number,
        {"session": vote_session.number, "proposal": proposal.number, "until": item.due_at},
    )
    ctx.session.flush()
    return [*replies, _update(ctx, vote_session), _chair_panel(ctx, vote_session)]


def close_session(ctx: Context, args: Args) -> list[Reply]:
    """End the session: close the live item, write the minutes and post them."""
    vote_session = _find_session(ctx, args, chair=True)
    _require_chair(ctx, _body(ctx, vote_session))
    replies: list[Reply] = []
    for item, _ in _items(ctx, vote_session):
        if item.state == LIVE:
            replies += _end_item(ctx, vote_session, item)
    return replies + finish(ctx, vote_session, timed_out=False)


def show_minutes(ctx: Context, args: Args) -> list[Reply]:
    """Show a session's minutes (so far, while it runs), with the Markdown file attached."""
    text = (args.text("id") or "").lstrip("#")
    if not text.isdigit() or len(text) > 9:
        raise Refusal("error.session.bad_id", field="id", id=text[:12])
    vote_session = ctx.session.exec(
        select(VoteSession).where(
            VoteSession.community_id == ctx.community_id, VoteSession.number == int(text)
        )
    ).first()
    if vote_session is None:
        raise Refusal("error.session.unknown", field="id", number=text)
    written = vote_session.minutes or minutes(ctx, vote_session)  # stored once closed
    attachment = Attachment(f"session-{vote_session.number}.md", written)
    return [Reply(written, Visibility.PRIVATE, attachment=attachment)]


# --- what ballots see ----------------------------------------------------------------------


def check_ballot(ctx: Context, proposal: Proposal) -> None:
    """Refuse a ballot the running session does not allow: an item not yet taken, or absent."""
    found = _running_item(ctx, proposal, (PENDING, LIVE))
    if found is None:
        return
    item, vote_session = found
    if item.state == PENDING:
        raise Refusal(
            "error.session.not_taken", number=proposal.number, session=vote_session.number
        )
    if vote_session.absent_votes:
        return
    if item.due_at is not None and item.due_at <= ctx.now:
        # The window ran out and the timer has yet to end the item: the vote is over.
        raise Refusal("error.proposal.closed", number=proposal.number)
    seat = ctx.session.get(SessionAttendee, (vote_session.id, ctx.actor.id))
    if seat is None or seat.arrived_at is None:
        raise Refusal("error.session.absent", number=proposal.number, session=vote_session.number)


def after_ballot(ctx: Context, proposal: Proposal) -> list[Reply]:
    """Refresh the session message; end the item once every present member has voted."""
    found = _running_item(ctx, proposal, (LIVE,))
    if found is None:
        return []
    item, vote_session = found
    present = _voters_present(ctx, vote_session, proposal)
    voted = _voted(ctx, proposal)
    everyone = bool(present) and present <= voted
    replies: list[Reply] = []
    if proposal.state != proposals.OPEN or everyone:
        replies += _end_item(ctx, vote_session, item)
    return [*replies, _update(ctx, vote_session)]


# --- timers --------------------------------------------------------------------------------


def end_item_on_time(ctx: Context, item: SessionItem, actor: str) -> list[Reply]:
    """End a live item whose window ran out (the timer holds the claim)."""
    vote_session = ctx.session.get(VoteSession, item.session_id)
    assert vote_session is not None
    # On time: the item ended when its window did, however late the timer came.
    replies = _end_item(ctx, vote_session, item, actor=actor, at=item.due_at)
    return [*replies, _update(ctx, vote_session)]


def close_on_time(ctx: Context, vote_session: VoteSession, actor: str) -> list[Reply]:
    """Close a session left open past its limit (the timer holds the claim)."""
    replies: list[Reply] = []
    for item, _ in _items(ctx, vote_session):
        if item.state == LIVE:
            replies += _end_item(ctx, vote_session, item, actor=actor)
    return replies + finish(ctx, vote_session, timed_out=True, actor=actor)


def finish(
    ctx: Context, vote_session: VoteSession, *, timed_out: bool, actor: str | None = None
) -> list[Reply]:
    """Close the session, audit it, and post the minutes with their file."""
    vote_session.state = CLOSED
    vote_session.closed_at = ctx.now
    vote_session.due_at = None
    vote_session.timed_out = timed_out
    body = _body(ctx, vote_session)
    closing = ctx.audit(
        "session.closed",
        "session",
        vote_session.number,
        {
            "session": vote_session.number,
            "body": body.slug,
            "timed_out": timed_out,
            "items": [p.number for i, p in _items(ctx, vote_session) if i.state == DONE],
        },
        actor=actor,
    )
    vote_session.closing_hash = closing
    written = minutes(ctx, vote_session)
    vote_session.minutes = written
    ctx.session.add(vote_session)
    ctx.session.flush()
    attachment = Attachment(f"session-{vote_session.number}.md", written)
    head = "session.closed_post_timeout" if timed_out else "session.closed_post"
    posted = Reply(
        ctx.t(head, number=vote_session.number, body=body.slug),
        Visibility.PUBLIC,
        recipient=_home_channel(ctx, vote_session),
        attachment=attachment,
    )
    return [posted, _update(ctx, vote_session)]


# --- the rules -----------------------------------------------------------------------------


def quorum_needed(proposal: Proposal) -> int:
    """Count the present voters an item needs: the proposal's quorum, else a majority."""
    size = proposal.electorate_size
    quorum = voting.parse_quorum(proposal.quorum) if proposal.quorum else None
    if quorum is not None:
        return max(1, quorum.required(size))
    return size // 2 + 1


def _require_chair(ctx: Context, body: Body) -> None:
    if ctx.is_manager() or any(seat.member_id == ctx.actor.id for seat in ctx.chairs(body)):
        return
    raise Refusal("error.session.not_chair", body=body.slug)


def _agenda_numbers(text: str) -> list[int]:
    parts = [part.strip().lstrip("#") for part in text.split(",")]
    if not parts or any(not part.isdigit() or len(part) > 9 for part in parts):
        raise Refusal("error.session.bad_agenda", field="agenda")
    numbers = [int(part) for part in parts]
    if len(set(numbers)) != len(numbers):
        raise Refusal("error.session.repeated_item", field="agenda")
    if len(numbers) > MAX_AGENDA:
        raise Refusal("error.session.long_agenda", field="agenda", max=MAX_AGENDA)
    return numbers


def _agenda_proposal(ctx: Context, body: Body, number: int) -> Proposal:
    proposal = ctx.session.exec(
        select(Proposal).where(Proposal.community_id == ctx.community_id, Proposal.number == number)
    ).first()
    if proposal is None:
        raise Refusal("error.session.unknown_item", field="agenda", number=number)
    if proposal.state == proposals.WITHDRAWN:
        raise Refusal("error.session.item_withdrawn", field="agenda", number=number)
    if not _votable(ctx, proposal):
        raise Refusal("error.session.item_closed", field="agenda", number=number)
    if proposal.body_id != body.id:
        raise Refusal("error.session.item_foreign", field="agenda", number=number, body=body.slug)
    return proposal


def _votable(ctx: Context, proposal: Proposal) -> bool:
    return proposal.state == proposals.OPEN and proposal.closes_at > ctx.now


def _end_item(
    ctx: Context,
    vote_session: VoteSession,
    item: SessionItem,
    *,
    actor: str | None = None,
    at: datetime | None = None,
) -> list[Reply]:
    """End a live item; its proposal closes now unless absent members may still vote."""
    item.state = DONE
    item.ended_at = at or ctx.now
    item.due_at = None
    ctx.session.add(item)
    proposal = ctx.session.get(Proposal, item.proposal_id)
    assert proposal is not None
    replies: list[Reply] = []
    if proposal.state == proposals.OPEN and not vote_session.absent_votes:
        replies += proposals.close(ctx, proposal, reason=None, early=True, actor=actor)
    ctx.audit(
        "session.item_closed",
        "session",
        vote_session.number,
        {
            "session": vote_session.number,
            "proposal": proposal.number,
            "state": proposal.state,
            "outcome": proposal.outcome,
        },
        actor=actor,
    )
    return replies


# --- reading -------------------------------------------------------------------------------


def _find_session(ctx: Context, args: Args, *, chair: bool) -> VoteSession:
    """Find the open session a command means: the one named, the only one, or the caller's."""
    running = list(
        ctx.session.exec(
            select(VoteSession)
            .where(VoteSession.community_id == ctx.community_id, VoteSession.state == OPEN)
            .order_by(col(VoteSession.number))
        ).all()
    )
    if args.has("session"):
        running = [s for s in running if s.number == args.values["session"]]
    if not running:
        raise Refusal("error.session.none_open")
    if len(running) == 1:
        return running[0]
    mine = [s for s in running if _concerns(ctx, s, chair=chair)]
    if len(mine) == 1:
        return mine[0]
    shown = ctx.listing(f"#{s.number} ({_body(ctx, s).slug})" for s in mine or running)
    raise Refusal("error.session.which", sessions=shown)


def _concerns(ctx: Context, vote_session: VoteSession, *, chair: bool) -> bool:
    body = _body(ctx, vote_session)
    if chair:
        return any(seat.member_id == ctx.actor.id for seat in ctx.chairs(body))
    return bool(ctx.seats(body, ctx.actor))


def _open_session_of(ctx: Context, body: Body) -> VoteSession | None:
    return ctx.session.exec(
        select(VoteSession).where(VoteSession.body_id == body.id, VoteSession.state == OPEN)
    ).first()


def _next_number(ctx: Context) -> int:
    # Writers hold the community's chain-head lock, so no other writer takes the same number.
    highest = ctx.session.exec(
        select(func.max(VoteSession.number)).where(VoteSession.community_id == ctx.community_id)
    ).one()
    return int(highest or 0) + 1


def _body(ctx: Context, vote_session: VoteSession) -> Body:
    body = ctx.session.get(Body, vote_session.body_id)
    assert body is not None
    return body


def _items(ctx: Context, vote_session: VoteSession) -> list[tuple[SessionItem, Proposal]]:
    found = ctx.session.exec(
        select(SessionItem, Proposal)
        .join(Proposal, col(Proposal.id) == SessionItem.proposal_id)
        .where(SessionItem.session_id == vote_session.id)
        .order_by(col(SessionItem.position))
    ).all()
    return [(item, proposal) for item, proposal in found]


def _running_item(
    ctx: Context, proposal: Proposal, states: tuple[str, ...]
) -> tuple[SessionItem, VoteSession] | None:
    found = ctx.session.exec(
        select(SessionItem, VoteSession)
        .join(VoteSession, col(VoteSession.id) == SessionItem.session_id)
        .where(
            SessionItem.proposal_id == proposal.id,
            col(SessionItem.state).in_(states),
            VoteSession.state == OPEN,
        )
    ).first()
    return (found[0], found[1]) if found is not None else None


def _roll(ctx: Context, vote_session: VoteSession) -> list[tuple[Member, datetime | None]]:
    found = ctx.session.exec(
        select(Member, SessionAttendee.arrived_at)
        .join(SessionAttendee, col(SessionAttendee.member_id) == Member.id)
        .where(SessionAttendee.session_id == vote_session.id)
        .order_by(col(SessionAttendee.arrived_at), col(Member.display_name))
    ).all()
    return [(member, arrived) for member, arrived in found]


def _present_ids(ctx: Context, vote_session: VoteSession) -> set[int]:
    found = ctx.session.exec(
        select(SessionAttendee.member_id).where(
            SessionAttendee.session_id == vote_session.id,
            col(SessionAttendee.arrived_at).is_not(None),
        )
    ).all()
    return set(found)


def _voters_present(ctx: Context, vote_session: VoteSession, proposal: Proposal) -> set[int]:
    """The present members who may vote on the item: in its electorate and not recused."""
    eligible = ctx.session.exec(
        select(Eligible.member_id).where(
            Eligible.proposal_id == proposal.id, col(Eligible.recused).is_(None)
        )
    ).all()
    return _present_ids(ctx, vote_session) & set(eligible)


def _voted(ctx: Context, proposal: Proposal) -> set[int]:
    found = ctx.session.exec(select(Voter.member_id).where(Voter.proposal_id == proposal.id)).all()
    return set(found)


def _recused(ctx: Context, proposal: Proposal) -> list[tuple[str, str]]:
    found = ctx.session.exec(
        select(Member.display_name, Eligible.recused)
        .join(Eligible, col(Eligible.member_id) == Member.id)
        .where(Eligible.proposal_id == proposal.id, col(Eligible.recused).is_not(None))
        .order_by(col(Member.display_name))
    ).all()
    return [(f"@{name}", str(why)) for name, why in found]


def _names(ctx: Context, member_ids: set[int]) -> list[str]:
    if not member_ids:
        return []
    found = ctx.session.exec(
        select(Member.display_name).where(col(Member.id).in_(member_ids))
    ).all()
    return sorted(f"@{name}" for name in found)


def _decision_record(ctx: Context, proposal: Proposal) -> dict[str, Any] | None:
    decision = ctx.session.exec(
        select(Decision)
        .where(Decision.proposal_id == proposal.id)
        .order_by(col(Decision.id).desc())
        .limit(1)
    ).first()
    return json.loads(decision.record) if decision is not None else None


def _home_channel(ctx: Context, vote_session: VoteSession) -> str | None:
    """Where the minutes go: the announce channel, else the session message's channel."""
    if ctx.community.announce_channel:
        return None
    return ctx.session.exec(
        select(PostedMessage.channel).where(
            PostedMessage.community_id == ctx.community_id,
            PostedMessage.key == message_key(vote_session),
        )
    ).first()


def message_key(vote_session: VoteSession) -> str:
    """Name the session's one public message, which every change edits in place."""
    return f"session:{vote_session.number}"


# --- words ---------------------------------------------------------------------------------


def _post(ctx: Context, vote_session: VoteSession) -> Reply:
    """The session's public message: roll, agenda, the live item and its votes; controls."""
    lines = [_head(ctx, vote_session)]
    roll = _roll(ctx, vote_session)
    here = [mention(m) for m, arrived in roll if arrived is not None]
    away = [mention(m) for m, arrived in roll if arrived is None]
    nobody = ctx.t("session.nobody")
    lines.append(
        ctx.t("session.present", count=len(here), members=ctx.listing(here) if here else nobody)
    )
    if away:
        lines.append(ctx.t("session.absent", members=ctx.listing(away)))
    lines.append(ctx.t("session.agenda"))
    live: Proposal | None = None
    for item, proposal in _items(ctx, vote_session):
        lines.append(_item_line(ctx, item, proposal, ended=vote_session.state == CLOSED))
        if item.state == LIVE:
            live = proposal
    if live is not None:
        lines.append(_live_lines(ctx, vote_session, live))
    if vote_session.state == CLOSED and vote_session.closed_at is not None:
        key = "session.closed_timeout" if vote_session.timed_out else "session.closed_line"
        lines.append(ctx.t(key, closed=ctx.when(vote_session.closed_at)))
    else:
        limit = vote_session.due_at or ctx.now
        lines.append(ctx.t("session.limit", limit=ctx.when(limit)))
    reply = Reply("\n".join(lines), Visibility.PUBLIC, key=message_key(vote_session))
    if vote_session.state == OPEN:
        reply.buttons = _controls(ctx, vote_session, live)
    return reply


def _update(ctx: Context, vote_session: VoteSession) -> Reply:
    post = _post(ctx, vote_session)
    post.key, post.updates, post.revision = None, message_key(vote_session), ctx.last_seq
    return post


def _head(ctx: Context, vote_session: VoteSession) -> str:
    chair = ctx.session.get(Member, vote_session.chair_id)
    return ctx.t(
        "session.head",
        number=vote_session.number,
        body=_body(ctx, vote_session).slug,
        chair=mention(chair) if chair else "?",
    )


def _item_line(ctx: Context, item: SessionItem, proposal: Proposal, *, ended: bool) -> str:
    params = {"position": item.position, "number": proposal.number, "title": proposal.title}
    if item.state == LIVE:
        until = item.due_at or ctx.now
        return ctx.t("session.item_live", until=ctx.when(until), **params)
    if item.state == PENDING and not ended:
        return ctx.t("session.item_pending", **params)
    if item.state in (PENDING, SKIPPED):
        return ctx.t("session.item_skipped", state=_state(ctx, proposal), **params)
    return ctx.t("session.item_done", state=_outcome(ctx, proposal), **params)


def _state(ctx: Context, proposal: Proposal) -> str:
    """Say where a proposal the session did not take stands: open, withdrawn, or its outcome."""
    if proposal.state == proposals.OPEN:
        return ctx.t("proposal.state.open")
    return _outcome(ctx, proposal)


def _outcome(ctx: Context, proposal: Proposal) -> str:
    if proposal.state == proposals.OPEN:
        return ctx.t("session.still_open", closes=ctx.when(proposal.closes_at))
    if proposal.state == proposals.WITHDRAWN:
        return ctx.t("proposal.state.withdrawn")
    return ctx.t(f"outcome.{proposal.outcome or 'failed'}")


def _live_lines(ctx: Context, vote_session: VoteSession, proposal: Proposal) -> str:
    """The live item: who of those present voted (a count only on a secret ballot), the tally."""
    present = _voters_present(ctx, vote_session, proposal)
    voted = _voted(ctx, proposal) & present
    method = ctx.t(f"method.{proposal.method}")
    lines = [ctx.t("session.now", number=proposal.number, title=proposal.title, method=method)]
    if proposal.secret or not voted:
        lines.append(ctx.t("session.voted", count=len(voted), present=len(present)))
    else:
        names = ctx.listing(_names(ctx, voted))
        lines.append(
            ctx.t("session.voted_named", count=len(voted), present=len(present), members=names)
        )
    if not proposal.hide_results and proposal.ballots:
        counts = proposals.counts_text(
            ctx, proposals.rules_of(proposal), json.loads(proposal.counts)
        )
        lines.append(ctx.t("proposal.tally", counts=counts))
    return "\n".join(lines)


def _controls(ctx: Context, vote_session: VoteSession, live: Proposal | None) -> list[Button]:
    """Present and the live item's ballot buttons, for everyone."""
    suffix = f"session:{vote_session.number}"
    buttons = [Button(ctx.t("session.button.present"), f"session present {suffix}", "secondary")]
    if live is not None:
        ballot = proposals.proposal_post(ctx, live)
        buttons += ballot.buttons or [Button(ctx.t("vote.submit"), f"vote cast {live.number}")]
    return buttons


def _chair_panel(ctx: Context, vote_session: VoteSession) -> Reply:
    """The chair's own controls, in a message only they see: take the next item, or close."""
    suffix = f"session:{vote_session.number}"
    reply = ctx.private("session.chair_panel", number=vote_session.number)
    reply.buttons = [
        Button(ctx.t("session.button.next"), f"session next {suffix}", "secondary"),
        Button(ctx.t("session.button.close"), f"session close {suffix}", "danger"),
    ]
    return reply


def minutes(ctx: Context, vote_session: VoteSession) -> str:
    """Write the session's minutes as Markdown: roll, each item's result, the closing hash."""
    body = _body(ctx, vote_session)
    chair = ctx.session.get(Member, vote_session.chair_id)
    lines = [
        "# " + ctx.t("minutes.session_head", number=vote_session.number, body=body.slug),
        "",
        f"- {ctx.t('minutes.body')}: {body.slug} ({ctx.title(body)})",
        f"- {ctx.t('minutes.chair')}: {mention(chair) if chair else '?'}",
        f"- {ctx.t('minutes.opened')}: {ctx.when(vote_session.opened_at)}",
    ]
    if vote_session.closed_at is not None:
        lines.append(f"- {ctx.t('minutes.closed')}: {ctx.when(vote_session.closed_at)}")
    else:
        lines.append(f"- {ctx.t('minutes.in_progress')}")
    if vote_session.timed_out:
        limit = ctx.duration(f"{int(SESSION_LIMIT.total_seconds() // 3600)}h")
        lines.append(f"- {ctx.t('minutes.timed_out', limit=limit)}")
    window = ctx.duration(vote_session.window)
    lines.append(f"- {ctx.t('minutes.window', window=window)}")
    absent_rule = (
        "minutes.absent_votes_yes" if vote_session.absent_votes else "minutes.absent_votes_no"
    )
    lines += [f"- {ctx.t(absent_rule)}", "", "## " + ctx.t("minutes.roll"), ""]
    items = _items(ctx, vote_session)
    first_item = min((i.opened_at for i, _ in items if i.opened_at is not None), default=None)
    here, away = [], []
    for member, arrived in _roll(ctx, vote_session):
        if arrived is None:
            away.append(mention(member))
            continue
        late = first_item is not None and arrived > first_item
        key = "minutes.arrived_late" if late else "minutes.arrived"
        here.append(ctx.t(key, member=mention(member), time=ctx.clock(arrived)))
    none = ctx.t("minutes.none")
    lines.append(f"- {ctx.t('minutes.present')}: {ctx.listing(here) if here else none}")
    lines.append(f"- {ctx.t('minutes.absent')}: {ctx.listing(away) if away else none}")
    lines += ["", "## " + ctx.t("minutes.items"), ""]
    for item, proposal in items:
        lines += _item_minutes(ctx, item, proposal)
    lines += ["## " + ctx.t("minutes.audit"), ""]
    if vote_session.closing_hash:
        lines.append(f"- {ctx.t('minutes.closing_hash')}: `{vote_session.closing_hash}`")
    else:
        lines.append(f"- {ctx.t('minutes.not_closed')}")
    lines.append("")
    return "\n".join(lines)


def _item_minutes(ctx: Context, item: SessionItem, proposal: Proposal) -> list[str]:
    head = ctx.t("proposal.head", number=proposal.number, title=proposal.title)
    lines = [f"### {item.position}. {head}", ""]
    lines.append(f"- {ctx.t('minutes.method')}: {ctx.t('method.' + proposal.method)}")
    recused = _recused(ctx, proposal)
    if recused:
        shown = ctx.listing(
            ctx.t("minutes.recused_one", member=name, why=ctx.t(f"minutes.why.{why}"))
            for name, why in recused
        )
        lines.append(f"- {ctx.t('minutes.recused')}: {shown}")
    if item.state in (PENDING, SKIPPED):
        lines += [f"- {ctx.t('minutes.not_taken', state=_state(ctx, proposal))}", ""]
        return lines
    if item.opened_at is not None:
        end = item.ended_at or item.due_at or ctx.now
        lines.append(f"- {ctx.t('minutes.voting')}: {ctx.span(item.opened_at, end)}")
    record = _decision_record(ctx, proposal)
    if record is None:
        lines += [f"- {ctx.t('minutes.outcome')}: {_outcome(ctx, proposal)}", ""]
        return lines
    rules = proposals.rules_of(proposal)
    lines.append(f"- {ctx.t('minutes.outcome')}: {ctx.t('outcome.' + record['outcome'])}")
    if record["counts"]:
        counts = proposals.counts_text(ctx, rules, record["counts"])
        lines.append(f"- {ctx.t('minutes.tally')}: {counts}")
    lines.append(
        "- "
        + ctx.t(
            "minutes.ballots",
            ballots=record["ballots"],
            electorate=record["electorate_size"],
        )
    )
    if record["quorum_required"]:
        key = "minutes.quorum_met" if record["quorum_met"] else "minutes.quorum_missed"
        lines.append(f"- {ctx.t(key, required=record['quorum_required'])}")
    for given in record["reasons"]:
        choice = proposals.choice_word(ctx, given["choice"])
        reason = " ".join(str(given["reason"]).split())[: proposals.REASON_SHOWN]
        if "member" in given:  # an open ballot; a secret one's reasons carry no name
            said = ctx.t(
                "minutes.reason_named", member=given["member"], choice=choice, reason=reason
            )
        else:
            said = ctx.t("minutes.reason", choice=choice, reason=reason)
        lines.append(f"- {said}")
    lines.append("")
    return lines


def _id(row: Any) -> int:
    assert row.id is not None
    return int(row.id)
