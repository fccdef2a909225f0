"""What every use case is given: the caller, the community, the session, the clock."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, or_, select

from govbot.domain.durations import Duration, parse_duration
from govbot.i18n import LANGUAGES, catalog, for_platform, translate
from govbot.replies import Reply, Visibility
from govbot.storage import audit, rows
from govbot.storage.models import Body, Community, Member, Membership
from govbot.storage.types import UTCDateTime


@dataclass(frozen=True)
class Caller:
    """Who typed a command, where, and whether the platform calls them an admin."""

    platform: str
    community_id: str  # the guild or workspace id
    user_id: str
    display_name: str
    is_admin: bool = False
    channel: str | None = None
    # How many members the server or workspace has, where the platform says (a community
    # electorate's size for quorum); None: unknown, count the members govbot has seen.
    member_count: int | None = None


@dataclass(frozen=True)
class MemberRef:
    """A member as a command names them: platform user id, and a name when known."""

    user_id: str
    display_name: str | None = None


@dataclass(frozen=True)
class ChannelRef:
    """A channel as a command names it."""

    channel_id: str


class Refusal(Exception):
    """A command refused for a reason the caller can fix; nothing is written."""

    def __init__(self, key: str, /, *, field: str | None = None, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.field = field
        self.params = params
        self.language: str | None = None  # the community's, once the runner knows it

    def message(self, language: str, platform: str) -> str:
        """Put the refusal into words for the caller."""
        return for_platform(translate(language, self.key, **self.params), platform, language)


@dataclass
class Args:
    """The parsed arguments of one command, by parameter name."""

    values: dict[str, Any] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        """Say whether the caller gave this argument."""
        return name in self.values

    def text(self, name: str, default: str | None = None) -> str | None:
        """Return a text argument."""
        value = self.values.get(name, default)
        return None if value is None else str(value)

    def member(self, name: str) -> MemberRef:
        """Return a required member argument."""
        value = self.values[name]
        assert isinstance(value, MemberRef)
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """Return a yes/no argument."""
        return bool(self.values.get(name, default))

    def moment(self, name: str) -> datetime | None:
        """Return a time argument, already resolved against the clock."""
        value = self.values.get(name)
        assert value is None or isinstance(value, datetime)
        return value

    def duration(self, name: str) -> Duration | None:
        """Return a duration argument."""
        value = self.values.get(name)
        assert value is None or isinstance(value, Duration)
        return value


class SeatRow(NamedTuple):
    """One current seat as a listing shows it."""

    member_id: int
    display_name: str
    role: str
    end: datetime | None


@dataclass
class Context:
    """One use case's world: the open transaction, the community, the acting member, now."""

    session: Session
    community: Community
    actor: Member
    caller: Caller
    now: datetime
    _bodies: dict[str, Body] = field(default_factory=dict, repr=False)
    last_seq: int = 0  # the sequence number of the last audit entry this use case wrote

    @property
    def zone(self) -> ZoneInfo:
        """Return the community's time zone."""
        return ZoneInfo(self.community.timezone)

    @property
    def community_id(self) -> int:
        """Return the community's row id."""
        assert self.community.id is not None
        return self.community.id

    def t(self, key: str, **params: Any) -> str:
        """Translate a message into the community's language, for the caller's platform."""
        language = self.community.language
        return for_platform(translate(language, key, **params), self.caller.platform, language)

    def when(self, moment: datetime) -> str:
        """Show a moment in the community's time zone, naming the zone."""
        return self.t("time.at", time=self.clock(moment), zone=self.community.timezone)

    def clock(self, moment: datetime) -> str:
        """Show a moment in the community's time zone without naming it (UTC if out of range)."""
        try:
            local = moment.astimezone(self.zone)
        except (OverflowError, ValueError):
            local = moment
        return f"{local:%Y-%m-%d %H:%M}"

    def span(self, start: datetime, end: datetime) -> str:
        """Show a time range in the community's zone, naming the zone once."""
        return self.t(
            "time.span", start=self.clock(start), end=self.clock(end), zone=self.community.timezone
        )

    def duration(self, duration: Duration | str) -> str:
        """Show a duration in words of the community's language: `90 days`, `1 年 6 个月`."""
        parsed = parse_duration(duration) if isinstance(duration, str) else duration
        if parsed is None:
            return str(duration)
        words = []
        for amount, unit in _DURATION_PART.findall(str(parsed)):
            plural = "one" if amount == "1" else "many"
            words.append(self.t(f"unit.{unit}.{plural}", n=amount))
        return " ".join(words)

    def listing(self, items: Iterable[str]) -> str:
        """Join names the way the community's language lists them (`a, b` or `a、b`)."""
        return self.t("list.separator").join(items)

    def yes_no(self, value: bool) -> str:
        """Show a yes/no value in the community's language."""
        return self.t("value.yes" if value else "value.no")

    def title(self, body: Body) -> str:
        """Show a body's title; a default body's default title follows the current language."""
        key = f"body.title.{body.slug}"
        if body.kind != "custom" and any(
            body.title == catalog(language).get(key) for language in LANGUAGES
        ):
            return self.t(key)
        return body.title

    def private(self, key: str, **params: Any) -> Reply:
        """Build a reply only the caller sees."""
        return Reply(self.t(key, **params), Visibility.PRIVATE)

    def audit(
        self,
        action: str,
        subject_kind: str,
        subject_id: str | int,
        data: dict[str, Any],
        *,
        actor: str | None = None,
    ) -> str:
        """Record this change in the audit chain, in this transaction; return the entry's hash."""
        entry = audit.append(
            self.session,
            self.community_id,
            actor=actor or actor_label(self.actor),
            action=action,
            subject_kind=subject_kind,
            subject_id=subject_id,
            data=data,
            at=self.now,
        )
        self.last_seq = entry.seq
        return entry.entry_hash()

    def member(self, ref: MemberRef) -> Member:
        """Find the member a command names, recording them on first sight."""
        return member_for(self.session, self.community_id, ref.user_id, ref.display_name, self.now)

    def find_body(self, slug: str) -> Body | None:
        """Find a body by slug (once per command), or None."""
        if slug not in self._bodies:
            params = {"community": self.community_id, "slug": slug}
            row = _BODY.first(self.session, params)
            if row is None:
                return None
            self._bodies[slug] = rows.load_row(self.session, Body, row)
        return self._bodies[slug]

    def body(self, slug: str) -> Body:
        """Find a body by slug, or refuse naming it and the nearest slug there is."""
        body = self.find_body(slug)
        if body is not None:
            return body
        slugs = self.session.exec(
            select(Body.slug).where(Body.community_id == self.community_id)
        ).all()
        near = difflib.get_close_matches(slug, list(slugs), n=1, cutoff=0.6)
        if near:
            raise Refusal("error.unknown_body_near", field="body", body=slug, near=near[0])
        raise Refusal("error.unknown_body", field="body", body=slug)

    def seats(self, body: Body, member: Member | None = None) -> list[Membership]:
        """Return the terms on a body that grant a seat now, chairs first (of one member)."""
        params: dict[str, Any] = {"body": body.id, "now": self.now}
        if member is not None:
            # A member's own seats are one or two rows: Core, without the ORM's query layer.
            found = _SEATS_OF.rows(self.session, {**params, "member": member.id})
            return [_term(self.session, row) for row in found]
        return list(self.session.exec(_SEATS, params=params))

    def seat_rows(self, body: Body, limit: int) -> list[SeatRow]:
        """Return up to `limit` current seats as rows to show, chairs first."""
        params = {"body": body.id, "now": self.now, "limit": limit}
        return [SeatRow(*row) for row in _SEAT_ROWS.rows(self.session, params)]

    def seat_count(self, body: Body) -> int:
        """Count the seats on a body now, without loading them."""
        found = _SEAT_COUNT.rows(self.session, {"body": body.id, "now": self.now})
        return int(found[0][0])

    def seniority(self, body: Body) -> list[tuple[int, datetime, bool]]:
        """Return each current seat as (member id, seniority, is chair), without loading terms."""
        found = _SENIORITY.rows(self.session, {"body": body.id, "now": self.now})
        return [(int(row[0]), row[1], row[2] == "chair") for row in found]

    def chairs(self, body: Body) -> list[Membership]:
        """Return the body's current chair seats (one, as a rule)."""
        found = _CHAIRS.rows(self.session, {"body": body.id, "now": self.now})
        return [_term(self.session, row) for row in found]

    def sits_on(self, slug: str, member: Member) -> bool:
        """Say whether a member holds a seat on the body with this slug now."""
        body = self.find_body(slug)
        return body is not None and bool(self.seats(body, member))

    def is_manager(self) -> bool:
        """Say whether the caller manages every body: a platform admin or a committee member."""
        return self.caller.is_admin or self.sits_on("committee", self.actor)

    def require_manager(self) -> None:
        """Refuse unless the caller is a platform admin or a committee member."""
        if not self.is_manager():
            raise Refusal("error.permission_admin")


