"""Bodies and their members: create, add, remove, join, leave, list, show, term."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import and_, col, func, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from govbot.domain.bodies import (
    BodyKind,
    Role,
    Seat,
    is_valid_slug,
    next_rotating_chair,
    term_is_active,
)
from govbot.domain.durations import Duration, parse_duration
from govbot.replies import Button, Reply, Visibility
from govbot.services.base import Args, Context, Refusal, SeatRow, mention
from govbot.storage.db import Store
from govbot.storage.models import Body, Community, Member, Membership
from govbot.storage.types import UTCDateTime

SUGGESTIONS = 25  # Discord shows at most 25 autocomplete choices
# A vote session item's live window: a meeting is hours long, not days.
LONGEST_WINDOW = timedelta(days=1)


def create_body(ctx: Context, args: Args) -> list[Reply]:
    """Create a custom body."""
    ctx.require_manager()
    slug = args.text("name") or ""
    if not is_valid_slug(slug):
        raise Refusal("error.bad_slug", field="name", slug=slug)
    exists = ctx.session.exec(
        select(Body).where(Body.community_id == ctx.community_id, Body.slug == slug)
    ).first()
    if exists is not None:
        raise Refusal("error.body_exists", field="name", body=slug)
    body = Body(
        community_id=ctx.community_id,
        slug=slug,
        kind=BodyKind.CUSTOM.value,
        title=args.text("title") or slug,
        is_open=args.flag("open"),
        created_at=ctx.now,
    )
    ctx.session.add(body)
    ctx.session.flush()
    assert body.id is not None
    ctx.audit(
        "body.created",
        "body",
        body.id,
        {"slug": slug, "kind": body.kind, "title": body.title, "open": body.is_open},
    )
    return [Reply(ctx.t("body.created", body=slug, title=ctx.title(body)), Visibility.PUBLIC)]


def add_member(ctx: Context, args: Args) -> list[Reply]:
    """Seat a member on a body, as member or chair, for a term."""
    body = ctx.body(args.text("body") or "")
    _require_body_manager(ctx, body)
    member = ctx.member(args.member("member"))
    role = Role(args.text("role") or Role.MEMBER.value)
    until = args.moment("until")
    if until is not None and until <= ctx.now:
        raise Refusal("error.until_past", field="until")
    if until is None and body.term and not body.rotating_chair:
        until = _term(body).after(ctx.now)
    current = ctx.seats(body, member)
    if any(m.role == role.value and _same_end(m.end, until) for m in current):
        raise Refusal("error.already_seated", body=body.slug, member=mention(member))
    for seat in current:
        _end(ctx, seat)
    replaced = _demote_chairs(ctx, body, keep=member) if role is Role.CHAIR else []
    role = _first_role(ctx, body) if role is Role.MEMBER and not current else role
    _seat(ctx, body, member, role, until, since=ctx.now)
    if role is Role.CHAIR and body.rotating_chair:
        body.chair_rotates_at = _term(body).after(ctx.now)
        ctx.session.add(body)
    else:
        _fill_rotating_chair(ctx, body)
    key = "body.added_until" if until else "body.added"
    text = ctx.t(
        key,
        member=mention(member),
        body=body.slug,
        role=ctx.t(f"role.{role.value}"),
        until=ctx.when(until) if until else "",
    )
    if replaced:
        names = ctx.listing(mention(m) for m in replaced)
        text += ctx.t("text.sentence_gap") + ctx.t("body.chair_replaces", previous=names)
    return [Reply(text, Visibility.PUBLIC)]


# A seat asked for again within this much of the same end is the same seat: `until:6mo`
# typed twice a few seconds (or minutes) apart means one term, not two.
SAME_END = timedelta(hours=1)


def set_body(ctx: Context, args: Args) -> list[Reply]:
    """Change how a body votes (its chair or a manager); with no values, show them."""
    body = ctx.body(args.text("body") or "")
    wanted: dict[str, Any] = {key: args.flag(key) for key in BODY_FLAGS if args.has(key)}
    window = args.duration("window")
    if window is not None:
        if window.after(ctx.now) - ctx.now > LONGEST_WINDOW:
            raise Refusal("error.body.bad_window", field="window")
        wanted["session_window"] = str(window)
    if not wanted:
        shown = {key: ctx.yes_no(getattr(body, key)) for key in BODY_FLAGS}
        window_shown = ctx.duration(body.session_window)
        return [ctx.private("body.settings", body=body.slug, window=window_shown, **shown)]
    _require_body_manager(ctx, body)
    changes = {key: value for key, value in wanted.items() if getattr(body, key) != value}
    if not changes:
        return [ctx.private("setup.unchanged")]
    for key, value in changes.items():
        setattr(body, key, value)
    ctx.session.add(body)
    ctx.audit("body.settings_changed", "body", body.id or 0, changes)
    lines = [
        ctx.t(
            f"body.{key}_changed",
            body=body.slug,
            value=ctx.duration(value) if key == "session_window" else ctx.yes_no(value),
        )
        for key, value in changes.items()
    ]
    return [Reply("\n".join(lines), Visibility.PUBLIC)]


# The yes/no settings `body set` changes, each with its own `body.<key>_changed` line (the
# session window, a duration, has `body.session_window_changed`).
BODY_FLAGS = (
    "author_recused",
    "delegation",
    "absent_votes",
)


def _same_end(current: datetime | None, wanted: datetime | None) -> bool:
    if current is None or wanted is None:
        return current is wanted
    return abs(current - wanted) < SAME_END


def remove_member(ctx: Context, args: Args) -> list[Reply]:
    """End a member's seat on a body now."""
    body = ctx.body(args.text("body") or "")
    _require_body_manager(ctx, body)
    member = ctx.member(args.member("member"))
    return _unseat(ctx, body, member, "body.removed")


