"""Ranked methods against published worked examples, and properties every tally must keep.

The Schulze cases are the worked examples published with the method (by Markus Schulze, in
the Schulze method articles): ballots, the pairwise matrix d, the strongest paths p and the
ranking. The instant-runoff case is the usual Tennessee capital example.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from itertools import combinations, combinations_with_replacement, pairwise, permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govbot.domain.voting import (
    YES_NO,
    Choice,
    Method,
    Outcome,
    Quorum,
    Result,
    Rules,
    draw_lot,
    pairwise_preferences,
    settled,
    strongest_paths,
    tally,
)

Ballots = list[tuple[int, str]]  # (how many voters, their ranking as option letters)


def rank(letters: str, ballots: Ballots) -> list[Choice]:
    """Expand counted ballots such as (5, "ACBED") into one ranking per voter."""
    choices: list[Choice] = []
    for voters, order in ballots:
        choices += [tuple(letters.index(letter) for letter in order)] * voters
    return choices


def matrix(result: dict[str, dict[str, int]], letters: str) -> list[list[int | None]]:
    """Lay a result's d or p out as the published tables: rows from, columns to."""
    return [[None if a == b else result[a][b] for b in letters] for a in letters]


# Schulze: published worked examples

EXAMPLE_1: Ballots = [
    (5, "ACBED"),
    (5, "ADECB"),
    (8, "BEDAC"),
    (3, "CABED"),
    (7, "CAEBD"),
    (2, "CBADE"),
    (7, "DCEBA"),
    (8, "EBADC"),
]
EXAMPLE_1_D = [
    [None, 20, 26, 30, 22],
    [25, None, 16, 33, 18],
    [19, 29, None, 17, 24],
    [15, 12, 28, None, 14],
    [23, 27, 21, 31, None],
]
EXAMPLE_1_P = [
    [None, 28, 28, 30, 24],
    [25, None, 28, 33, 24],
    [25, 29, None, 29, 24],
    [25, 28, 28, None, 24],
    [25, 28, 28, 31, None],
]

EXAMPLE_2: Ballots = [
    (5, "ACBD"),
    (2, "ACDB"),
    (3, "ADCB"),
    (4, "BACD"),
    (3, "CBDA"),
    (3, "CDBA"),
    (1, "DACB"),
    (5, "DBAC"),
    (4, "DCBA"),
]
EXAMPLE_2_D = [
    [None, 11, 20, 14],
    [19, None, 9, 12],
    [10, 21, None, 17],
    [16, 18, 13, None],
]
EXAMPLE_2_P = [
    [None, 20, 20, 17],
    [19, None, 19, 17],
    [19, 21, None, 17],
    [18, 18, 18, None],
]

EXAMPLE_3: Ballots = [
    (3, "ABDEC"),
    (5, "ADEBC"),
    (1, "ADECB"),
    (2, "BADEC"),
    (2, "BDECA"),
    (4, "CABDE"),
    (6, "CBADE"),
    (2, "DBECA"),
    (5, "DECAB"),
]
EXAMPLE_3_D = [
    [None, 18, 11, 21, 21],
    [12, None, 14, 17, 19],
    [19, 16, None, 10, 10],
    [9, 13, 20, None, 30],
    [9, 11, 20, 0, None],
]
EXAMPLE_3_P = [
    [None, 18, 20, 21, 21],
    [19, None, 19, 19, 19],
    [19, 18, None, 19, 19],
    [19, 18, 20, None, 30],
    [19, 18, 20, 19, None],
]

EXAMPLE_4: Ballots = [(3, "ABCD"), (2, "DABC"), (2, "DBCA"), (2, "CBDA")]
EXAMPLE_4_D = [
    [None, 5, 5, 3],
    [4, None, 7, 5],
    [4, 2, None, 5],
    [6, 4, 4, None],
]
EXAMPLE_4_P = [
    [None, 5, 5, 5],
    [5, None, 7, 5],
    [5, 5, None, 5],
    [6, 5, 5, None],
]


