"""Tally speed: Schulze and instant-runoff over many random ranked ballots.

    PYTHONPATH=. python benchmarks/tally.py [--ballots 100000] [--options 10] [--repeat 3]

Full random rankings are the worst case (nearly every ballot distinct, so aggregating
identical ballots saves little); partial rankings of length 3 aggregate heavily. Prints the
best of `--repeat` timings for each; it is not a pass/fail test. The target: under 0.3 s each
for 100,000 ballots over 10 options.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from functools import partial

from govbot.domain.voting import Method, Result, Rules, tally

TARGET_SECONDS = 0.3


def random_rankings(
    rng: random.Random, ballots: int, options: int, length: int
) -> list[tuple[int, ...]]:
    """Return `ballots` random rankings of `length` distinct options out of `options`."""
    indexes = range(options)
    return [tuple(rng.sample(indexes, length)) for _ in range(ballots)]


def best_of(repeat: int, run: Callable[[], Result]) -> tuple[float, Result]:
    """Return the fastest of `repeat` runs and the last result."""
    best = float("inf")
    result = run()
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    """Time each method on full and partial random rankings and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--options", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    names = tuple(f"option {index + 1}" for index in range(args.options))
    print(f"{args.ballots:,} ballots over {args.options} options, best of {args.repeat}")
    for label, length in (("full rankings", args.options), ("partial rankings of 3", 3)):
        choices = random_rankings(rng, args.ballots, args.options, length)
        distinct = len(set(choices))
        for method in (Method.RANKED, Method.IRV):
            rules = Rules(method, names)
            seconds, result = best_of(args.repeat, partial(tally, rules, choices))
            verdict = "ok" if seconds < TARGET_SECONDS else "SLOW"
            print(
                f"  {method.value:6} {label:22} {distinct:>7,} distinct  "
                f"{seconds * 1000:7.1f} ms  {verdict}  winner: {result.winners[0]}"
            )


if __name__ == "__main__":
    main()