def join_body(ctx: Context, args: Args) -> list[Reply]:
    """Join an open body as a member."""
    body = ctx.body(args.text("body") or "")
    if not body.is_open:
        raise Refusal("error.body_closed", body=body.slug)
    if ctx.seats(body, ctx.actor):
        raise Refusal("error.already_member", body=body.slug)
    until = _term(body).after(ctx.now) if body.term and not body.rotating_chair else None
    _seat(ctx, body, ctx.actor, _first_role(ctx, body), until, since=ctx.now)
    _fill_rotating_chair(ctx, body)
    return [
        Reply(ctx.t("body.joined", member=mention(ctx.actor), body=body.slug), Visibility.PUBLIC)
    ]


def leave_body(ctx: Context, args: Args) -> list[Reply]:
    """Leave a body (resigning is always allowed, open body or not)."""
    body = ctx.body(args.text("body") or "")
    return _unseat(ctx, body, ctx.actor, "body.left")


_CURRENT_IN_COMMUNITY = and_(
    col(Body.community_id) == bindparam("community"),
    col(Membership.end_recorded).is_(False),
    col(Membership.start) <= bindparam("now"),
    or_(col(Membership.end).is_(None), col(Membership.end) > bindparam("now")),
)
_SEAT_COUNTS = (
    select(Membership.body_id, func.count())
    .join(Body, col(Body.id) == col(Membership.body_id))
    .where(_CURRENT_IN_COMMUNITY)
    .group_by(col(Membership.body_id))
)
_CHAIR_NAMES = (
    select(Membership.body_id, Member.display_name)
    .join(Body, col(Body.id) == col(Membership.body_id))
    .join(Member, col(Member.id) == col(Membership.member_id))
    .where(_CURRENT_IN_COMMUNITY, Membership.role == Role.CHAIR.value)
)


def list_bodies(ctx: Context, args: Args) -> list[Reply]:
    """List the community's bodies with their size and chair."""
    bodies = ctx.session.exec(
        select(Body).where(Body.community_id == ctx.community_id).order_by(col(Body.id))
    ).all()
    if not bodies:
        return [ctx.private("body.none")]
    # Two grouped queries for every body at once, however many members they have.
    params = {"community": ctx.community_id, "now": ctx.now}
    counts: dict[int, int] = dict(ctx.session.exec(_SEAT_COUNTS, params=params).all())
    chairs: dict[int, str] = dict(ctx.session.exec(_CHAIR_NAMES, params=params).all())
    lines = [ctx.t("body.list_head")]
    for body in bodies:
        assert body.id is not None
        count = counts.get(body.id, 0)
        chair = chairs.get(body.id)
        lines.append(
            ctx.t(
                "body.list_line",
                body=body.slug,
                title=ctx.title(body),
                members=ctx.t(
                    "body.members_one" if count == 1 else "body.members_many", count=count
                ),
                open=ctx.t("body.open") if body.is_open else ctx.t("body.closed"),
                chair=ctx.t("body.chaired_by", chair=f"@{chair}")
                if chair
                else ctx.t("body.no_chair"),
            )
        )
    return [Reply("\n".join(lines), Visibility.PRIVATE)]


