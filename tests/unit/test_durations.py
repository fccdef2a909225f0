"""Durations and times as members type them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from govbot.domain.durations import add_months, parse_duration, parse_time

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", datetime(2026, 1, 31, 13, 30, tzinfo=UTC)),
        ("36h", datetime(2026, 2, 2, 0, 0, tzinfo=UTC)),
        ("7d", datetime(2026, 2, 7, 12, 0, tzinfo=UTC)),
        ("2w", datetime(2026, 2, 14, 12, 0, tzinfo=UTC)),
        ("1mo", datetime(2026, 2, 28, 12, 0, tzinfo=UTC)),
        ("6mo", datetime(2026, 7, 31, 12, 0, tzinfo=UTC)),
        ("1y", datetime(2027, 1, 31, 12, 0, tzinfo=UTC)),
    ],
)
def test_each_duration_unit_moves_the_clock_as_a_person_expects(
    text: str, expected: datetime
) -> None:
    duration = parse_duration(text)
    assert duration is not None
    assert duration.after(NOW) == expected


def test_a_month_after_january_31st_of_a_leap_year_is_february_29th() -> None:
    assert add_months(datetime(2028, 1, 31, tzinfo=UTC), 1) == datetime(2028, 2, 29, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["", "7", "d7", "0d", "3x", "-1d", "1.5h", "7 d", "101y", "999999w", "1y-2mo"]
)
def test_things_that_are_not_durations_or_are_too_long_are_refused(text: str) -> None:
    assert parse_duration(text) is None


def test_combined_durations_add_up_and_keep_the_words_typed() -> None:
    duration = parse_duration("1y6MO")
    assert duration is not None
    assert duration.after(NOW) == datetime(2027, 7, 31, 12, 0, tzinfo=UTC)
    assert str(duration) == "1y6mo"
    assert parse_duration("100y") is not None


def test_times_without_a_zone_are_read_in_the_given_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_time("2026-12-01T17:00Z", NOW) == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert parse_time("2026-12-01T17:00+08:00", NOW) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert parse_time("2026-12-01T17:00", NOW, berlin) == datetime(2026, 12, 1, 16, tzinfo=UTC)
    assert parse_time("2027-01-31", NOW, berlin) == datetime(2027, 1, 30, 23, tzinfo=UTC)
    assert parse_time("soon", NOW) is None


@pytest.mark.parametrize(
    "text", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2200-01-01", "1900-01-01Z"]
)
def test_times_outside_a_sane_range_are_refused_not_crashed_on(text: str) -> None:
    assert parse_time(text, NOW) is None


def test_a_duration_is_a_time_from_now() -> None:
    assert parse_time("2w", NOW) == parse_duration("14d").after(NOW)  # type: ignore[union-attr]
