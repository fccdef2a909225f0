"""The tables. Every row belongs to one community; nothing crosses communities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from govbot.storage.types import UTCDateTime


def _utc(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Community(SQLModel, table=True):
    """A Discord guild or a Slack workspace, with its settings."""

    __tablename__ = "community"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(sa_column=Column(String(16), nullable=False))
    external_id: str = Field(sa_column=Column(String(64), nullable=False))
    language: str = Field(default="en", sa_column=Column(String(16), nullable=False))
    timezone: str = Field(default="UTC", sa_column=Column(String(64), nullable=False))
    announce_channel: str | None = Field(default=None, sa_column=Column(String(64)))
    moderation_channel: str | None = Field(default=None, sa_column=Column(String(64)))
    disputes_channel: str | None = Field(default=None, sa_column=Column(String(64)))
    level1_days: int = Field(default=7)
    level2_days: int = Field(default=14)
    public_dispute_counts: bool = Field(default=False)
    leaderboard: bool = Field(default=True)
    # A weekly line in the announce channel with the chain head, so members hold anchors.
    weekly_anchor: bool = Field(default=True)
    # How long before a proposal closes its eligible non-voters are reminded ("" = never).
    remind_before: str = Field(default="1d", sa_column=Column(String(16), nullable=False))
    # The head last announced that way, and when the next weekly line is due.
    anchored_seq: int = Field(default=0)
    anchor_due_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    initialized_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    created_at: datetime = Field(sa_column=_utc())


class AuditHead(SQLModel, table=True):
    """A community's chain head: the last sequence number and hash, locked by writers."""

    __tablename__ = "audit_head"

    community_id: int = Field(foreign_key="community.id", primary_key=True)
    seq: int = Field(default=0)
    hash: str = Field(sa_column=Column(String(64), nullable=False))


class AuditEntry(SQLModel, table=True):
    """One append-only entry of a community's hash chain."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        UniqueConstraint("community_id", "seq"),
        # `audit log <kind> <id>` reads one subject's newest entries without a scan.
        Index("ix_audit_entry_subject", "community_id", "subject_kind", "subject_id", "seq"),
        # `audit log member @x` also reads what that member did.
        Index("ix_audit_entry_actor", "community_id", "actor", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    seq: int
    at: datetime = Field(sa_column=_utc())
    actor: str = Field(sa_column=Column(String(64), nullable=False))
    action: str = Field(sa_column=Column(String(64), nullable=False))
    subject_kind: str = Field(sa_column=Column(String(32), nullable=False))
    subject_id: str = Field(sa_column=Column(String(64), nullable=False))
    data_digest: str = Field(sa_column=Column(String(64), nullable=False))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))


class Member(SQLModel, table=True):
    """A platform user as seen in one community."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("community_id", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    platform_user_id: str = Field(sa_column=Column(String(64), nullable=False))
    display_name: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(sa_column=_utc())


