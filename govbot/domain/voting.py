"""Voting methods: rules, ballot choices, tallies, the early-close test and the public lot.

The rules are GOVERNANCE.md section 2. Everything here is pure: ballots in, a result out.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from itertools import chain
from typing import TypeAlias, cast


class Method(StrEnum):
    """How a proposal is decided."""

    MAJORITY = "majority"
    SUPERMAJORITY = "supermajority"
    CONSENT = "consent"
    SIGN_OFF = "sign-off"
    APPROVAL = "approval"
    RANKED = "ranked"
    IRV = "irv"


class Outcome(StrEnum):
    """What a closed vote decided."""

    PASSED = "passed"
    FAILED = "failed"
    NO_QUORUM = "no quorum"
    BLOCKED = "blocked"  # consent with a standing -1 at close
    DECIDED = "decided"  # approval / ranked / irv: winners chosen


YES_NO = (Method.MAJORITY, Method.SUPERMAJORITY)
CHOICE_METHODS = (Method.APPROVAL, Method.RANKED, Method.IRV)  # need options (>= 2)

# A parsed ballot choice, as stored (canonical text) and as tallies read it: a word for
# yes/no, consent and sign-off; a set of 0-based option indexes for approval (empty: abstain);
# a tuple of 0-based option indexes, most preferred first, for ranked and irv (empty: abstain).
Choice: TypeAlias = str | frozenset[int] | tuple[int, ...]

_WORDS: dict[Method, tuple[str, ...]] = {
    Method.MAJORITY: ("yes", "no", "abstain"),
    Method.SUPERMAJORITY: ("yes", "no", "abstain"),
    Method.CONSENT: ("+1", "0", "-1"),
    Method.SIGN_OFF: ("sign-off",),
}
_NEEDS_REASON = frozenset({"no", "-1"})
_ABSTAIN_WORDS = ("none", "abstain")
_ABSTAIN = "abstain"  # canonical text and description of an empty approval set or ranking
_SEPARATOR = {Method.APPROVAL: ",", Method.RANKED: ">", Method.IRV: ">"}

_NUMBER = r"(?:[0-9]{1,9}(?:\.[0-9]{1,9})?|\.[0-9]{1,9})"
_PERCENT = re.compile(rf"({_NUMBER})\s*%")
_DECIMAL = re.compile(_NUMBER)
_RATIO = re.compile(r"([0-9]{1,9})\s*/\s*([0-9]{1,9})")
_WHOLE = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Quorum:
    """A minimum turnout: a share of the electorate or a head count (both set: the larger)."""

    share: Fraction | None = None  # of the electorate, e.g. Fraction(1, 2) for "50%"
    count: int | None = None  # or a head count

    def required(self, electorate: int) -> int:
        """Return how many ballots (abstentions included) meet this quorum."""
        needed = 0
        if self.share is not None:
            # Rounded up: a 50% quorum of 7 members needs 4 ballots, not 3.5.
            needed = -(-self.share.numerator * electorate // self.share.denominator)
        if self.count is not None:
            needed = max(needed, self.count)
        return needed


def parse_quorum(text: str) -> Quorum | None:
    """Read a quorum such as `50%`, `33.3%` or `7`; None when malformed or out of range."""
    cleaned = text.strip()
    if match := _PERCENT.fullmatch(cleaned):
        share = Fraction(match[1]) / 100
        return Quorum(share=share) if 0 < share <= 1 else None
    if _WHOLE.fullmatch(cleaned):
        count = int(cleaned)
        return Quorum(count=count) if count >= 1 else None
    return None


def parse_threshold(text: str) -> Fraction | None:
    """Read a pass threshold such as `2/3`, `0.75` or `75%`; None unless 0 < t <= 1."""
    cleaned = text.strip()
    if match := _RATIO.fullmatch(cleaned):
        numerator, denominator = int(match[1]), int(match[2])
        if denominator == 0:
            return None
        threshold = Fraction(numerator, denominator)
    elif match := _PERCENT.fullmatch(cleaned):
        threshold = Fraction(match[1]) / 100
    elif _DECIMAL.fullmatch(cleaned):
        threshold = Fraction(cleaned)
    else:
        return None
    return threshold if 0 < threshold <= 1 else None


@dataclass(frozen=True)
class Rules:
    """Everything a tally needs to know about a proposal's vote."""

    method: Method
    options: tuple[str, ...] = ()  # approval / ranked / irv: option names, in order
    threshold: Fraction | None = None  # None: default (1/2 majority, 2/3 supermajority)
    quorum: Quorum | None = None
    seats: int = 1  # approval, ranked: top k (irv: 1 only)
    sign_off_allowance: int = 2  # sign-off: at most N eligible members may not sign
    electorate: int = 0  # the electorate's size at opening (for quorum)

    def effective_threshold(self) -> Fraction:
        """Return the threshold in force: the one set, else the method's default."""
        if self.threshold is not None:
            return self.threshold
        return Fraction(2, 3) if self.method == Method.SUPERMAJORITY else Fraction(1, 2)


