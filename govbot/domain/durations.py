"""Durations and times as members type them: `90m`, `36h`, `7d`, `2w`, `6mo`, `1y`."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^(\d{1,6})(mo|m|h|d|w|y)$")


@dataclass(frozen=True)
class Duration:
    """A span of time; months and years are calendar units, the rest fixed."""

    amount: int
    unit: str  # one of m, h, d, w, mo, y

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def after(self, start: datetime) -> datetime:
        """Return the moment this duration after `start`."""
        if self.unit == "mo":
            return add_months(start, self.amount)
        if self.unit == "y":
            return add_months(start, 12 * self.amount)
        minutes = {"m": 1, "h": 60, "d": 1440, "w": 10080}[self.unit]
        return start + timedelta(minutes=minutes * self.amount)


def parse_duration(text: str) -> Duration | None:
    """Read a duration such as `7d` or `6mo`; None when it is not one."""
    match = _DURATION.match(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        return None
    return Duration(int(match.group(1)), match.group(2))


def add_months(start: datetime, months: int) -> datetime:
    """Add calendar months, clamping the day to the target month's length."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def parse_time(text: str, now: datetime) -> datetime | None:
    """Read an ISO 8601 time with a zone, or a duration from `now`; None when neither."""
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
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)
