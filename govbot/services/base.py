"""What every use case is given: the caller, the community, the session, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, or_, select

from govbot.domain.durations import Duration
from govbot.i18n import translate
from govbot.replies import Reply, Visibility
from govbot.storage import audit
from govbot.storage.models import Body, Community, Member, Membership


@dataclass(frozen=True)
class Caller:
    """Who typed a command, where, and whether the platform calls them an admin."""

    platform: str
    community_id: str  # the guild or workspace id
    user_id: str
    display_name: str
    is_admin: bool = False
    channel: str | None = None


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


@dataclass
class Context:
    """One use case's world: the open transaction, the community, the acting member, now."""

    session: Session
    community: Community
    actor: Member
    caller: Caller
    now: datetime

    @property
    def community_id(self) -> int:
        """Return the community's row id."""
        assert self.community.id is not None
        return self.community.id

    def t(self, key: str, **params: Any) -> str:
        """Translate a message into the community's language."""
        return translate(self.community.language, key, **params)

    def when(self, moment: datetime) -> str:
        """Show a moment in the community's time zone, naming the zone."""
        local = moment.astimezone(ZoneInfo(self.community.timezone))
        return f"{local:%Y-%m-%d %H:%M} ({self.community.timezone})"

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
    ) -> None:
        """Record this change in the community's audit chain, in this transaction."""
        audit.append(
            self.session,
            self.community_id,
            actor=actor or actor_label(self.actor),
            action=action,
            subject_kind=subject_kind,
            subject_id=subject_id,
            data=data,
            at=self.now,
        )

    def member(self, ref: MemberRef) -> Member:
        """Find the member a command names, recording them on first sight."""
        return member_for(self.session, self.community_id, ref.user_id, ref.display_name, self.now)

    def body(self, slug: str) -> Body:
        """Find a body by slug, or refuse naming it."""
        body = self.session.exec(
            select(Body).where(Body.community_id == self.community_id, Body.slug == slug)
        ).first()
        if body is None:
            raise Refusal("error.unknown_body", field="body", body=slug)
        return body

    def seats(self, body: Body, member: Member | None = None) -> list[Membership]:
        """Return the terms on a body that grant a seat now (of one member, if given)."""
        query = select(Membership).where(
            Membership.body_id == body.id,
            col(Membership.start) <= self.now,
            or_(col(Membership.end).is_(None), col(Membership.end) > self.now),
        )
        if member is not None:
            query = query.where(Membership.member_id == member.id)
        return list(self.session.exec(query.order_by(col(Membership.start), col(Membership.id))))

    def sits_on(self, slug: str, member: Member) -> bool:
        """Say whether a member holds a seat on the body with this slug now."""
        body = self.session.exec(
            select(Body).where(Body.community_id == self.community_id, Body.slug == slug)
        ).first()
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


def member_for(
    session: Session, community_id: int, user_id: str, display_name: str | None, now: datetime
) -> Member:
    """Find or record a platform user in a community, keeping their display name fresh."""
    member = session.exec(
        select(Member).where(
            Member.community_id == community_id, Member.platform_user_id == user_id
        )
    ).first()
    if member is None:
        member = Member(
            community_id=community_id,
            platform_user_id=user_id,
            display_name=display_name or user_id,
            created_at=now,
        )
        session.add(member)
        session.flush()
    elif display_name and member.display_name != display_name:
        member.display_name = display_name
        session.add(member)
    return member


def mention(member: Member) -> str:
    """Show a member by name; no platform ever turns this into a ping."""
    return f"@{member.display_name}"


def channel_link(channel_id: str) -> str:
    """Show a channel as the neutral `<#id>` token each front end renders."""
    return f"<#{channel_id}>"


class Handler(Protocol):
    """A use case as the command table calls it."""

    def __call__(self, ctx: Context, args: Args, /) -> list[Reply]: ...