def check_rules(rules: Rules) -> str | None:
    """Return None when the rules are consistent, else a catalog key naming the problem."""
    choice_method = rules.method in CHOICE_METHODS
    if choice_method and len(rules.options) < 2:
        return "error.vote.options_needed"
    if not choice_method and rules.options:
        return "error.vote.options_unused"
    names = [_option_key(name) for name in rules.options]
    if len(set(names)) != len(names):
        return "error.vote.duplicate_option"
    single_seat = not choice_method or rules.method == Method.IRV
    if (
        rules.seats < 1
        or (single_seat and rules.seats > 1)
        or (choice_method and rules.seats >= len(rules.options))
    ):
        return "error.vote.bad_seats"
    if rules.threshold is not None and rules.method not in YES_NO:
        return "error.vote.threshold_unused"
    return None


class ChoiceError(ValueError):
    """A ballot choice that cannot be accepted; `key` and `params` are for the catalog."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def _option_key(name: str) -> str:
    return name.strip().casefold()


def _forms(rules: Rules) -> str:
    """The accepted forms of a choice, shown when one cannot be read."""
    if rules.method in CHOICE_METHODS:
        return f"{_SEPARATOR[rules.method].join(rules.options)}|none"
    return "|".join(_WORDS[rules.method])


def _find_option(rules: Rules, item: str) -> int | None:
    """Find an option by its name (case-insensitive, exact) or its 1-based number."""
    key = _option_key(item)
    for index, name in enumerate(rules.options):
        if _option_key(name) == key:
            return index
    if _WHOLE.fullmatch(item) and 1 <= int(item) <= len(rules.options):
        return int(item) - 1
    return None


def parse_choice(rules: Rules, text: str, reason: str | None = None) -> Choice:
    """Read a member's choice for these rules; raise ChoiceError when it cannot be accepted.

    Words and option names are case-insensitive and options may be given by 1-based number:
    `yes`, `-1`, `sign-off`, `A, C` (approval; `none` or `abstain` approves nothing),
    `B > A > C` (ranked and irv; unranked options tie last). A `no` or a `-1` needs a reason.
    An option named like a number or `none` is matched by name first.
    """
    cleaned = text.strip()
    if rules.method not in CHOICE_METHODS:
        word = cleaned.casefold()
        if word not in _WORDS[rules.method]:
            raise ChoiceError("error.vote.bad_choice", choices=_forms(rules))
        if word in _NEEDS_REASON and not (reason and reason.strip()):
            raise ChoiceError("error.vote.reason_needed", choice=word)
        return word
    if not cleaned:
        raise ChoiceError("error.vote.bad_choice", choices=_forms(rules))
    if _find_option(rules, cleaned) is None and cleaned.casefold() in _ABSTAIN_WORDS:
        return frozenset() if rules.method == Method.APPROVAL else ()
    separator = _SEPARATOR[rules.method]
    other = ">" if separator == "," else ","
    picked: list[int] = []
    for raw in cleaned.split(separator):
        item = raw.strip()
        index = _find_option(rules, item) if item else None
        if index is None:
            if not item or other in item:
                # An empty item, or the other method's form ("A,B" on a ranked vote).
                raise ChoiceError("error.vote.bad_choice", choices=_forms(rules))
            raise ChoiceError("error.vote.unknown_option", option=item)
        if index in picked:
            raise ChoiceError("error.vote.repeated_option", option=rules.options[index])
        picked.append(index)
    return frozenset(picked) if rules.method == Method.APPROVAL else tuple(picked)


def _is_choice(rules: Rules, choice: Choice) -> bool:
    """Tell whether `choice` is a well-formed choice for these rules."""
    if rules.method not in CHOICE_METHODS:
        return isinstance(choice, str) and choice in _WORDS[rules.method]
    expected = frozenset if rules.method == Method.APPROVAL else tuple
    if not isinstance(choice, expected):
        return False
    indexes = list(choice)
    return len(set(indexes)) == len(indexes) and all(
        isinstance(index, int) and 0 <= index < len(rules.options) for index in indexes
    )


def canonical(rules: Rules, choice: Choice) -> str:
    """Return the stored text of a choice: `yes`, `+1`, `1,3` (approval), `2>1>3` (ranked)."""
    if not _is_choice(rules, choice):
        raise ChoiceError("error.vote.bad_choice", choices=_forms(rules))
    if isinstance(choice, str):
        return choice
    if not choice:
        return _ABSTAIN
    if isinstance(choice, frozenset):
        return ",".join(str(index + 1) for index in sorted(choice))
    return ">".join(str(index + 1) for index in choice)


def from_canonical(rules: Rules, text: str) -> Choice:
    """Read back a choice stored by `canonical` (no reason is checked)."""
    choice: Choice
    if rules.method not in CHOICE_METHODS:
        choice = text
    elif text == _ABSTAIN:
        choice = frozenset() if rules.method == Method.APPROVAL else ()
    else:
        parts = text.split(_SEPARATOR[rules.method])
        if not all(_WHOLE.fullmatch(part) for part in parts):
            raise ChoiceError("error.vote.bad_choice", choices=_forms(rules))
        indexes = tuple(int(part) - 1 for part in parts)
        choice = frozenset(indexes) if rules.method == Method.APPROVAL else indexes
        if len(choice) != len(indexes):
            raise ChoiceError("error.vote.bad_choice", choices=_forms(rules))
    if not _is_choice(rules, choice):
        raise ChoiceError("error.vote.bad_choice", choices=_forms(rules))
    return choice


def describe(rules: Rules, choice: Choice) -> str:
    """Return a choice as people read it: `yes`, `A, C`, `B > A > C`."""
    if not _is_choice(rules, choice):
        raise ChoiceError("error.vote.bad_choice", choices=_forms(rules))
    if isinstance(choice, str):
        return choice
    if not choice:
        return _ABSTAIN
    if isinstance(choice, frozenset):
        return ", ".join(rules.options[index] for index in sorted(choice))
    return " > ".join(rules.options[index] for index in choice)


@dataclass(frozen=True)
class Result:
    """The full tally of a vote: outcome, counts, and how choice methods reached them."""

    outcome: Outcome
    ballots: int  # ballots cast (abstentions included)
    quorum_required: int  # 0 when no quorum is set
    quorum_met: bool
    # yes/no: {"yes", "no", "abstain"}; consent {"+1", "0", "-1"}; sign-off {"sign-off",
    # "missing"}; approval: approvals per option name; ranked/irv: first preferences per name.
    counts: dict[str, int]
    winners: tuple[str, ...] = ()  # approval / ranked / irv option names, in order
    ranking: tuple[str, ...] = ()  # ranked: the full Schulze order; approval: by approvals
    rounds: tuple[dict[str, int], ...] = ()  # irv: counts per continuing option per round
    eliminated: tuple[str, ...] = ()  # irv: the option eliminated in each round, in order
    pairwise: dict[str, dict[str, int]] = field(default_factory=dict)  # ranked: d[a][b]
    strongest: dict[str, dict[str, int]] = field(default_factory=dict)  # ranked: p[a][b]
    lot: tuple[str, ...] = ()  # options whose order was drawn by lot (empty: no lot)
    threshold: Fraction | None = None  # yes/no methods: the threshold applied


def draw_lot(seed: str, items: Sequence[str]) -> list[str]:
    """Order `items` by a lot anyone can draw again by hand.

    For each item, take the SHA-256 digest of the UTF-8 text made of the seed, one newline
    ("\\n") and the item, written as 64 lowercase hexadecimal digits (what `sha256sum` prints
    for `printf '%s\\n%s' SEED ITEM`). Sort the items by these digests as text, smallest first;
    the first item is the one the lot favours. Equal digests do not happen in practice; if they
    did, the item text would decide. Closing a vote uses the hash of its closing audit entry
    as the seed, so the draw is fixed only once the vote is closed.
    """
    return sorted(items, key=lambda item: (_lot_digest(seed, item), item))


def _lot_digest(seed: str, item: str) -> str:
    return hashlib.sha256(f"{seed}\n{item}".encode()).hexdigest()


def tally(
    rules: Rules, choices: Iterable[Choice], *, open_concerns: int = 0, lot_seed: str = ""
) -> Result:
    """Count one choice per voter under these rules; the order of `choices` never matters.

    Choices must be what `parse_choice` or `from_canonical` return for these rules.
    """
    problem = check_rules(rules)
    if problem is not None:
        raise ValueError(problem)
    # Identical ballots are counted once with their multiplicity (C-level hashing), which is
    # also what makes every result independent of the order ballots arrive in.
    votes_cast: Counter[Choice] = Counter(choices)
    ballots = votes_cast.total()
    required = rules.quorum.required(rules.electorate) if rules.quorum is not None else 0
    met = ballots >= required
    if rules.method in CHOICE_METHODS:
        return _tally_choices(rules, votes_cast, ballots, required, met, lot_seed)
    words = _WORDS[rules.method]
    unknown = set(votes_cast) - set(words)
    if unknown:
        raise ValueError(f"choices not valid for {rules.method}: {sorted(map(str, unknown))}")
    counts = {word: votes_cast[word] for word in words}
    threshold: Fraction | None = None
    if rules.method in YES_NO:
        threshold = rules.effective_threshold()
        passed = _passes(rules.method, counts["yes"], counts["no"], threshold)
        outcome = Outcome.PASSED if passed else Outcome.FAILED
    elif rules.method == Method.CONSENT:
        outcome = Outcome.BLOCKED if counts["-1"] else Outcome.PASSED
    else:
        signed = counts["sign-off"]
        counts["missing"] = max(rules.electorate - signed, 0)
        enough = signed >= rules.electorate - rules.sign_off_allowance
        outcome = Outcome.PASSED if enough and open_concerns == 0 else Outcome.FAILED
    if not met:
        outcome = Outcome.NO_QUORUM
    return Result(outcome, ballots, required, met, counts, threshold=threshold)


def _passes(method: Method, yes: int, no: int, threshold: Fraction) -> bool:
    """Tell whether a yes/no vote passes on its yes share of the yes and no ballots."""
    if yes + no == 0:
        return False
    share = Fraction(yes, yes + no)
    # A majority needs strictly more than its threshold, so a tie at 1/2 fails (the status
    # quo wins); a supermajority needs at least its threshold.
    return share > threshold if method == Method.MAJORITY else share >= threshold


def _tally_choices(
    rules: Rules,
    votes_cast: Counter[Choice],
    ballots: int,
    required: int,
    met: bool,
    lot_seed: str,
) -> Result:
    options = rules.options
    size = len(options)
    lot_rank = {name: place for place, name in enumerate(draw_lot(lot_seed, options))}
    lot_place = [lot_rank[name] for name in options]
    tally_counts = [0] * size
    expressed = False  # any ballot other than an abstention
    expected = frozenset if rules.method == Method.APPROVAL else tuple
    for choice, weight in votes_cast.items():
        if not isinstance(choice, expected):
            raise ValueError(f"choice not valid for {rules.method}: {choice!r}")
        if not choice:
            continue
        expressed = True
        if isinstance(choice, frozenset):
            for index in choice:
                tally_counts[index] += weight
        elif isinstance(choice, tuple):
            tally_counts[choice[0]] += weight
    counts = {options[index]: tally_counts[index] for index in range(size)}
    if not met:
        return Result(Outcome.NO_QUORUM, ballots, required, met, counts)
    if not expressed:
        # Nobody chose anything: no option is picked by lot alone.
        return Result(Outcome.FAILED, ballots, required, met, counts)
    if rules.method == Method.APPROVAL:
        order = sorted(range(size), key=lambda index: (-tally_counts[index], lot_place[index]))
        drawn = [
            index
            for index in order
            if sum(1 for other in order if tally_counts[other] == tally_counts[index]) > 1
        ]
        ranking = tuple(options[index] for index in order)
        return Result(
            Outcome.DECIDED,
            ballots,
            required,
            met,
            counts,
            winners=ranking[: rules.seats],
            ranking=ranking,
            lot=tuple(options[index] for index in drawn),
        )
    # Checked above: every choice is a tuple (empty ones, abstentions, count for nothing).
    rankings = cast("Counter[tuple[int, ...]]", votes_cast)
    if rules.method == Method.IRV:
        winner, rounds, eliminated, drawn = _instant_runoff(size, rankings, lot_place)
        return Result(
            Outcome.DECIDED,
            ballots,
            required,
            met,
            counts,
            winners=(options[winner],),
            rounds=tuple(
                {options[index]: votes for index, votes in counted.items()} for counted in rounds
            ),
            eliminated=tuple(options[index] for index in eliminated),
            lot=tuple(options[index] for index in drawn),
        )
    d = pairwise_preferences(size, rankings)
    p = strongest_paths(d)
    order, drawn = _schulze_order(p, lot_place)
    ranking = tuple(options[index] for index in order)
    return Result(
        Outcome.DECIDED,
        ballots,
        required,
        met,
        counts,
        winners=ranking[: rules.seats],
        ranking=ranking,
        pairwise=_named(options, d),
        strongest=_named(options, p),
        lot=tuple(options[index] for index in drawn),
    )


def _named(options: tuple[str, ...], matrix: list[list[int]]) -> dict[str, dict[str, int]]:
    return {
        options[a]: {options[b]: matrix[a][b] for b in range(len(options)) if b != a}
        for a in range(len(options))
    }


def pairwise_preferences(size: int, rankings: Counter[tuple[int, ...]]) -> list[list[int]]:
    """Count d[a][b], the voters ranking option a above option b.

    A ranked option is above every option its ballot leaves unranked; unranked options tie.
    """
    d = [[0] * size for _ in range(size)]
    # Split the multiplicities into binary layers: layer k holds the distinct rankings whose
    # count has bit k set, so each layer is counted without weights and added shifted by k.
    layers: dict[int, list[tuple[int, ...]]] = {
        0: [ranking for ranking, weight in rankings.items() if weight == 1 and ranking]
    }
    for ranking, weight in rankings.items():
        if weight > 1 and ranking:
            for bit in range(weight.bit_length()):
                if weight >> bit & 1:
                    layers.setdefault(bit, []).append(ranking)
    for bit, layer in layers.items():
        if not layer:
            continue
        counted = _pairwise_bitsets(size, layer) if size < 256 else _pairwise_loops(size, layer)
        for a in range(size):
            row, add = d[a], counted[a]
            for b in range(size):
                row[b] += add[b] << bit
    return d


def _pairwise_bitsets(size: int, layer: list[tuple[int, ...]]) -> list[list[int]]:
    """Count unweighted pairwise preferences with one byte per ballot and C-level popcounts.

    Column q of the ballots, as bytes, is translated into one bitset per option ("ballots
    with this option at place q", one 0/1 byte each), so "a above b" is a few ANDs and
    `int.bit_count` calls per pair instead of a Python loop per ballot.
    """
    width = max(map(len, layer))
    if min(map(len, layer)) < width:
        padding = (size,) * width  # `size` marks an unranked place; it matches no option
        layer = [ranking + padding[len(ranking) :] for ranking in layer]
    # All ballots end to end, then every width-th byte: column q is a C-level slice.
    flat = bytes(chain.from_iterable(layer))
    columns = [flat[place::width] for place in range(width)]
    everyone = int.from_bytes(b"\x01" * len(layer), "little")
    at: list[list[int]] = []  # at[a][q]: ballots placing a at place q
    above: list[list[int]] = []  # above[a][q]: ballots placing a somewhere before place q
    ranked: list[int] = []  # ballots ranking a at all
    for option in range(size):
        marks = bytearray(256)
        marks[option] = 1
        places = [int.from_bytes(column.translate(marks), "little") for column in columns]
        before, prefixes = 0, []
        for place in places:
            prefixes.append(before)
            before |= place
        at.append(places)
        above.append(prefixes)
        ranked.append(before)
    d = [[0] * size for _ in range(size)]
    for b in range(size):
        unranked_b = everyone ^ ranked[b]
        places_b = at[b]
        for a in range(size):
            if a == b:
                continue
            prefixes_a = above[a]
            total = (ranked[a] & unranked_b).bit_count()
            for place in range(1, width):
                total += (places_b[place] & prefixes_a[place]).bit_count()
            d[a][b] = total
    return d


def _pairwise_loops(size: int, layer: list[tuple[int, ...]]) -> list[list[int]]:
    """Count unweighted pairwise preferences plainly (only for very many options)."""
    d = [[0] * size for _ in range(size)]
    for ranking in layer:
        unranked = set(range(size)).difference(ranking)
        for place, a in enumerate(ranking):
            row = d[a]
            for b in ranking[place + 1 :]:
                row[b] += 1
            for b in unranked:
                row[b] += 1
    return d


def strongest_paths(d: list[list[int]]) -> list[list[int]]:
    """Return Schulze's p[a][b]: the strength of the strongest path from a to b.

    A link a -> b exists when d[a][b] > d[b][a] and has strength d[a][b] (winning votes); a
    path is as strong as its weakest link; p is 0 where no path exists (widest paths, as in
    Floyd-Warshall).
    """
    size = len(d)
    p = [[d[a][b] if a != b and d[a][b] > d[b][a] else 0 for b in range(size)] for a in range(size)]
    for via in range(size):
        through = p[via]
        for a in range(size):
            to_via = p[a][via]
            if a == via or not to_via:
                continue
            row = p[a]
            for b in range(size):
                if b not in (a, via):
                    row[b] = max(row[b], min(to_via, through[b]))
    return p


def _schulze_order(p: list[list[int]], lot_place: list[int]) -> tuple[list[int], list[int]]:
    """Order the options by Schulze's relation (a above b when p[a][b] > p[b][a]).

    The relation is a strict partial order (Schulze proved it transitive), so each step takes
    an option no remaining option beats; when several qualify the lot picks, and those options
    are reported as drawn.
    """
    remaining = sorted(range(len(p)), key=lot_place.__getitem__)
    order: list[int] = []
    drawn: set[int] = set()
    while remaining:
        unbeaten = [a for a in remaining if all(p[a][b] >= p[b][a] for b in remaining)]
        if len(unbeaten) > 1:
            drawn.update(unbeaten)
        pick = (unbeaten or remaining)[0]  # the earliest in the lot's order
        order.append(pick)
        remaining.remove(pick)
    return order, [a for a in order if a in drawn]


def _instant_runoff(
    size: int, rankings: Counter[tuple[int, ...]], lot_place: list[int]
) -> tuple[int, list[dict[int, int]], list[int], list[int]]:
    """Run instant-runoff rounds; return the winner, each round's counts, the eliminated, drawn.

    Ballots sit in piles under their highest continuing option, as in a hand count, so a
    round only moves the eliminated option's pile instead of recounting every ballot.
    """
    piles: list[list[tuple[tuple[int, ...], int, int]]] = [[] for _ in range(size)]
    votes = [0] * size
    for ranking, weight in rankings.items():
        if not ranking:
            continue  # an abstention: never a continuing ballot
        first = ranking[0]
        piles[first].append((ranking, weight, 0))
        votes[first] += weight
    continuing = [True] * size
    rounds: list[dict[int, int]] = []
    eliminated: list[int] = []
    drawn: list[int] = []
    while True:
        alive = [option for option in range(size) if continuing[option]]
        counted = {option: votes[option] for option in alive}
        rounds.append(counted)
        leader = max(alive, key=votes.__getitem__)
        # A majority of the continuing (non-exhausted) ballots wins.
        if 2 * votes[leader] > sum(counted.values()) or len(alive) == 1:
            return leader, rounds, eliminated, drawn
        fewest = min(counted.values())
        tied = [option for option in alive if votes[option] == fewest]
        if len(tied) > 1 and len(rounds) > 1:
            before = rounds[-2]
            least = min(before[option] for option in tied)
            tied = [option for option in tied if before[option] == least]
        if len(tied) > 1:
            drawn.extend(option for option in tied if option not in drawn)
        loser = max(tied, key=lot_place.__getitem__)  # the lot's last goes
        eliminated.append(loser)
        continuing[loser] = False
        votes[loser] = 0
        for ranking, weight, place in piles[loser]:
            # The ballot's highest continuing option below the one just eliminated, if any.
            nxt = place + 1
            while nxt < len(ranking) and not continuing[ranking[nxt]]:
                nxt += 1
            if nxt < len(ranking):
                target = ranking[nxt]
                piles[target].append((ranking, weight, nxt))
                votes[target] += weight
        piles[loser] = []


def settled(rules: Rules, choices: Iterable[Choice], outstanding: int) -> bool:
    """Tell whether the outcome can no longer change, whatever the `outstanding` voters do.

    Ballots already cast are taken as they stand. Exact for yes/no and consent; for approval,
    ranked and irv a safe test that may answer False for a vote already decided (a tie the lot
    would break counts as open, since the seed is known only at close). Sign-off: never, the
    comment period decides.
    """
    if rules.method == Method.SIGN_OFF:
        return False
    votes_cast: Counter[Choice] = Counter(choices)
    ballots = votes_cast.total()
    required = rules.quorum.required(rules.electorate) if rules.quorum is not None else 0
    most = ballots + outstanding  # ballots if everyone outstanding votes
    outcomes: set[Outcome] = set()
    if ballots < required:
        outcomes.add(Outcome.NO_QUORUM)
    if rules.method in YES_NO:
        if most >= required:
            threshold = rules.effective_threshold()
            yes, no = votes_cast["yes"], votes_cast["no"]
            # Passing is monotone: more yes never hurts, more no never helps. So it can pass iff
            # it passes when all outstanding vote yes, and fail iff it fails when all vote no.
            if _passes(rules.method, yes + outstanding, no, threshold):
                outcomes.add(Outcome.PASSED)
            if not _passes(rules.method, yes, no + outstanding, threshold):
                outcomes.add(Outcome.FAILED)
        return len(outcomes) == 1
    if rules.method == Method.CONSENT:
        if most >= required:
            if votes_cast["-1"] or outstanding:
                outcomes.add(Outcome.BLOCKED)
            if not votes_cast["-1"]:
                outcomes.add(Outcome.PASSED)
        return len(outcomes) == 1
    if outstanding == 0:
        return True
    if ballots < required:
        return most < required  # no quorum for sure, or it may still be reached
    if not any(votes_cast):
        return False  # only abstentions so far: a first real choice would decide something
    size = len(rules.options)
    if rules.method == Method.APPROVAL:
        approvals = [0] * size
        for choice, weight in votes_cast.items():
            if isinstance(choice, frozenset):
                for index in choice:
                    approvals[index] += weight
        ordered = sorted(approvals, reverse=True)
        # Each outstanding voter adds at most one approval to any option, so the winners and
        # their order are fixed when every gap down to the first loser exceeds `outstanding`.
        return all(ordered[i] - ordered[i + 1] > outstanding for i in range(rules.seats))
    rankings: Counter[tuple[int, ...]] = Counter()
    for choice, weight in votes_cast.items():
        if isinstance(choice, tuple) and choice:
            rankings[choice] = weight
    if rules.method == Method.IRV:
        # A first-round majority that survives every outstanding voter ranking another first.
        firsts = Counter[int]()
        for ranking, weight in rankings.items():
            firsts[ranking[0]] += weight
        continuing = rankings.total() + outstanding
        return 2 * max(firsts.values()) > continuing
    # Ranked: each new ballot moves a pairwise margin d[a][b] - d[b][a] by at most one. If some
    # option beats every other by more than `outstanding`, it stays a Condorcet winner and so
    # the Schulze winner; once it is placed, the same test on the rest fixes the next seat.
    d = pairwise_preferences(size, rankings)
    remaining = set(range(size))
    for _ in range(rules.seats):
        safe = [
            a
            for a in remaining
            if all(d[a][b] - d[b][a] > outstanding for b in remaining if b != a)
        ]
        if not safe:
            return False
        remaining.discard(safe[0])
    return True
