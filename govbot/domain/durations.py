"""Durations and times as members type them: `90m`, `36h`, `7d`, `2w`, `6mo`, `1y`, `1y6mo`."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

_PART = re.compile(r"(\d{1,6})(mo|m|h|d|w|y)")
_DURATION = re.compile(rf"^(?:{_PART.pattern})+$")
_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}
_MONTHS = {"mo": 1, "y": 12}

# Nothing a community governs needs more: longer spans are typing mistakes, and far-off
# moments overflow the calendar once shifted into a time zone.
MAX_YEARS = 100
_MAX_MONTHS = 12 * MAX_YEARS
_REFERENCE = datetime(2000, 1, 1, tzinfo=UTC)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Duration:
    """A span of time: calendar months (years are twelve) plus fixed minutes."""

    months: int = 0
    minutes: int = 0
    # As the member wrote it (`90d`, not `12w6d`), for showing it back.
    label: str = field(default="", compare=False)

    def __str__(self) -> str:
        if self.label:
            return self.label
        parts = []
        years, months = divmod(self.months, 12)
        parts += [f"{years}y"] if years else []
        parts += [f"{months}mo"] if months else []
        rest = self.minutes
        for unit in ("w", "d", "h", "m"):
            amount, rest = divmod(rest, _MINUTES[unit])
            parts += [f"{amount}{unit}"] if amount else []
        return "".join(parts) or "0m"

    def after(self, start: datetime) -> datetime:
        """Return the moment this duration after `start`: calendar months first, then minutes."""
        return add_months(start, self.months) + timedelta(minutes=self.minutes)

    def before(self, end: datetime) -> datetime:
        """Return the moment this duration before `end`: calendar months first, then minutes."""
        return add_months(end, -self.months) - timedelta(minutes=self.minutes)


def parse_duration(text: str) -> Duration | None:
    """Read a duration such as `7d`, `6mo` or `1y6mo`; None when it is not one or too long."""
    cleaned = text.strip().lower()
    if not _DURATION.match(cleaned):
        return None
    months = minutes = 0
    for amount, unit in _PART.findall(cleaned):
        if unit in _MONTHS:
            months += int(amount) * _MONTHS[unit]
        else:
            minutes += int(amount) * _MINUTES[unit]
    if months == minutes == 0 or months > _MAX_MONTHS or minutes > _MAX_MONTHS * 31 * 1440:
        return None
    duration = Duration(months, minutes, cleaned)
    if duration.after(_REFERENCE) > add_months(_REFERENCE, _MAX_MONTHS):
        return None
    return duration


def add_months(start: datetime, months: int) -> datetime:
    """Add calendar months, clamping the day to the target month's length."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def parse_time(text: str, now: datetime, zone: tzinfo = UTC) -> datetime | None:
    """Read a time: ISO 8601 with a zone, a bare date or time in `zone`, or a duration from now.

    Returns the moment in UTC, or None when the text is none of these or lies outside
    1970 to a hundred years from now.
    """
    duration = parse_duration(text)
    if duration is not None:
        return duration.after(now)
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    latest = add_months(now, _MAX_MONTHS)
    return moment if EARLIEST <= moment <= latest else None
