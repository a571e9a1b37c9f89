"""The hindsight optimum of a fixed ratio: the highest fixed ratio that keeps the day's abandon
rate at or under the target, found by bisection in the same simulator on the same seeds.

Two fixed-ratio forms are searched and the better one is the optimum:

- ``lines_per_agent``: the product's own progressive knob, ``⌊m·(ready − waiting) − dialing⌋``,
  m ∈ [1, 10] (the dialing profile's range);
- ``dial_level``: VICIdial's RATIO, calls in progress = level × agents, level ∈ [1, 3]
  (``adaptive_maximum_level``).

The abandon rate of a fixed ratio rises with the ratio (with common random numbers the same calls
come back in the same order, so the curve is nearly monotone); the bisection keeps the highest
ratio seen to hold the target and reports its runs. To save time the halvings may run on
fewer seeds than the figures (the ratio found is then checked on all of them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tests.bench.pacing.campaign import Cell, Day, Policy, Result
from tests.bench.pacing.policies import DialLevel, Progressive
from tests.bench.pacing.rates import abandon_pct

FORMS: dict[str, tuple[float, float]] = {"lines_per_agent": (1.0, 10.0), "dial_level": (1.0, 3.0)}


def policy_for(form: str, value: float) -> Policy:
    if form == "lines_per_agent":
        return Progressive(value, name="hindsight")
    return DialLevel(value, name="hindsight")


def pooled_abandon_pct(results: Sequence[Result]) -> float:
    return abandon_pct(sum(r.abandoned for r in results), sum(r.live for r in results))


def pooled_occupancy(results: Sequence[Result]) -> float:
    logged_in = sum(r.logged_in_s for r in results)
    return sum(r.busy_s for r in results) / logged_in if logged_in else 0.0


@dataclass
class Found:
    form: str
    value: float  # the ratio; 0 when no ratio of the form holds the target
    results: list[Result]
    tried: list[tuple[float, float, float]]  # (ratio, abandon %, occupancy)

    @property
    def occupancy(self) -> float:
        return pooled_occupancy(self.results) if self.results else 0.0


def search(
    cell: Cell,
    seeds: Sequence[int],
    form: str,
    steps: int,
    run: Callable[[Cell, Policy, int], Result] | None = None,
    search_seeds: int | None = None,
) -> Found:
    """Bisect ``form``'s ratio over its range for the highest one whose pooled abandon % is at
    most the cell's target: ``steps`` halvings on the first ``search_seeds`` seeds (all of them
    when None), then the ratio found runs on every seed and steps down by the last bracket's
    width while the pooled day breaks the target."""
    simulate = run or (lambda c, p, s: Day(c, s, p.name).run(p))
    low, high = FORMS[form]
    floor = low
    tried: list[tuple[float, float, float]] = []
    first = list(seeds[:search_seeds] if search_seeds else seeds)

    runs: dict[tuple[float, int], Result] = {}

    def evaluate(value: float, on: Sequence[int]) -> tuple[bool, list[Result]]:
        for seed in on:
            if (value, seed) not in runs:
                runs[value, seed] = simulate(cell, policy_for(form, value), seed)
        results = [runs[value, seed] for seed in on]
        pct = pooled_abandon_pct(results)
        tried.append((value, pct, pooled_occupancy(results)))
        return pct <= cell.target_pct, results

    ok, best = evaluate(low, first)
    if not ok:
        return Found(form, 0.0, [], tried)
    best_value = low
    ok, results = evaluate(high, first)
    if ok:
        best_value, best = high, results
    else:
        for _ in range(steps):
            middle = (low + high) / 2.0
            ok, results = evaluate(middle, first)
            if ok:
                low, best_value, best = middle, middle, results
            else:
                high = middle
    if len(first) == len(seeds):
        return Found(form, best_value, best, tried)
    step = max(high - low, 1e-3)
    while True:
        ok, best = evaluate(best_value, seeds)
        if ok:
            return Found(form, best_value, best, tried)
        if best_value <= floor:
            return Found(form, 0.0, [], tried)
        best_value = max(floor, best_value - step)
