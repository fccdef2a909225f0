"""Terms and the rotating chair, as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from govbot.domain.bodies import Seat, is_valid_slug, next_rotating_chair, term_is_active

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_term_grants_its_seat_until_the_moment_it_ends() -> None:
    end = T0 + timedelta(days=30)
    assert term_is_active(T0, end, T0)
    assert term_is_active(T0, end, end - timedelta(seconds=1))
    assert not term_is_active(T0, end, end)
    assert not term_is_active(T0, None, T0 - timedelta(seconds=1))


def test_the_rotating_chair_passes_to_the_next_member_by_seniority() -> None:
    seats = [
        Seat(3, T0 + timedelta(days=2), False),
        Seat(1, T0, True),
        Seat(2, T0 + timedelta(days=1), False),
    ]
    assert next_rotating_chair(seats) == 2


def test_the_rotating_chair_wraps_around_to_the_most_senior() -> None:
    seats = [Seat(1, T0, False), Seat(2, T0 + timedelta(days=1), True)]
    assert next_rotating_chair(seats) == 1


def test_an_empty_chair_goes_to_the_most_senior_member() -> None:
    assert next_rotating_chair([Seat(5, T0 + timedelta(1), False), Seat(9, T0, False)]) == 9
    assert next_rotating_chair([]) is None


def test_slugs_are_short_lowercase_names() -> None:
    assert is_valid_slug("docs-wg")
    assert not is_valid_slug("Docs")
    assert not is_valid_slug("x")
    assert not is_valid_slug("1abc")