def show_body(ctx: Context, args: Args) -> list[Reply]:
    """Show a body's members, terms and chair; past terms with `history:yes`."""
    body = ctx.body(args.text("body") or "")
    # A large open body lists its first seats (chairs first) and says how many more there are.
    seats = ctx.seat_rows(body, SHOWN_SEATS)
    lines = [
        ctx.t(
            "body.show_head",
            body=body.slug,
            title=ctx.title(body),
            kind=body.kind,
            open=ctx.t("body.open") if body.is_open else ctx.t("body.closed"),
        )
    ]
    if body.term:
        key = "body.show_rotation" if body.rotating_chair else "body.show_term"
        lines.append(ctx.t(key, term=ctx.duration(body.term)))
    if body.rotating_chair and body.chair_rotates_at:
        lines.append(ctx.t("body.show_next_rotation", when=ctx.when(body.chair_rotates_at)))
    if not seats:
        lines.append(ctx.t("body.show_empty"))
    for seat in seats:
        lines.append(_seat_line(ctx, seat))
    if len(seats) == SHOWN_SEATS and (total := ctx.seat_count(body)) > SHOWN_SEATS:
        lines.append(ctx.t("body.show_more_members", count=total - SHOWN_SEATS))
    buttons = []
    if args.flag("history"):
        page = max(1, int(args.values.get("page", 1)))
        lines += _history(ctx, body, page)
        if _has_more_history(ctx, body, page):
            more = f"body show {body.slug} history:yes page:{page + 1}"
            buttons.append(Button(ctx.t("body.history_more"), more, style="secondary"))
    if body.is_open and not _sits_among(ctx, body, seats):
        buttons.append(Button(ctx.t("body.join_button"), f"body join {body.slug}"))
    return [Reply("\n".join(lines), Visibility.PRIVATE, buttons=buttons)]


HISTORY_PAGE = 20  # past terms per page of `body show ... history:yes`
SHOWN_SEATS = 50  # current seats `body show` lists before saying how many more


def _history(ctx: Context, body: Body, page: int) -> list[str]:
    """Render one page of a body's past terms, newest first."""
    past = ctx.session.exec(
        _past_terms(ctx, body).offset((page - 1) * HISTORY_PAGE).limit(HISTORY_PAGE)
    ).all()
    if not past:
        return [ctx.t("body.history_empty" if page == 1 else "body.history_no_more")]
    members = _members(ctx, past)
    lines = [ctx.t("body.history_head", page=page)]
    for term in past:
        assert term.end is not None
        lines.append(
            ctx.t(
                "body.history_line",
                member=mention(members[term.member_id]),
                role=ctx.t(f"role.{term.role}"),
                span=ctx.span(term.start, term.end),
            )
        )
    return lines


def _has_more_history(ctx: Context, body: Body, page: int) -> bool:
    following = _past_terms(ctx, body).offset(page * HISTORY_PAGE).limit(1)
    return ctx.session.exec(following).first() is not None


def _past_terms(ctx: Context, body: Body) -> SelectOfScalar[Membership]:
    return (
        select(Membership)
        .where(Membership.body_id == body.id, col(Membership.end) <= ctx.now)
        .order_by(col(Membership.end).desc(), col(Membership.id).desc())
    )


def set_term(ctx: Context, args: Args) -> list[Reply]:
    """Set a body's term length (for a rotating chair: the chair period)."""
    body = ctx.body(args.text("body") or "")
    _require_body_manager(ctx, body)
    length = args.duration("length")
    assert length is not None
    if body.term is not None and parse_duration(body.term) == length:
        raise Refusal("error.term_unchanged", body=body.slug, term=ctx.duration(body.term))
    body.term = str(length)
    if body.rotating_chair and body.chair_rotates_at is not None:
        body.chair_rotates_at = length.after(ctx.now)
    ctx.session.add(body)
    ctx.audit("body.term_set", "body", body.id or 0, {"term": body.term})
    key = "body.rotation_set" if body.rotating_chair else "body.term_set"
    return [Reply(ctx.t(key, body=body.slug, term=ctx.duration(length)), Visibility.PUBLIC)]