class Body(SQLModel, table=True):
    """A deciding body: the committee, the TSC, a custom working group..."""

    __tablename__ = "body"
    __table_args__ = (UniqueConstraint("community_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    slug: str = Field(sa_column=Column(String(32), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    title: str = Field(sa_column=Column(String(100), nullable=False))
    is_open: bool = Field(default=False)
    rotating_chair: bool = Field(default=False)
    term: str | None = Field(default=None, sa_column=Column(String(16)))
    chair_rotates_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    # A proposal's author sits out its vote on this body.
    author_recused: bool = Field(default=False)
    # Members may delegate their vote on this body's proposals to another member.
    delegation: bool = Field(default=False)
    # Vote sessions: how long an item stays open for votes in the meeting, and whether
    # members not present may still vote on it until the proposal's own close.
    session_window: str = Field(default="10m", sa_column=Column(String(16), nullable=False))
    absent_votes: bool = Field(default=False)
    created_at: datetime = Field(sa_column=_utc())


class Membership(SQLModel, table=True):
    """One term of a member on a body; ended terms are kept as history."""

    __tablename__ = "membership"
    __table_args__ = (
        Index("ix_membership_body_end", "body_id", "end"),
        Index("ix_membership_member", "member_id"),
        # Current seats: ended terms are recorded, so the unrecorded ones stay few per body.
        Index("ix_membership_body_open", "body_id", "end_recorded", "member_id"),
        # The timer's due terms and the pending count, without reading past terms.
        Index("ix_membership_due", "end_recorded", "end"),
        # One member's history on one body (seniority).
        Index("ix_membership_body_member", "body_id", "member_id", "start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    body_id: int = Field(foreign_key="body.id")
    member_id: int = Field(foreign_key="member.id")
    role: str = Field(sa_column=Column(String(16), nullable=False))
    start: datetime = Field(sa_column=_utc())
    end: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    # False while an `end` lies ahead: the timer audits the term's end once, then sets it.
    end_recorded: bool = Field(default=False)
    # When the member's unbroken membership of the body began, carried over from the term
    # this one continues (a role change, a renewal); None: this term's own start.
    seniority: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class Delivery(SQLModel, table=True):
    """A platform delivery already handled (interaction id, Slack event id): one effect each."""

    __tablename__ = "delivery"

    key: str = Field(sa_column=Column(String(200), primary_key=True))
    created_at: datetime = Field(sa_column=_utc(index=True))


class InboxCommand(SQLModel, table=True):
    """A platform command acknowledged before it ran: durable until a worker has run it once.

    A worker claims a row by setting `lease_until` (a dead worker's lease runs out and another
    takes it over); the command's own delivery key makes a second run a no-op.
    """

    __tablename__ = "inbox_command"
    __table_args__ = (Index("ix_inbox_command_pending", "done", "lease_until"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    platform: str = Field(sa_column=Column(String(16), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    done: bool = Field(default=False)
    attempts: int = Field(default=0)
    received_at: datetime = Field(sa_column=_utc())
    lease_until: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class BotState(SQLModel, table=True):
    """Small facts the bot keeps about itself, such as the hash of synced commands."""

    __tablename__ = "bot_state"

    key: str = Field(sa_column=Column(String(100), primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=_utc())


class SlackInstallation(SQLModel, table=True):
    """The Slack app as installed in one workspace or org by one installer (OAuth mode).

    Empty strings, not NULLs, stand for an absent enterprise or team id, so that the
    unique key holds on every database. Tokens stay out of repr, and so out of logs.
    """

    __tablename__ = "slack_installation"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: str = Field(default="", sa_column=Column(String(64), nullable=False))
    team_id: str = Field(default="", sa_column=Column(String(64), nullable=False))
    user_id: str = Field(sa_column=Column(String(64), nullable=False))
    app_id: str | None = Field(default=None, sa_column=Column(String(64)))
    enterprise_name: str | None = Field(default=None, sa_column=Column(String(200)))
    enterprise_url: str | None = Field(default=None, sa_column=Column(String(300)))
    team_name: str | None = Field(default=None, sa_column=Column(String(200)))
    is_enterprise_install: bool = Field(default=False)
    token_type: str | None = Field(default=None, sa_column=Column(String(16)))
    bot_token: str | None = Field(default=None, sa_column=Column(Text), repr=False)
    bot_id: str | None = Field(default=None, sa_column=Column(String(64)))
    bot_user_id: str | None = Field(default=None, sa_column=Column(String(64)))
    bot_scopes: str = Field(default="", sa_column=Column(Text, nullable=False))
    bot_refresh_token: str | None = Field(default=None, sa_column=Column(Text), repr=False)
    bot_token_expires_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    user_token: str | None = Field(default=None, sa_column=Column(Text), repr=False)
    user_scopes: str = Field(default="", sa_column=Column(Text, nullable=False))
    user_refresh_token: str | None = Field(default=None, sa_column=Column(Text), repr=False)
    user_token_expires_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    incoming_webhook_url: str | None = Field(default=None, sa_column=Column(Text), repr=False)
    incoming_webhook_channel: str | None = Field(default=None, sa_column=Column(String(100)))
    incoming_webhook_channel_id: str | None = Field(default=None, sa_column=Column(String(64)))
    incoming_webhook_configuration_url: str | None = Field(
        default=None, sa_column=Column(Text), repr=False
    )
    installed_at: datetime = Field(sa_column=_utc())


class SlackOAuthState(SQLModel, table=True):
    """A state value handed to an installer's browser; valid once, for a few minutes."""

    __tablename__ = "slack_oauth_state"

    state: str = Field(sa_column=Column(String(64), primary_key=True))
    created_at: datetime = Field(sa_column=_utc(index=True))


class Proposal(SQLModel, table=True):
    """A question put to an electorate (one body, or the whole community) by one method."""

    __tablename__ = "proposal"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        # The timer's due closings and reminders, without reading closed proposals.
        Index("ix_proposal_due", "state", "due_at"),
        Index("ix_proposal_remind", "state", "remind_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    number: int  # the id members see and type, counted per community
    title: str = Field(sa_column=Column(String(200), nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, sa_column=Column(String(500)))
    author_id: int = Field(foreign_key="member.id")
    body_id: int | None = Field(default=None, foreign_key="body.id")  # None: the community
    method: str = Field(sa_column=Column(String(16), nullable=False))
    options: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    threshold: str | None = Field(default=None, sa_column=Column(String(16)))
    quorum: str | None = Field(default=None, sa_column=Column(String(16)))
    seats: int = Field(default=1)
    secret: bool = Field(default=False)
    hide_results: bool = Field(default=False)
    tie_rule: str = Field(sa_column=Column(String(16), nullable=False))
    electorate_size: int = Field(default=0)
    # Live counts per choice (JSON), kept with each ballot so showing them never recounts.
    counts: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    ballots: int = Field(default=0)
    state: str = Field(sa_column=Column(String(16), nullable=False))  # open|closed|withdrawn
    opened_at: datetime = Field(sa_column=_utc())
    closes_at: datetime = Field(sa_column=_utc())
    # When the timer next looks at it: the close, or a sign-off comment period's end.
    due_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    remind_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    comment_period_ends: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    outcome: str | None = Field(default=None, sa_column=Column(String(16)))
    # Secret ballots: the key receipts are derived from, erased at close so that afterwards
    # nothing in the database links a voter to a choice.
    ballot_key: str | None = Field(default=None, sa_column=Column(String(64)), repr=False)
    # How many of the ballots a delegate cast for a member who has not voted in person.
    delegated: int = Field(default=0)
    # A ratification: the passed proposal of another body this one was forwarded from.
    ratifies_id: int | None = Field(default=None, foreign_key="proposal.id")


class Eligible(SQLModel, table=True):
    """A member of a body's electorate as it stood when the proposal opened."""

    __tablename__ = "eligible"

    proposal_id: int = Field(foreign_key="proposal.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    recused: str | None = Field(default=None, sa_column=Column(String(32)))  # why, if so


class Voter(SQLModel, table=True):
    """That a member has voted on a proposal (never what: a secret choice lives apart)."""

    __tablename__ = "voter"

    proposal_id: int = Field(foreign_key="proposal.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)


class Ballot(SQLModel, table=True):
    """A voter's current choice.

    An open ballot's slot is `m<member id>` and names its member; a secret one's slot is the
    voter's receipt code and names nobody. No row id or time: storage order links nothing.
    """

    __tablename__ = "ballot"
    __table_args__ = {"sqlite_with_rowid": False}

    proposal_id: int = Field(foreign_key="proposal.id", primary_key=True)
    slot: str = Field(sa_column=Column(String(40), primary_key=True))
    member_id: int | None = Field(default=None, foreign_key="member.id")
    choice: str = Field(sa_column=Column(Text, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    # Cast by the voter's delegate; a ballot the voter casts in person replaces it, never
    # the other way round. Cleared when a secret ballot closes.
    delegated: bool = Field(default=False)


class Delegation(SQLModel, table=True):
    """A member's standing delegation of their vote on one body's proposals."""

    __tablename__ = "delegation"

    body_id: int = Field(foreign_key="body.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    delegate_id: int = Field(foreign_key="member.id", index=True)
    since: datetime = Field(sa_column=_utc())


class Concern(SQLModel, table=True):
    """A concern raised on a sign-off proposal; it blocks until withdrawn."""

    __tablename__ = "concern"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id")
    number: int  # counted per proposal
    member_id: int = Field(foreign_key="member.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    raised_at: datetime = Field(sa_column=_utc())
    withdrawn_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class Decision(SQLModel, table=True):
    """A decision record: written once at close, never edited; a correction points back."""

    __tablename__ = "decision"
    __table_args__ = (Index("ix_decision_community", "community_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    proposal_id: int = Field(foreign_key="proposal.id")
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    record: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    closing_hash: str = Field(sa_column=Column(String(64), nullable=False))
    corrects_id: int | None = Field(default=None, foreign_key="decision.id")
    decided_at: datetime = Field(sa_column=_utc())


class PostedMessage(SQLModel, table=True):
    """A public message a front end posted under a key, so later updates edit it in place."""

    __tablename__ = "posted_message"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    key: str = Field(sa_column=Column(String(64), nullable=False))
    channel: str = Field(sa_column=Column(String(64), nullable=False))
    message: str = Field(sa_column=Column(String(64), nullable=False))


class VoteSession(SQLModel, table=True):
    """A body's meeting: a roll, an agenda of proposals taken one by one, and its minutes."""

    __tablename__ = "vote_session"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        # The timer's sessions left open too long, without reading closed ones.
        Index("ix_vote_session_due", "state", "due_at"),
        Index("ix_vote_session_body", "body_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    number: int  # the id members see, counted per community
    body_id: int = Field(foreign_key="body.id")
    chair_id: int = Field(foreign_key="member.id")  # who opened it
    state: str = Field(sa_column=Column(String(16), nullable=False))  # open|closed
    # The body's settings when the session opened: a change later does not alter a meeting.
    window: str = Field(sa_column=Column(String(16), nullable=False))
    absent_votes: bool = Field(default=False)
    opened_at: datetime = Field(sa_column=_utc())
    # When a session left open closes by itself; cleared at close.
    due_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    timed_out: bool = Field(default=False)
    closing_hash: str | None = Field(default=None, sa_column=Column(String(64)))
    # The minutes (Markdown) as written at close, never edited afterwards.
    minutes: str | None = Field(default=None, sa_column=Column(Text))


class SessionItem(SQLModel, table=True):
    """One proposal on a session's agenda: waiting, live (open for votes), or done."""

    __tablename__ = "session_item"
    __table_args__ = (
        UniqueConstraint("session_id", "position"),
        # The timer's live windows that ended, and a ballot's look-up of its proposal's item.
        Index("ix_session_item_due", "state", "due_at"),
        Index("ix_session_item_proposal", "proposal_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="vote_session.id")
    position: int  # 1, 2, ... in agenda order
    proposal_id: int = Field(foreign_key="proposal.id")
    state: str = Field(sa_column=Column(String(16), nullable=False))  # pending|live|done|skipped
    opened_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    # The end of the live window while live; cleared when the item ends.
    due_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class SessionAttendee(SQLModel, table=True):
    """A seat on the session's roll: the body's members when it opened, and when each arrived."""

    __tablename__ = "session_attendee"

    session_id: int = Field(foreign_key="vote_session.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    arrived_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