@pytest.mark.parametrize(
    ("letters", "ballots", "d", "p", "ranking"),
    [
        ("ABCDE", EXAMPLE_1, EXAMPLE_1_D, EXAMPLE_1_P, "EACBD"),
        ("ABCD", EXAMPLE_2, EXAMPLE_2_D, EXAMPLE_2_P, "DACB"),
        ("ABCDE", EXAMPLE_3, EXAMPLE_3_D, EXAMPLE_3_P, "BADEC"),
    ],
    ids=["45 voters, E wins", "30 voters, D wins", "30 voters, B wins"],
)
def test_schulze_reproduces_the_published_tables_and_ranking(
    letters: str,
    ballots: Ballots,
    d: list[list[int | None]],
    p: list[list[int | None]],
    ranking: str,
) -> None:
    rules = Rules(Method.RANKED, tuple(letters))
    result = tally(rules, rank(letters, ballots))
    assert result.outcome == Outcome.DECIDED
    assert matrix(result.pairwise, letters) == d
    assert matrix(result.strongest, letters) == p
    assert result.ranking == tuple(ranking)
    assert result.winners == (ranking[0],)
    assert result.lot == ()  # a strict Schulze order needs no lot
    assert result.ballots == sum(voters for voters, _ in ballots)


def test_schulze_takes_the_top_of_its_ranking_for_several_seats() -> None:
    rules = Rules(Method.RANKED, tuple("ABCDE"), seats=3)
    assert tally(rules, rank("ABCDE", EXAMPLE_1)).winners == ("E", "A", "C")


def test_schulze_leaves_b_and_d_tied_in_the_nine_voter_example_and_the_lot_decides() -> None:
    rules = Rules(Method.RANKED, tuple("ABCD"))
    choices = rank("ABCD", EXAMPLE_4)
    winners = set()
    for seed in [f"closing-entry-{n}" for n in range(12)]:
        result = tally(rules, choices, lot_seed=seed)
        assert matrix(result.pairwise, "ABCD") == EXAMPLE_4_D
        assert matrix(result.strongest, "ABCD") == EXAMPLE_4_P
        order = result.ranking
        # B beats C (7 to 5) and D beats A (6 to 5); every other pair is tied.
        assert order.index("B") < order.index("C")
        assert order.index("D") < order.index("A")
        assert result.winners[0] in {"B", "D"}
        assert result.winners[0] == next(name for name in draw_lot(seed, "BD"))
        assert {"B", "D"} <= set(result.lot)
        winners.add(result.winners[0])
    assert winners == {"B", "D"}


def test_a_ranked_option_beats_every_option_its_ballot_leaves_unranked() -> None:
    rules = Rules(Method.RANKED, tuple("ABC"))
    result = tally(rules, rank("ABC", [(3, "A"), (2, "BC")]))
    assert result.pairwise == {
        "A": {"B": 3, "C": 3},
        "B": {"A": 2, "C": 2},
        "C": {"A": 2, "B": 0},
    }
    assert result.counts == {"A": 3, "B": 2, "C": 0}
    assert result.winners == ("A",)


# Instant runoff: the Tennessee capital example (per 100 voters)

TENNESSEE = "MNCK"  # Memphis, Nashville, Chattanooga, Knoxville
TENNESSEE_BALLOTS: Ballots = [(42, "MNCK"), (26, "NCKM"), (15, "CKNM"), (17, "KCNM")]


def test_irv_elects_knoxville_in_the_tennessee_example() -> None:
    result = tally(Rules(Method.IRV, tuple(TENNESSEE)), rank(TENNESSEE, TENNESSEE_BALLOTS))
    assert result.outcome == Outcome.DECIDED
    assert result.rounds == (
        {"M": 42, "N": 26, "C": 15, "K": 17},
        {"M": 42, "N": 26, "K": 32},
        {"M": 42, "K": 58},
    )
    assert result.eliminated == ("C", "N")
    assert result.winners == ("K",)
    assert result.counts == {"M": 42, "N": 26, "C": 15, "K": 17}


def test_schulze_elects_nashville_the_condorcet_winner_in_the_tennessee_example() -> None:
    result = tally(Rules(Method.RANKED, tuple(TENNESSEE)), rank(TENNESSEE, TENNESSEE_BALLOTS))
    assert result.winners == ("N",)
    assert result.ranking == tuple("NCKM")
    assert result.pairwise["N"] == {"M": 58, "C": 68, "K": 68}