def rotate_chair(ctx: Context, body: Body) -> Member | None:
    """Pass a rotating chair to the next member by seniority; return the new chair."""
    seats = ctx.seniority(body)
    chosen = next_rotating_chair([Seat(member, since, chair) for member, since, chair in seats])
    if chosen is None:
        body.chair_rotates_at = None
        ctx.session.add(body)
        return None
    body.chair_rotates_at = _term(body).after(ctx.now)
    ctx.session.add(body)
    if any(member == chosen and chair for member, _, chair in seats):
        return None  # the only candidate already holds it
    member = ctx.session.get(Member, chosen)
    assert member is not None
    _demote_chairs(ctx, body, keep=member)
    for seat in ctx.seats(body, member):
        if seat.role != Role.CHAIR.value:
            term_end = seat.end
            _end(ctx, seat, actor="system")
            _seat(ctx, body, member, Role.CHAIR, term_end, since=ctx.now, actor="system")
    return member


def pass_rotating_chair(ctx: Context, body: Body) -> list[Reply]:
    """Rotate a body's chair now, record it, and announce the new chair (if it changed)."""
    successor = rotate_chair(ctx, body)
    if successor is None:
        return []
    ctx.audit("body.chair_rotated", "body", body.id or 0, {"chair": successor.id}, actor="system")
    text = ctx.t("body.chair_rotated", body=body.slug, member=mention(successor))
    return [Reply(text, Visibility.PUBLIC)]


def _require_body_manager(ctx: Context, body: Body) -> None:
    if ctx.is_manager():
        return
    if any(m.role == Role.CHAIR.value for m in ctx.seats(body, ctx.actor)):
        return
    raise Refusal("error.permission_body", body=body.slug)


def _term(body: Body) -> Duration:
    duration = parse_duration(body.term or "90d")
    assert duration is not None
    return duration


# Core statements, built once: seating and unseating are on every membership command's path,
# and the ORM's unit of work costs more than the database does here.
_INSERT_SEAT = insert(Membership.__table__).returning(Membership.__table__.c.id)  # type: ignore[attr-defined]
_TERMS = Membership.__table__  # type: ignore[attr-defined]
_CONTINUED = (
    select(func.coalesce(_TERMS.c.seniority, _TERMS.c.start, type_=UTCDateTime()))
    .where(
        _TERMS.c.body_id == bindparam("body"),
        _TERMS.c.member_id == bindparam("member"),
        _TERMS.c.start < bindparam("since"),
        or_(_TERMS.c.end.is_(None), _TERMS.c.end >= bindparam("since")),
    )
    .order_by(_TERMS.c.start.desc())
    .limit(1)
)
_END_SEAT = (
    update(Membership.__table__)  # type: ignore[attr-defined]
    .where(Membership.__table__.c.id == bindparam("seat"))  # type: ignore[attr-defined]
    .values(end=bindparam("end"), end_recorded=True)
)


def _seat(
    ctx: Context,
    body: Body,
    member: Member,
    role: Role,
    until: datetime | None,
    *,
    since: datetime,
    actor: str | None = None,
) -> int:
    assert body.id is not None and member.id is not None
    values = {"body_id": body.id, "member_id": member.id, "role": role.value}
    # A term that continues one ending as it starts (a role change) keeps its seniority.
    continued = ctx.session.execute(
        _CONTINUED, {"body": body.id, "member": member.id, "since": since}
    ).first()
    seniority = None if continued is None else continued[0]
    seat = {"start": since, "end": until, "end_recorded": False, "seniority": seniority}
    seat_id = ctx.session.execute(_INSERT_SEAT, [{**values, **seat}]).scalar_one()
    ctx.audit(
        "membership.started",
        "membership",
        seat_id,
        {"body": body.slug, "member": member.id, "role": role.value, "start": since, "end": until},
        actor=actor,
    )
    return int(seat_id)


def _end(ctx: Context, seat: Membership, *, actor: str | None = None) -> None:
    ctx.session.execute(_END_SEAT, {"seat": seat.id, "end": ctx.now})
    # Keep the loaded row in step without making it dirty (the update above wrote it).
    set_committed_value(seat, "end", ctx.now)
    set_committed_value(seat, "end_recorded", True)
    ctx.audit("membership.ended", "membership", seat.id or 0, {"end": ctx.now}, actor=actor)


