"""Bodies and terms: the default bodies, who is seated when, and the rotating chair."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,31}$")


class BodyKind(StrEnum):
    """The kinds of body GOVERNANCE.md section 1 names."""

    COMMITTEE = "committee"
    TSC = "tsc"
    QUALITY = "quality"
    MODERATORS = "moderators"
    OPERATIONS = "operations"
    MEDIATORS = "mediators"
    CUSTOM = "custom"


class Role(StrEnum):
    """A seat on a body."""

    MEMBER = "member"
    CHAIR = "chair"


@dataclass(frozen=True)
class DefaultBody:
    """One body that `setup init` creates."""

    slug: str
    kind: BodyKind
    is_open: bool
    rotating_chair: bool
    term: str | None  # default term length (or chair period when rotating)


DEFAULT_BODIES: tuple[DefaultBody, ...] = (
    DefaultBody("committee", BodyKind.COMMITTEE, False, False, None),
    DefaultBody("tsc", BodyKind.TSC, False, False, None),
    DefaultBody("quality", BodyKind.QUALITY, True, True, "90d"),
    DefaultBody("moderators", BodyKind.MODERATORS, False, False, None),
    DefaultBody("operations", BodyKind.OPERATIONS, True, False, None),
    DefaultBody("mediators", BodyKind.MEDIATORS, False, False, None),
)


def is_valid_slug(text: str) -> bool:
    """Say whether text can name a body: lowercase, 2 to 32 characters, starts with a letter."""
    return SLUG.match(text) is not None


def term_is_active(start: datetime, end: datetime | None, now: datetime) -> bool:
    """Say whether a term grants its seat at `now` (the end moment itself no longer does)."""
    return start <= now and (end is None or now < end)


@dataclass(frozen=True)
class Seat:
    """A member's current seat, as the rotation sees it."""

    member_id: int
    since: datetime  # start of the member's continuous membership (seniority)
    is_chair: bool


def next_rotating_chair(seats: Sequence[Seat]) -> int | None:
    """Pick who holds the chair next: the member after the current chair by seniority, cyclic."""
    if not seats:
        return None
    ordered = sorted(seats, key=lambda s: (s.since, s.member_id))
    for index, seat in enumerate(ordered):
        if seat.is_chair:
            return ordered[(index + 1) % len(ordered)].member_id
    return ordered[0].member_id