def test_irv_needs_a_majority_of_continuing_ballots_not_of_all_ballots() -> None:
    # Cherry's two voters ranked nobody else: their ballots are exhausted once it goes.
    rules = Rules(Method.IRV, tuple("ABC"))
    result = tally(rules, rank("ABC", [(4, "A"), (3, "B"), (2, "C")]))
    assert result.rounds == ({"A": 4, "B": 3, "C": 2}, {"A": 4, "B": 3})
    assert result.winners == ("A",)  # 4 of the 7 continuing ballots


def test_an_irv_tie_for_last_goes_against_the_option_with_fewer_votes_the_round_before() -> None:
    rules = Rules(Method.IRV, tuple("ABCD"))
    choices = rank("ABCD", [(6, "A"), (4, "BC"), (3, "CB"), (1, "DCB"), (1, "DA")])
    for seed in ("one", "two", "three", "four", "five"):
        result = tally(rules, choices, lot_seed=seed)
        # Round 2 ties B and C at 4; C had 3 to B's 4 in round 1, so C goes, not the lot's pick.
        assert result.rounds[1] == {"A": 7, "B": 4, "C": 4}
        assert result.eliminated == ("D", "C")
        assert result.winners == ("B",)
        assert result.lot == ()


def test_an_irv_tie_for_last_in_the_first_round_is_broken_by_the_lot() -> None:
    rules = Rules(Method.IRV, tuple("ABC"))
    choices = rank("ABC", [(3, "A"), (2, "BC"), (2, "CB")])
    winners = set()
    for seed in [f"seed {n}" for n in range(10)]:
        result = tally(rules, choices, lot_seed=seed)
        survivor, loser = draw_lot(seed, ["B", "C"])
        assert result.eliminated == (loser,)
        assert result.winners == (survivor,)
        assert set(result.lot) == {"B", "C"}
        winners.add(survivor)
    assert winners == {"B", "C"}


# Cross-checks of the fast counting against plain definitions


def plain_pairwise(size: int, rankings: Sequence[tuple[int, ...]]) -> list[list[int]]:
    """d[a][b] by definition: compare the two options' places on every ballot."""
    d = [[0] * size for _ in range(size)]
    for ranking in rankings:
        place = {option: index for index, option in enumerate(ranking)}
        for a in range(size):
            for b in range(size):
                if a != b and place.get(a, size) < place.get(b, size):
                    d[a][b] += 1
    return d


def plain_strongest(d: list[list[int]]) -> list[list[int]]:
    """p[a][b] by definition: the widest of all simple paths along pairwise defeats."""
    size = len(d)
    p = [[0] * size for _ in range(size)]
    for a in range(size):
        for b in range(size):
            if a == b:
                continue
            others = [c for c in range(size) if c not in (a, b)]
            for length in range(len(others) + 1):
                for middle in permutations(others, length):
                    path = (a, *middle, b)
                    links = list(pairwise(path))
                    if all(d[x][y] > d[y][x] for x, y in links):
                        p[a][b] = max(p[a][b], min(d[x][y] for x, y in links))
    return p