def actor_label(member: Member) -> str:
    """Name a member in the audit chain by row id (names can be redacted, ids stay)."""
    return f"member:{member.id}"


# Built once, on the tables: Core statements skip the ORM's query layer on every command's
# path; `rows.load` turns their rows into the objects use cases work with.
_MEMBERS = rows.table(Member)
_BODIES = rows.table(Body)
_TERMS = rows.table(Membership)
_MEMBER = rows.Prepared(
    sa_select(_MEMBERS).where(
        _MEMBERS.c.community_id == bindparam("community"),
        _MEMBERS.c.platform_user_id == bindparam("user"),
    )
)
_ADD_MEMBER = rows.Prepared(
    insert(_MEMBERS)
    .values({key: bindparam(key) for key in ("community_id", "platform_user_id", "display_name")})
    .values(created_at=bindparam("created_at"))
    .returning(_MEMBERS.c.id)
)
_BODY = rows.Prepared(
    sa_select(_BODIES).where(
        _BODIES.c.community_id == bindparam("community"), _BODIES.c.slug == bindparam("slug")
    )
)
# Ended terms are recorded (`end_recorded`), so the index on (body, end_recorded) reads only
# current and future-ending terms, however long the history.
_CURRENT = (
    _TERMS.c.body_id == bindparam("body"),
    _TERMS.c.end_recorded.is_(False),
    _TERMS.c.start <= bindparam("now"),
    or_(_TERMS.c.end.is_(None), _TERMS.c.end > bindparam("now")),
)
_SEAT_ORDER = (_TERMS.c.role, _TERMS.c.start, _TERMS.c.id)
_SEATS = (
    select(Membership)
    .where(
        Membership.body_id == bindparam("body"),
        col(Membership.end_recorded).is_(False),
        col(Membership.start) <= bindparam("now"),
        or_(col(Membership.end).is_(None), col(Membership.end) > bindparam("now")),
    )
    .order_by(col(Membership.role), col(Membership.start), col(Membership.id))
)
_CURRENT_TERMS = sa_select(_TERMS).where(*_CURRENT).order_by(*_SEAT_ORDER)
# SQLite is told to read current terms through (body, end_recorded, member): left to itself
# it may walk a member's whole history on the body, or every open term in the database.
_OPEN_TERMS = "ix_membership_body_open"
_SEATS_OF = rows.Prepared(
    rows.sqlite_index(
        _CURRENT_TERMS.where(_TERMS.c.member_id == bindparam("member")), _TERMS, _OPEN_TERMS
    )
)
_CHAIRS = rows.Prepared(
    rows.sqlite_index(_CURRENT_TERMS.where(_TERMS.c.role == "chair"), _TERMS, _OPEN_TERMS)
)
# What a listing shows of each current seat, as plain rows (no ORM objects to build).
_SEAT_ROWS = rows.prepared_sqlite_index(
    sa_select(_TERMS.c.member_id, _MEMBERS.c.display_name, _TERMS.c.role, _TERMS.c.end)
    .join(_MEMBERS, _MEMBERS.c.id == _TERMS.c.member_id)
    .where(*_CURRENT)
    .order_by(*_SEAT_ORDER)
    .limit(bindparam("limit")),
    _TERMS,
    _OPEN_TERMS,
)
# Seniority is the term's own, or its start: rotating a chair reads one row per seat.
_SENIORITY = rows.prepared_sqlite_index(
    sa_select(
        _TERMS.c.member_id,
        func.coalesce(_TERMS.c.seniority, _TERMS.c.start, type_=UTCDateTime()),
        _TERMS.c.role,
    ).where(*_CURRENT),
    _TERMS,
    _OPEN_TERMS,
)
_SEAT_COUNT = rows.prepared_sqlite_index(
    sa_select(func.count()).select_from(_TERMS).where(*_CURRENT), _TERMS, _OPEN_TERMS
)


