"""Voting rules as members and auditors meet them: thresholds, quorum, consent, sign-off,
approval, ballot parsing, stored choices, rule checks and the early-close test."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from fractions import Fraction

import pytest

from govbot.domain.voting import (
    Choice,
    ChoiceError,
    Method,
    Outcome,
    Quorum,
    Rules,
    canonical,
    check_rules,
    describe,
    draw_lot,
    from_canonical,
    parse_choice,
    parse_quorum,
    parse_threshold,
    settled,
    tally,
)

MAJORITY = Rules(Method.MAJORITY)
SUPERMAJORITY = Rules(Method.SUPERMAJORITY)
CONSENT = Rules(Method.CONSENT)
FRUIT = ("Apple", "Banana", "Cherry")
APPROVAL = Rules(Method.APPROVAL, FRUIT)
RANKED = Rules(Method.RANKED, FRUIT)
IRV = Rules(Method.IRV, FRUIT)


def ballots(yes: int = 0, no: int = 0, abstain: int = 0) -> list[str]:
    return ["yes"] * yes + ["no"] * no + ["abstain"] * abstain


# Thresholds


def test_a_majority_passes_with_strictly_more_yes_than_no() -> None:
    result = tally(MAJORITY, ballots(yes=3, no=2))
    assert result.outcome == Outcome.PASSED
    assert result.counts == {"yes": 3, "no": 2, "abstain": 0}
    assert result.threshold == Fraction(1, 2)


def test_a_tied_majority_vote_fails_so_the_status_quo_wins() -> None:
    assert tally(MAJORITY, ballots(yes=2, no=2)).outcome == Outcome.FAILED


def test_abstentions_count_as_ballots_but_not_toward_the_threshold() -> None:
    result = tally(MAJORITY, ballots(yes=2, no=1, abstain=10))
    assert result.outcome == Outcome.PASSED
    assert result.ballots == 13


def test_a_vote_with_only_abstentions_fails() -> None:
    assert tally(MAJORITY, ballots(abstain=4)).outcome == Outcome.FAILED
    assert tally(SUPERMAJORITY, []).outcome == Outcome.FAILED


def test_a_supermajority_passes_at_exactly_two_thirds_by_default() -> None:
    result = tally(SUPERMAJORITY, ballots(yes=2, no=1))
    assert result.outcome == Outcome.PASSED
    assert result.threshold == Fraction(2, 3)
    assert tally(SUPERMAJORITY, ballots(yes=5, no=3)).outcome == Outcome.FAILED


def test_a_majority_with_a_two_thirds_threshold_needs_more_than_two_thirds() -> None:
    rules = Rules(Method.MAJORITY, threshold=Fraction(2, 3))
    assert tally(rules, ballots(yes=2, no=1)).outcome == Outcome.FAILED
    assert tally(rules, ballots(yes=7, no=3)).outcome == Outcome.PASSED


@pytest.mark.parametrize("written", ["0.75", "75%", "3/4"])
def test_a_three_quarters_supermajority_is_met_at_three_quarters_however_written(
    written: str,
) -> None:
    rules = Rules(Method.SUPERMAJORITY, threshold=parse_threshold(written))
    assert tally(rules, ballots(yes=3, no=1)).outcome == Outcome.PASSED
    assert tally(rules, ballots(yes=5, no=2)).outcome == Outcome.FAILED
    assert tally(rules, ballots(yes=3, no=1)).threshold == Fraction(3, 4)


def test_a_unanimity_threshold_fails_on_a_single_no() -> None:
    rules = Rules(Method.SUPERMAJORITY, threshold=Fraction(1))
    assert tally(rules, ballots(yes=9, abstain=3)).outcome == Outcome.PASSED
    assert tally(rules, ballots(yes=9, no=1)).outcome == Outcome.FAILED


def test_default_thresholds_are_a_half_and_two_thirds() -> None:
    assert MAJORITY.effective_threshold() == Fraction(1, 2)
    assert SUPERMAJORITY.effective_threshold() == Fraction(2, 3)
    assert Rules(Method.MAJORITY, threshold=Fraction(3, 5)).effective_threshold() == Fraction(3, 5)


# Quorum


def test_a_quorum_share_is_rounded_up_to_whole_ballots() -> None:
    assert Quorum(share=Fraction(1, 2)).required(7) == 4
    assert Quorum(share=Fraction(1, 2)).required(8) == 4
    assert Quorum(share=Fraction(333, 1000)).required(10) == 4
    assert Quorum(count=3).required(100) == 3
    assert Quorum(share=Fraction(1, 10), count=5).required(20) == 5


def test_a_missed_quorum_is_no_quorum_even_when_everyone_voted_yes() -> None:
    rules = Rules(Method.MAJORITY, quorum=Quorum(share=Fraction(1, 2)), electorate=10)
    result = tally(rules, ballots(yes=4))
    assert result.outcome == Outcome.NO_QUORUM
    assert (result.quorum_required, result.quorum_met) == (5, False)
    assert result.counts["yes"] == 4


def test_abstentions_count_toward_quorum() -> None:
    rules = Rules(Method.MAJORITY, quorum=Quorum(share=Fraction(1, 2)), electorate=10)
    result = tally(rules, ballots(yes=2, abstain=3))
    assert result.outcome == Outcome.PASSED
    assert (result.quorum_required, result.quorum_met) == (5, True)


def test_a_head_count_quorum_applies_whatever_the_electorate() -> None:
    rules = Rules(Method.SUPERMAJORITY, quorum=Quorum(count=3), electorate=1000)
    assert tally(rules, ballots(yes=2)).outcome == Outcome.NO_QUORUM
    assert tally(rules, ballots(yes=2, no=1)).outcome == Outcome.PASSED


def test_without_a_quorum_none_is_required() -> None:
    result = tally(MAJORITY, ballots(yes=1))
    assert (result.quorum_required, result.quorum_met) == (0, True)


# Consent


def test_consent_passes_without_a_standing_objection() -> None:
    result = tally(CONSENT, ["+1", "0", "+1"])
    assert result.outcome == Outcome.PASSED
    assert result.counts == {"+1": 2, "0": 1, "-1": 0}


def test_lazy_consensus_passes_when_nobody_speaks() -> None:
    assert tally(CONSENT, []).outcome == Outcome.PASSED


def test_a_single_minus_one_blocks_consent() -> None:
    assert tally(CONSENT, ["+1"] * 20 + ["-1"]).outcome == Outcome.BLOCKED


def test_consent_below_its_quorum_is_no_quorum_not_blocked() -> None:
    rules = Rules(Method.CONSENT, quorum=Quorum(count=3), electorate=9)
    assert tally(rules, ["-1", "+1"]).outcome == Outcome.NO_QUORUM


# Sign-off


def test_sign_off_passes_when_all_but_the_allowance_signed() -> None:
    rules = Rules(Method.SIGN_OFF, electorate=5)
    result = tally(rules, ["sign-off"] * 3)
    assert result.outcome == Outcome.PASSED
    assert result.counts == {"sign-off": 3, "missing": 2}


def test_sign_off_fails_when_more_than_the_allowance_are_missing() -> None:
    rules = Rules(Method.SIGN_OFF, electorate=5)
    result = tally(rules, ["sign-off"] * 2)
    assert result.outcome == Outcome.FAILED
    assert result.counts["missing"] == 3


def test_an_unresolved_concern_stops_a_sign_off() -> None:
    rules = Rules(Method.SIGN_OFF, electorate=5)
    assert tally(rules, ["sign-off"] * 5, open_concerns=1).outcome == Outcome.FAILED


def test_a_sign_off_allowance_of_zero_needs_everyone() -> None:
    rules = Rules(Method.SIGN_OFF, sign_off_allowance=0, electorate=4)
    assert tally(rules, ["sign-off"] * 3).outcome == Outcome.FAILED
    assert tally(rules, ["sign-off"] * 4).outcome == Outcome.PASSED


# Approval


def approve(*names: str) -> frozenset[int]:
    return frozenset(FRUIT.index(name) for name in names)


def test_approval_picks_the_most_approved_options_for_its_seats() -> None:
    rules = Rules(Method.APPROVAL, ("Apple", "Banana", "Cherry", "Damson"), seats=2)
    choices = [frozenset({0, 1}), frozenset({1, 2}), frozenset({1}), frozenset({2, 3})]
    result = tally(rules, choices)
    assert result.outcome == Outcome.DECIDED
    assert result.counts == {"Apple": 1, "Banana": 3, "Cherry": 2, "Damson": 1}
    assert result.winners == ("Banana", "Cherry")
    assert result.ranking[:2] == ("Banana", "Cherry")
    assert set(result.lot) == {"Apple", "Damson"}  # tied for third: ordered by lot


def test_an_approval_tie_at_the_cut_is_broken_by_the_public_lot() -> None:
    rules = Rules(Method.APPROVAL, ("Apple", "Banana", "Cherry", "Damson"), seats=2)
    choices = [frozenset({0, 1, 2}), frozenset({0, 1, 2}), frozenset({0, 3})]
    winners_seen = set()
    for seed in ("audit-hash-1", "audit-hash-2", "audit-hash-3", "audit-hash-4"):
        result = tally(rules, choices, lot_seed=seed)
        # Apple (3) is first; Banana and Cherry (2 each) tie for the second seat.
        expected = draw_lot(seed, ["Banana", "Cherry"])
        assert result.winners == ("Apple", expected[0])
        assert result.lot == tuple(expected)
        winners_seen.add(result.winners)
    assert len(winners_seen) == 2  # the seed, not the option order, decides


def test_approval_with_only_empty_ballots_decides_nothing() -> None:
    result = tally(APPROVAL, [frozenset(), frozenset()])
    assert result.outcome == Outcome.FAILED
    assert result.winners == ()
    assert result.ballots == 2
    assert tally(APPROVAL, []).outcome == Outcome.FAILED


def test_approval_below_its_quorum_has_no_winners() -> None:
    rules = Rules(Method.APPROVAL, FRUIT, quorum=Quorum(count=3), electorate=5)
    result = tally(rules, [approve("Apple"), approve("Apple")])
    assert result.outcome == Outcome.NO_QUORUM
    assert result.winners == ()
    assert result.counts["Apple"] == 2


def test_ranked_and_irv_with_only_abstentions_decide_nothing() -> None:
    assert tally(RANKED, [(), ()]).outcome == Outcome.FAILED
    assert tally(IRV, []).winners == ()


# Parsing choices


@pytest.mark.parametrize(
    ("rules", "text", "reason", "expected"),
    [
        (MAJORITY, "yes", None, "yes"),
        (MAJORITY, "  YES ", None, "yes"),
        (MAJORITY, "No", "too costly", "no"),
        (SUPERMAJORITY, "abstain", None, "abstain"),
        (CONSENT, "+1", None, "+1"),
        (CONSENT, "0", None, "0"),
        (CONSENT, "-1", "breaks the build", "-1"),
        (Rules(Method.SIGN_OFF), "Sign-Off", None, "sign-off"),
        (APPROVAL, "apple, cherry", None, frozenset({0, 2})),
        (APPROVAL, "3,1", None, frozenset({0, 2})),
        (APPROVAL, "none", None, frozenset()),
        (APPROVAL, "Abstain", None, frozenset()),
        (RANKED, "Banana > apple > CHERRY", None, (1, 0, 2)),
        (RANKED, "2>1", None, (1, 0)),
        (IRV, "cherry", None, (2,)),
        (IRV, "none", None, ()),
    ],
)
def test_choices_are_read_case_insensitively_by_name_or_number(
    rules: Rules, text: str, reason: str | None, expected: Choice
) -> None:
    assert parse_choice(rules, text, reason) == expected


def test_an_unknown_option_is_named_back() -> None:
    with pytest.raises(ChoiceError) as caught:
        parse_choice(RANKED, "Banana > Durian")
    assert caught.value.key == "error.vote.unknown_option"
    assert caught.value.params == {"option": "Durian"}


@pytest.mark.parametrize("text", ["4", "0", "Apple,Banana,7"])
def test_an_option_number_out_of_range_is_unknown(text: str) -> None:
    with pytest.raises(ChoiceError) as caught:
        parse_choice(APPROVAL, text)
    assert caught.value.key == "error.vote.unknown_option"


@pytest.mark.parametrize("text", ["Apple > Banana > apple", "Apple > 1", "Cherry>3"])
def test_an_option_repeated_in_a_ranking_is_refused(text: str) -> None:
    with pytest.raises(ChoiceError) as caught:
        parse_choice(RANKED, text)
    assert caught.value.key == "error.vote.repeated_option"
    assert caught.value.params["option"] in FRUIT


def test_an_option_repeated_in_an_approval_is_refused() -> None:
    with pytest.raises(ChoiceError) as caught:
        parse_choice(APPROVAL, "Banana, 2")
    assert caught.value.params == {"option": "Banana"}


def test_an_approval_choice_on_a_yes_no_vote_lists_the_accepted_words() -> None:
    with pytest.raises(ChoiceError) as caught:
        parse_choice(MAJORITY, "Apple, Banana")
    assert caught.value.key == "error.vote.bad_choice"
    assert caught.value.params == {"choices": "yes|no|abstain"}


@pytest.mark.parametrize(
    ("rules", "text", "choices"),
    [
        (CONSENT, "yes", "+1|0|-1"),
        (CONSENT, "1", "+1|0|-1"),
        (Rules(Method.SIGN_OFF), "concern", "sign-off"),
        (RANKED, "Apple, Banana", "Apple>Banana>Cherry|none"),
        (APPROVAL, "Apple > Banana", "Apple,Banana,Cherry|none"),
        (APPROVAL, "Apple,,Banana", "Apple,Banana,Cherry|none"),
        (RANKED, "Apple >", "Apple>Banana>Cherry|none"),
        (IRV, "   ", "Apple>Banana>Cherry|none"),
    ],
)
def test_a_choice_in_the_wrong_form_shows_the_accepted_forms(
    rules: Rules, text: str, choices: str
) -> None:
    with pytest.raises(ChoiceError) as caught:
        parse_choice(rules, text)
    assert caught.value.key == "error.vote.bad_choice"
    assert caught.value.params == {"choices": choices}


@pytest.mark.parametrize(
    ("rules", "text", "reason"),
    [
        (MAJORITY, "no", None),
        (SUPERMAJORITY, "NO", "   "),
        (CONSENT, "-1", None),
        (CONSENT, "-1", ""),
    ],
)
def test_a_no_or_a_block_without_a_reason_is_refused(
    rules: Rules, text: str, reason: str | None
) -> None:
    with pytest.raises(ChoiceError) as caught:
        parse_choice(rules, text, reason)
    assert caught.value.key == "error.vote.reason_needed"
    assert caught.value.params == {"choice": text.strip().lower()}


def test_yes_and_support_need_no_reason() -> None:
    assert parse_choice(MAJORITY, "yes") == "yes"
    assert parse_choice(CONSENT, "0") == "0"


def test_an_option_named_like_a_number_is_matched_by_name_first() -> None:
    rules = Rules(Method.RANKED, ("2", "1", "3"))
    assert parse_choice(rules, "1 > 2") == (1, 0)


# Stored choices


@pytest.mark.parametrize(
    ("rules", "choice", "stored", "shown"),
    [
        (MAJORITY, "yes", "yes", "yes"),
        (SUPERMAJORITY, "abstain", "abstain", "abstain"),
        (CONSENT, "-1", "-1", "-1"),
        (Rules(Method.SIGN_OFF), "sign-off", "sign-off", "sign-off"),
        (APPROVAL, frozenset({2, 0}), "1,3", "Apple, Cherry"),
        (APPROVAL, frozenset(), "abstain", "abstain"),
        (RANKED, (1, 0, 2), "2>1>3", "Banana > Apple > Cherry"),
        (IRV, (2,), "3", "Cherry"),
        (RANKED, (), "abstain", "abstain"),
    ],
)
def test_choices_are_stored_as_canonical_text_and_read_back_unchanged(
    rules: Rules, choice: Choice, stored: str, shown: str
) -> None:
    assert canonical(rules, choice) == stored
    assert from_canonical(rules, stored) == choice
    assert describe(rules, choice) == shown


def test_parsing_the_stored_text_gives_the_same_choice() -> None:
    for rules, text in [(APPROVAL, "Cherry, Apple"), (RANKED, "Cherry > Apple")]:
        choice = parse_choice(rules, text)
        assert parse_choice(rules, canonical(rules, choice)) == choice


@pytest.mark.parametrize(
    ("rules", "stored"),
    [
        (MAJORITY, "Yes"),
        (MAJORITY, "+1"),
        (CONSENT, "yes"),
        (APPROVAL, "1,1"),
        (APPROVAL, "0"),
        (APPROVAL, "1>2"),
        (RANKED, "2>2"),
        (RANKED, "4"),
        (RANKED, "1,2"),
        (IRV, ""),
    ],
)
def test_malformed_stored_text_is_refused(rules: Rules, stored: str) -> None:
    with pytest.raises(ChoiceError):
        from_canonical(rules, stored)


def test_a_choice_of_the_wrong_shape_cannot_be_stored() -> None:
    with pytest.raises(ChoiceError):
        canonical(MAJORITY, (0, 1))
    with pytest.raises(ChoiceError):
        canonical(RANKED, frozenset({0}))
    with pytest.raises(ChoiceError):
        canonical(APPROVAL, frozenset({3}))


# Rule checks


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        (Rules(Method.RANKED, ("Only",)), "error.vote.options_needed"),
        (Rules(Method.APPROVAL), "error.vote.options_needed"),
        (Rules(Method.MAJORITY, ("A", "B")), "error.vote.options_unused"),
        (Rules(Method.SIGN_OFF, ("A", "B")), "error.vote.options_unused"),
        (Rules(Method.IRV, ("A", "B", " a ")), "error.vote.duplicate_option"),
        (Rules(Method.APPROVAL, ("A", "B", "C"), seats=0), "error.vote.bad_seats"),
        (Rules(Method.APPROVAL, ("A", "B", "C"), seats=3), "error.vote.bad_seats"),
        (Rules(Method.IRV, ("A", "B", "C"), seats=2), "error.vote.bad_seats"),
        (Rules(Method.CONSENT, seats=2), "error.vote.bad_seats"),
        (Rules(Method.CONSENT, threshold=Fraction(2, 3)), "error.vote.threshold_unused"),
        (Rules(Method.RANKED, ("A", "B"), threshold=Fraction(1, 2)), "error.vote.threshold_unused"),
    ],
)
def test_inconsistent_rules_are_named_by_a_catalog_key(rules: Rules, problem: str) -> None:
    assert check_rules(rules) == problem


@pytest.mark.parametrize(
    "rules",
    [
        MAJORITY,
        Rules(Method.SUPERMAJORITY, threshold=Fraction(3, 4), quorum=Quorum(count=3)),
        Rules(Method.SIGN_OFF, sign_off_allowance=0, electorate=7),
        Rules(Method.APPROVAL, ("A", "B", "C"), seats=2),
        Rules(Method.RANKED, ("A", "B")),
        Rules(Method.IRV, ("A", "B", "C")),
    ],
)
def test_consistent_rules_pass_the_check(rules: Rules) -> None:
    assert check_rules(rules) is None


def test_a_tally_refuses_inconsistent_rules() -> None:
    with pytest.raises(ValueError, match=r"error\.vote\.bad_seats"):
        tally(Rules(Method.IRV, ("A", "B", "C"), seats=2), [(0,)])


# Quorum and threshold text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50%", Quorum(share=Fraction(1, 2))),
        (" 33.3 % ", Quorum(share=Fraction(333, 1000))),
        ("100%", Quorum(share=Fraction(1))),
        ("0.5%", Quorum(share=Fraction(1, 200))),
        ("7", Quorum(count=7)),
        ("1", Quorum(count=1)),
    ],
)
def test_quorums_are_read_as_shares_or_head_counts(text: str, expected: Quorum) -> None:
    assert parse_quorum(text) == expected


@pytest.mark.parametrize(
    "text", ["", "0%", "0", "100.1%", "150%", "-5", "-5%", "1.5", "half", "50%%", "5 0", "٥"]
)
def test_malformed_or_impossible_quorums_are_refused(text: str) -> None:
    assert parse_quorum(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2/3", Fraction(2, 3)),
        (" 3 / 4 ", Fraction(3, 4)),
        ("0.75", Fraction(3, 4)),
        (".6", Fraction(3, 5)),
        ("75%", Fraction(3, 4)),
        ("66.7%", Fraction(667, 1000)),
        ("1", Fraction(1)),
        ("1/1", Fraction(1)),
        ("100%", Fraction(1)),
    ],
)
def test_thresholds_are_read_as_fractions_decimals_or_percentages(
    text: str, expected: Fraction
) -> None:
    assert parse_threshold(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "0", "0/3", "1/0", "3/2", "1.01", "101%", "0%", "-1/2", "2/3/4", "two thirds", "50"],
)
def test_thresholds_outside_zero_to_one_or_malformed_are_refused(text: str) -> None:
    assert parse_threshold(text) is None


# The lot


def test_the_lot_can_be_redrawn_by_hand_from_sha256_digests() -> None:
    items = ["Alpha", "Beta", "Gamma", "Delta"]
    by_hand = sorted(items, key=lambda item: hashlib.sha256(f"seed\n{item}".encode()).hexdigest())
    assert draw_lot("seed", items) == by_hand == ["Delta", "Beta", "Gamma", "Alpha"]


def test_a_different_seed_draws_a_different_order() -> None:
    items = [f"option {n}" for n in range(8)]
    assert draw_lot("closing-hash-a", items) != draw_lot("closing-hash-b", items)


# Early close


@pytest.mark.parametrize(
    ("rules", "choices", "outstanding", "expected"),
    [
        (MAJORITY, ballots(yes=6, no=1), 3, True),  # 6 > 1 + 3
        (MAJORITY, ballots(yes=4, no=1), 3, False),  # 4 yes v 4 no would fail
        (MAJORITY, ballots(no=4), 3, True),  # even 3 more yes cannot outweigh 4 no
        (MAJORITY, ballots(yes=1), 0, True),
        (
            Rules(Method.MAJORITY, quorum=Quorum(count=5), electorate=6),
            ballots(yes=3),
            3,
            False,  # quorum may still be missed
        ),
        (
            Rules(Method.MAJORITY, quorum=Quorum(count=5), electorate=6),
            ballots(yes=4, no=1),
            1,
            True,
        ),
        (
            Rules(Method.MAJORITY, quorum=Quorum(count=8), electorate=6),
            ballots(yes=3),
            3,
            True,  # 6 ballots at most: no quorum whatever happens
        ),
        (CONSENT, ["+1", "+1"], 1, False),  # the last member may still block
        (CONSENT, ["+1", "-1"], 2, True),  # the block stands as cast
        (CONSENT, ["+1", "+1"], 0, True),
        (Rules(Method.SIGN_OFF, electorate=3), ["sign-off"] * 3, 0, False),
    ],
)
def test_a_vote_is_settled_only_when_the_remaining_voters_cannot_change_it(
    rules: Rules, choices: Sequence[Choice], outstanding: int, expected: bool
) -> None:
    assert settled(rules, choices, outstanding) is expected


def test_a_supermajority_that_late_no_votes_could_sink_is_not_settled() -> None:
    # 6 yes of 7 now; 3 more no would make 6 of 10, below 2/3.
    assert settled(SUPERMAJORITY, ballots(yes=6, no=1), 3) is False
    assert settled(SUPERMAJORITY, ballots(yes=8, no=1), 3) is True


def test_a_clear_approval_lead_is_settled_and_a_narrow_one_is_not() -> None:
    clear = [approve("Apple")] * 5 + [approve("Banana")] * 1
    assert settled(APPROVAL, clear, 3) is True
    assert settled(APPROVAL, clear, 4) is False
    assert settled(APPROVAL, [frozenset()] * 3, 1) is False  # nobody approved anything yet


def test_a_ranked_condorcet_winner_out_of_reach_is_settled() -> None:
    choices: Sequence[Choice] = [(0, 1, 2)] * 6 + [(1, 2, 0)] * 2
    assert settled(RANKED, choices, 3) is True  # Apple leads each pair by at least 4
    assert settled(RANKED, choices, 4) is False
    assert settled(Rules(Method.RANKED, FRUIT, seats=2), choices, 3) is True


def test_an_irv_first_round_majority_out_of_reach_is_settled() -> None:
    choices: Sequence[Choice] = [(0,)] * 6 + [(1, 0)] * 2
    assert settled(IRV, choices, 3) is True  # 6 of at most 11
    assert settled(IRV, choices, 4) is False