def _demote_chairs(ctx: Context, body: Body, *, keep: Member) -> list[Member]:
    """Turn every other current chair of the body into a plain member; return them."""
    demoted = []
    for seat in ctx.chairs(body):
        if seat.member_id != keep.id:
            other = ctx.session.get(Member, seat.member_id)
            assert other is not None
            term_end = seat.end
            _end(ctx, seat, actor="system")
            _seat(ctx, body, other, Role.MEMBER, term_end, since=ctx.now, actor="system")
            demoted.append(other)
    return demoted


def _unseat(ctx: Context, body: Body, member: Member, key: str) -> list[Reply]:
    seats = ctx.seats(body, member)
    if not seats:
        raise Refusal("error.not_member", member=mention(member), body=body.slug)
    was_chair = any(s.role == Role.CHAIR.value for s in seats)
    for seat in seats:
        _end(ctx, seat)
    replies = [Reply(ctx.t(key, member=mention(member), body=body.slug), Visibility.PUBLIC)]
    if was_chair and body.rotating_chair:
        replies += pass_rotating_chair(ctx, body)
    return replies


def _first_role(ctx: Context, body: Body) -> Role:
    """Seat the first member of an empty rotating-chair body as its chair straight away.

    Seating them as a member and promoting them in the same instant would leave a
    zero-length member term in the history.
    """
    if body.rotating_chair and ctx.seat_count(body) == 0:
        body.chair_rotates_at = _term(body).after(ctx.now)
        ctx.session.add(body)
        return Role.CHAIR
    return Role.MEMBER


def _fill_rotating_chair(ctx: Context, body: Body) -> None:
    """Give an empty rotating chair to the most senior member."""
    if not body.rotating_chair:
        return
    if not ctx.chairs(body) and ctx.seat_count(body):
        rotate_chair(ctx, body)


_MEMBERS = select(Member).where(col(Member.id).in_(bindparam("ids", expanding=True)))


def _members(ctx: Context, seats: Sequence[Membership]) -> dict[int, Member]:
    ids = sorted({s.member_id for s in seats})
    if not ids:
        return {}
    rows = ctx.session.exec(_MEMBERS, params={"ids": ids}).all()
    return {m.id: m for m in rows if m.id is not None}


def _sits_among(ctx: Context, body: Body, shown: list[SeatRow]) -> bool:
    """Say whether the caller holds a seat, asking the database only past the listed seats."""
    if len(shown) < SHOWN_SEATS:
        return any(seat.member_id == ctx.actor.id for seat in shown)
    return ctx.actor.id is not None and bool(ctx.seats(body, ctx.actor))


def _seat_line(ctx: Context, seat: SeatRow) -> str:
    role, member = ctx.t(f"role.{seat.role}"), f"@{seat.display_name}"
    if seat.end is None:
        return ctx.t("body.seat_line", member=member, role=role)
    return ctx.t("body.seat_line_until", member=member, role=role, until=ctx.when(seat.end))


def member_overview(ctx: Context, args: Args) -> list[Reply]:
    """Summarise the caller's current seats and terms (for a home tab or a DM)."""
    rows = ctx.session.exec(
        select(Membership, Body)
        .join(Body, col(Body.id) == col(Membership.body_id))
        .where(Membership.member_id == ctx.actor.id, col(Membership.start) <= ctx.now)
        .order_by(col(Body.slug))
    ).all()
    seats = [(seat, body) for seat, body in rows if term_is_active(seat.start, seat.end, ctx.now)]
    if not seats:
        return [ctx.private("body.overview_none")]
    lines = [ctx.t("body.overview_head")]
    for seat, body in seats:
        role = ctx.t(f"role.{seat.role}")
        if seat.end is None:
            lines.append(ctx.t("body.overview_line", body=body.slug, role=role))
        else:
            lines.append(
                ctx.t(
                    "body.overview_line_until", body=body.slug, role=role, until=ctx.when(seat.end)
                )
            )
    return [Reply("\n".join(lines), Visibility.PRIVATE)]


def body_slugs(
    store: Store, platform: str, external_id: str, typed: str = ""
) -> list[tuple[str, str]]:
    """Suggest a community's bodies as (slug, title) whose slug or title contains `typed`."""
    wanted = typed.strip().lower()
    with store.reading() as conn:
        rows = conn.execute(
            select(Body.slug, Body.title)
            .join(Community, col(Community.id) == col(Body.community_id))
            .where(Community.platform == platform, Community.external_id == external_id)
            .order_by(col(Body.slug))
        ).all()
    found = [(slug, title) for slug, title in rows if wanted in slug or wanted in title.lower()]
    return found[:SUGGESTIONS]