def find_member(session: Session, community_id: int, user_id: str) -> Member | None:
    """Find a platform user already recorded in a community."""
    row = _MEMBER.first(session, {"community": community_id, "user": user_id})
    return None if row is None else rows.load_row(session, Member, row)


def _term(session: Session, row: tuple[Any, ...]) -> Membership:
    return rows.load_row(session, Membership, row)


def member_for(
    session: Session, community_id: int, user_id: str, display_name: str | None, now: datetime
) -> Member:
    """Find or record a platform user in a community, keeping their display name fresh."""
    member = find_member(session, community_id, user_id)
    if member is None:
        return add_member(session, community_id, user_id, display_name, now)
    name = clean_name(display_name or user_id)
    if display_name and member.display_name != name:
        member.display_name = name
        session.add(member)
    return member


def add_member(
    session: Session, community_id: int, user_id: str, display_name: str | None, now: datetime
) -> Member:
    """Record a platform user not yet known in a community."""
    values = {
        "community_id": community_id,
        "platform_user_id": user_id,
        "display_name": clean_name(display_name or user_id),
        "created_at": now,
    }
    # One prepared insert rather than an ORM flush: every newcomer's first command pays it.
    row = _ADD_MEMBER.first(session, values)
    assert row is not None
    return rows.load(session, Member, {**values, "id": row[0]})


def clean_name(name: str) -> str:
    """Make a platform display name storable alike on every database: printable, bounded."""
    printable = "".join(ch if ch.isprintable() else " " for ch in name).strip()
    return printable[:NAME_LENGTH] or "?"


def mention(member: Member) -> str:
    """Show a member by name; no platform ever turns this into a ping."""
    return f"@{member.display_name}"


def channel_link(channel_id: str) -> str:
    """Show a channel as the neutral `<#id>` token each front end renders."""
    return f"<#{channel_id}>"


_DURATION_PART = re.compile(r"(\d+)(mo|m|h|d|w|y)")
NAME_LENGTH = 100  # the member and body title columns' length


class Handler(Protocol):
    """A use case as the command table calls it."""

    def __call__(self, ctx: Context, args: Args, /) -> list[Reply]: ...