def rankings_of(size: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Full or partial rankings (empty: an abstention) of `size` options."""
    return st.lists(st.integers(0, size - 1), unique=True, max_size=size).map(tuple)


@st.composite
def ranked_elections(draw: st.DrawFn, max_options: int = 5) -> tuple[int, list[tuple[int, ...]]]:
    size = draw(st.integers(2, max_options))
    pool = draw(st.lists(rankings_of(size), min_size=1, max_size=6))
    # Drawing from a small pool repeats ballots, so aggregated weights above 1 occur.
    return size, draw(st.lists(st.sampled_from(pool), max_size=40))


@settings(max_examples=200, deadline=None)
@given(ranked_elections())
def test_pairwise_counts_match_the_definition(election: tuple[int, list[tuple[int, ...]]]) -> None:
    size, rankings = election
    assert pairwise_preferences(size, Counter(rankings)) == plain_pairwise(size, rankings)


@settings(max_examples=100, deadline=None)
@given(ranked_elections())
def test_strongest_paths_match_the_widest_simple_paths(
    election: tuple[int, list[tuple[int, ...]]],
) -> None:
    size, rankings = election
    d = plain_pairwise(size, rankings)
    assert strongest_paths(d) == plain_strongest(d)


def test_pairwise_counts_are_right_past_255_options_too() -> None:
    rng = random.Random(7)
    size = 300
    rankings = [tuple(rng.sample(range(size), rng.randint(0, 6))) for _ in range(40)]
    rankings += rankings[:10]
    assert pairwise_preferences(size, Counter(rankings)) == plain_pairwise(size, rankings)


# Properties


def condorcet_winner(size: int, rankings: Sequence[tuple[int, ...]]) -> int | None:
    d = plain_pairwise(size, rankings)
    for a in range(size):
        if all(d[a][b] > d[b][a] for b in range(size) if b != a):
            return a
    return None


@settings(max_examples=300, deadline=None)
@given(ranked_elections(max_options=6), st.data())
def test_a_condorcet_winner_always_wins_under_schulze(
    election: tuple[int, list[tuple[int, ...]]], data: st.DataObject
) -> None:
    size, rankings = election
    if data.draw(st.booleans(), label="give someone a majority"):
        # A majority ranking one option first makes it a Condorcet winner.
        favourite = data.draw(st.integers(0, size - 1))
        rest = [option for option in range(size) if option != favourite]
        rankings = rankings + [(favourite, *rest)] * (len(rankings) + 1)
    winner = condorcet_winner(size, rankings)
    if winner is None:
        return
    names = tuple(f"option {n}" for n in range(size))
    seed = data.draw(st.text(max_size=8), label="lot seed")
    result = tally(Rules(Method.RANKED, names), rankings, lot_seed=seed)
    assert result.winners == (names[winner],)


@st.composite
def elections(draw: st.DrawFn) -> tuple[Rules, list[Choice]]:
    """Rules of any method with a quorum or not, and a list of valid choices for them."""
    method = draw(st.sampled_from(list(Method)))
    size = draw(st.integers(2, 5))
    options = tuple(f"option {n}" for n in range(size)) if method in CHOICE else ()
    choice: st.SearchStrategy[Choice]
    if method in YES_NO:
        choice = st.sampled_from(["yes", "no", "abstain"])
    elif method == Method.CONSENT:
        choice = st.sampled_from(["+1", "0", "-1"])
    elif method == Method.SIGN_OFF:
        choice = st.just("sign-off")
    elif method == Method.APPROVAL:
        choice = st.frozensets(st.integers(0, size - 1))
    else:
        choice = rankings_of(size)
    choices = draw(st.lists(choice, max_size=30))
    quorum = draw(
        st.none()
        | st.builds(Quorum, share=st.fractions(Fraction(1, 100), Fraction(1)))
        | st.builds(Quorum, count=st.integers(1, 40))
    )
    seats = 1
    if method in (Method.APPROVAL, Method.RANKED):
        seats = draw(st.integers(1, size - 1))
    electorate = len(choices) + draw(st.integers(0, 30))
    return Rules(method, options, quorum=quorum, seats=seats, electorate=electorate), choices


CHOICE = (Method.APPROVAL, Method.RANKED, Method.IRV)


@settings(max_examples=300, deadline=None)
@given(elections(), st.randoms(use_true_random=False), st.text(max_size=6))
def test_results_do_not_depend_on_the_order_ballots_arrive_in(
    election: tuple[Rules, list[Choice]], rng: random.Random, seed: str
) -> None:
    rules, choices = election
    shuffled = list(choices)
    rng.shuffle(shuffled)
    assert tally(rules, shuffled, lot_seed=seed) == tally(rules, choices, lot_seed=seed)


@settings(max_examples=300, deadline=None)
@given(elections())
def test_a_missed_quorum_never_passes_or_decides(election: tuple[Rules, list[Choice]]) -> None:
    rules, choices = election
    result = tally(rules, choices)
    assert result.quorum_met == (result.ballots >= result.quorum_required)
    if not result.quorum_met:
        assert result.outcome == Outcome.NO_QUORUM
        assert result.winners == ()
    assert (result.outcome == Outcome.PASSED) <= result.quorum_met


@settings(max_examples=300, deadline=None)
@given(ranked_elections(max_options=7), st.text(max_size=6))
def test_the_irv_winner_holds_a_majority_of_continuing_ballots_in_the_last_round(
    election: tuple[int, list[tuple[int, ...]]], seed: str
) -> None:
    size, rankings = election
    names = tuple(f"option {n}" for n in range(size))
    result = tally(Rules(Method.IRV, names), rankings, lot_seed=seed)
    if not any(rankings):
        assert result.winners == ()
        return
    (winner,) = result.winners
    last = result.rounds[-1]
    assert 2 * last[winner] > sum(last.values())
    assert len(result.eliminated) == len(result.rounds) - 1
    totals = [sum(counted.values()) for counted in result.rounds]
    assert totals == sorted(totals, reverse=True)  # ballots only ever exhaust
    assert totals[0] == sum(1 for ranking in rankings if ranking)


@given(st.text(), st.lists(st.text(), max_size=12))
def test_the_lot_is_a_permutation_that_does_not_depend_on_the_input_order(
    seed: str, items: list[str]
) -> None:
    drawn = draw_lot(seed, items)
    assert sorted(drawn) == sorted(items)
    assert draw_lot(seed, items) == drawn
    assert draw_lot(seed, list(reversed(items))) == drawn


# Early close is sound: brute force every way the outstanding voters could still vote

OPTIONS_3 = ("A", "B", "C")
SUBSETS_3 = [frozenset(c) for size in range(4) for c in combinations(range(3), size)]
RANKINGS_3 = [r for size in range(4) for r in permutations(range(3), size)]
UNIVERSE: dict[Method, Sequence[Choice]] = {
    Method.MAJORITY: ["yes", "no", "abstain"],
    Method.SUPERMAJORITY: ["yes", "no", "abstain"],
    Method.CONSENT: ["+1", "0", "-1"],
    Method.APPROVAL: SUBSETS_3,
    Method.RANKED: RANKINGS_3,
    Method.IRV: RANKINGS_3,
}
LOT_SEEDS = ("first closing hash", "second closing hash")


def every_result(rules: Rules, choices: list[Choice], outstanding: int) -> set[tuple[str, ...]]:
    """Each (outcome, winners...) some completion of the outstanding voters can produce."""
    seen: set[tuple[str, ...]] = set()
    for extra in combinations_with_replacement([None, *UNIVERSE[rules.method]], outstanding):
        completed = choices + [choice for choice in extra if choice is not None]
        for seed in LOT_SEEDS:
            result: Result = tally(rules, completed, lot_seed=seed)
            seen.add((result.outcome, *result.winners))
    return seen


@st.composite
def small_elections(draw: st.DrawFn) -> tuple[Rules, list[Choice], int]:
    method = draw(st.sampled_from(list(UNIVERSE)))
    choices = draw(st.lists(st.sampled_from(UNIVERSE[method]), max_size=6))
    most = 2 if method in (Method.RANKED, Method.IRV) else 4
    outstanding = draw(st.integers(0, most))
    quorum = draw(st.none() | st.builds(Quorum, count=st.integers(1, 8)))
    options = OPTIONS_3 if method in CHOICE else ()
    seats = draw(st.integers(1, 2)) if method in (Method.APPROVAL, Method.RANKED) else 1
    threshold = None
    if method in YES_NO:
        threshold = draw(st.none() | st.sampled_from([Fraction(2, 3), Fraction(3, 4)]))
    rules = Rules(
        method,
        options,
        threshold=threshold,
        quorum=quorum,
        seats=seats,
        electorate=len(choices) + outstanding,
    )
    return rules, choices, outstanding


@settings(max_examples=400, deadline=None)
@given(small_elections())
def test_settled_is_sound_whatever_the_outstanding_voters_do(
    election: tuple[Rules, list[Choice], int],
) -> None:
    rules, choices, outstanding = election
    outcomes = every_result(rules, choices, outstanding)
    if settled(rules, choices, outstanding):
        assert len(outcomes) == 1
    if rules.method in (*YES_NO, Method.CONSENT):
        # Exact for these: settled exactly when a single outcome remains possible.
        assert settled(rules, choices, outstanding) == (len(outcomes) == 1)


def test_a_sign_off_is_never_settled_early() -> None:
    rules = Rules(Method.SIGN_OFF, electorate=3)
    assert settled(rules, ["sign-off"] * 3, 0) is False
