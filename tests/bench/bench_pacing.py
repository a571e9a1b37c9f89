"""Predictive pacing against progressive, VICIdial's ADAPT_* and the hindsight-best fixed ratio.

A virtual-time 8-hour day (:mod:`tests.bench.pacing.campaign`, on the telephony simulator) for
10, 20, 50 and 100 agents × live-answer rate 20 % and 30 % × mean talk 90 s and 180 s
(lognormal), wrap-up 15 s, abandon definition 2 s, target 3 %, the simulator's timings (pacing-
notes §0/§1a/§6; see :mod:`processors.telephony.simulator`). Policies, side by side on the same
seeds (common random numbers: call *n* is the same call under every policy):

- ``progressive``: one line per ready agent;
- ``predictive``: :func:`domain.pacing.decide`, the function the dialer runs, with the default
  :class:`domain.pacing.Tuning` in every cell;
- ``vicidial_hard`` / ``vicidial_tapered``: the ADAPT_HARD_LIMIT / ADAPT_TAPERED port
  (:mod:`tests.bench.pacing.vicidial`) at VICIdial's defaults, but with
  ``adaptive_latest_server_time`` at the day's end (17:00: the campaign dials 09:00–17:00; at
  the default 21:00 TAPERED never throttles before 11:00). Where a method's day breaks 3 % its
  ``adaptive_dropped_percentage`` is lowered (2.75, 2.5, 2.25, 2, 1.5, 1, 0.5, 0) until it
  holds 3 %, and that run is the one compared; the default run is printed too (``…_default``).
  A method that holds 3 % at no setting (``…_holds_target 0``: its run at 0 % is printed) is
  left out of the comparison: it is not a lawful baseline;
- ``hindsight``: the highest fixed lines-per-agent ratio that holds 3 % over the same seeds, by
  bisection (:mod:`tests.bench.pacing.hindsight`; the halvings run on the first seed, the ratio
  found is then run on all seeds and stepped down while it breaks 3 %).

A cell's figures pool its seeds: abandon % = Σ abandoned ÷ Σ live answers, occupancy = Σ time
on calls and in wrap-up ÷ Σ logged-in time. Figures, per cell ``<agents>a_<rate>_<talk>s``::

    pacing_<cell>_occupancy_<policy>      pacing_<cell>_abandon_pct_<policy>

and ``pacing_max_abandon_pct_predictive`` (worst cell over the day),
``pacing_max_seed_abandon_pct_predictive`` (worst single seed-day),
``pacing_max_hourly_abandon_pct_predictive`` (worst rolling hour of any seed-day, for
information), ``pacing_20a_30_180s_occupancy_predictive``,
``pacing_min_occupancy_vs_hindsight_ratio``, ``pacing_min_occupancy_vs_vicidial_ratio``
(against the better VICIdial method of the cell that holds 3 %) and
``pacing_decision_us_predictive_100a`` (mean CPU time of one ``decide`` with 100 agents, the
worst of the four 100-agent cells). The dialer's own figures come from :func:`extra_figures`.

Options: ``--rounds`` is the number of seeds (default 3); ``--events N`` shortens the day to N
simulated seconds (a quick look only). Cells run on two worker processes.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.bench.figures import Figure, Options
from tests.bench.pacing import hindsight
from tests.bench.pacing.campaign import Cell, Day, Policy, Result
from tests.bench.pacing.hindsight import pooled_abandon_pct, pooled_occupancy
from tests.bench.pacing.policies import Predictive, Progressive
from tests.bench.pacing.vicidial import Adapt, Method

AGENTS = (10, 20, 50, 100)
LIVE_RATES = (0.2, 0.3)
TALK_S = (90.0, 180.0)
TARGET_PCT = 3.0
DAY_END_HHMM = 1700
LOWERED = (2.75, 2.5, 2.25, 2.0, 1.5, 1.0, 0.5, 0.0)
HINDSIGHT_STEPS = 7
HINDSIGHT_SEARCH_SEEDS = 1  # the halvings run on the first seed; the ratio found runs on all
# The fixed-ratio forms searched (tests.bench.pacing.hindsight.FORMS). "dial_level" (VICIdial's
# RATIO) was searched too in a full run and was never better than lines per agent by more than
# 0.001 of occupancy (100a_30_90s: 0.9334 against 0.9330) while costing more than the rest of
# the search; add it here to search it again.
HINDSIGHT_FORMS: tuple[str, ...] = ("lines_per_agent",)
WORKERS = 2
VICIDIAL: dict[str, Method] = {"vicidial_hard": "ADAPT_HARD_LIMIT", "vicidial_tapered": "ADAPT_TAPERED"}


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def cells(hours: float) -> list[Cell]:
    return [
        Cell(agents, rate, talk, target_pct=TARGET_PCT, hours=hours)
        for agents in AGENTS
        for rate in LIVE_RATES
        for talk in TALK_S
    ]


def day(cell: Cell, policy: Policy, seed: int) -> Result:
    return Day(cell, seed, policy.name).run(policy)


# -- jobs (one process each) --------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    kind: str  # base | vicidial_hard | vicidial_tapered | hindsight
    cell: Cell
    seeds: tuple[int, ...]
    form: str = ""

    @property
    def cost(self) -> float:
        """A rough guess of its run time, to start the longest jobs first."""
        c = self.cell
        calls = c.agents / (c.live_rate * (c.talk_s + c.wrap_up_s))
        if self.kind == "hindsight":
            return calls * (HINDSIGHT_STEPS + 2.0 + len(self.seeds))
        return calls * {"base": 4.0}.get(self.kind, 2.5) * len(self.seeds)


@dataclass
class Outcome:
    job: Job
    runs: dict[str, list[Result]] = field(default_factory=dict)  # policy -> one Result per seed
    notes: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def run_job(job: Job) -> Outcome:
    started = time.perf_counter()
    outcome = Outcome(job)
    cell, seeds = job.cell, job.seeds
    if job.kind == "base":
        outcome.runs["progressive"] = [day(cell, Progressive(), s) for s in seeds]
        predictive: list[Result] = []
        spent, decisions = 0.0, 0
        for seed in seeds:
            policy = Predictive.for_cell(cell)
            predictive.append(day(cell, policy, seed))
            spent += policy.decide_s
            decisions += policy.decide_n
        outcome.runs["predictive"] = predictive
        outcome.notes["decision_us"] = 1e6 * spent / decisions if decisions else 0.0
    elif job.kind in VICIDIAL:
        method = VICIDIAL[job.kind]

        def adapt(dropped: float) -> list[Result]:
            return [
                day(cell, Adapt(method, dropped, latest_server_time=DAY_END_HHMM, name=job.kind), s)
                for s in seeds
            ]

        default = adapt(3.0)
        outcome.runs[job.kind + "_default"] = default
        chosen, dropped = default, 3.0
        tried = [(3.0, pooled_abandon_pct(default))]
        for lowered in LOWERED:
            if pooled_abandon_pct(chosen) <= cell.target_pct:
                break
            chosen, dropped = adapt(lowered), lowered
            tried.append((lowered, pooled_abandon_pct(chosen)))
        outcome.runs[job.kind] = chosen
        outcome.notes["dropped_pct"] = dropped
        outcome.notes["holds"] = pooled_abandon_pct(chosen) <= cell.target_pct
        outcome.notes["tried"] = tried
    else:
        found = hindsight.search(cell, seeds, job.form, HINDSIGHT_STEPS, run=day,
                                 search_seeds=HINDSIGHT_SEARCH_SEEDS)
        outcome.runs["hindsight"] = found.results
        outcome.notes.update(form=found.form, value=found.value, tried=found.tried)
    outcome.seconds = time.perf_counter() - started
    return outcome


def jobs(all_cells: Sequence[Cell], seeds: tuple[int, ...]) -> list[Job]:
    out: list[Job] = []
    for cell in all_cells:
        out.append(Job("base", cell, seeds))
        out += [Job(kind, cell, seeds) for kind in VICIDIAL]
        out += [Job("hindsight", cell, seeds, form) for form in HINDSIGHT_FORMS]
    return sorted(out, key=lambda j: -j.cost)


# -- figures ------------------------------------------------------------------------------


def extra_figures(options: Options) -> Iterable[Figure]:
    """The dialer's own figures in the same group (``pacing_calls_to_suppressed``,
    ``pacing_calls_outside_window``): the real dialer on a list seeded with suppressed numbers
    and zones whose window closes during the day (:mod:`tests.bench.pacing_gate`)."""
    from tests.bench import pacing_gate

    return pacing_gate.run(options)


def _best_hindsight(found: list[Outcome]) -> Outcome | None:
    usable = [o for o in found if o.runs.get("hindsight")]
    return max(usable, key=lambda o: pooled_occupancy(o.runs["hindsight"]), default=None)


def figures(all_cells: Sequence[Cell], outcomes: list[Outcome]) -> Iterator[Figure]:
    by_cell: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_cell.setdefault(outcome.job.cell.name, []).append(outcome)
    worst_cell = worst_seed = worst_hour = 0.0
    vs_hindsight: list[float] = []
    vs_vicidial: list[float] = []
    decision_us = 0.0
    occupancy_20_30_180 = 0.0
    for cell in all_cells:
        name = cell.name
        mine = by_cell[name]
        runs: dict[str, list[Result]] = {}
        for outcome in mine:
            runs.update({k: v for k, v in outcome.runs.items() if k != "hindsight"})
        best = _best_hindsight([o for o in mine if o.job.kind == "hindsight"])
        if best is not None:
            runs["hindsight"] = best.runs["hindsight"]
        order = ["progressive", "predictive", "vicidial_hard", "vicidial_tapered", "hindsight",
                 "vicidial_hard_default", "vicidial_tapered_default"]
        occupancy: dict[str, float] = {}
        for policy in order:
            if policy not in runs:
                continue
            occupancy[policy] = pooled_occupancy(runs[policy])
            yield Figure(f"pacing_{name}_occupancy_{policy}", occupancy[policy], "ratio")
            yield Figure(f"pacing_{name}_abandon_pct_{policy}", pooled_abandon_pct(runs[policy]), "%")
        holding: list[float] = []  # the VICIdial methods that hold the target
        for outcome in mine:
            if outcome.job.kind in VICIDIAL:
                yield Figure(f"pacing_{name}_{outcome.job.kind}_dropped_pct",
                             outcome.notes["dropped_pct"], "%")
                yield Figure(f"pacing_{name}_{outcome.job.kind}_holds_target",
                             float(outcome.notes["holds"]), "bool")
                if outcome.notes["holds"]:
                    holding.append(occupancy[outcome.job.kind])
            if outcome.job.kind == "base" and cell.agents == 100:
                decision_us = max(decision_us, outcome.notes["decision_us"])
        if best is not None:
            form = best.notes["form"]
            yield Figure(f"pacing_{name}_hindsight_{form}", best.notes["value"], "ratio")
        predictive = runs["predictive"]
        worst_cell = max(worst_cell, pooled_abandon_pct(predictive))
        worst_seed = max(worst_seed, max(r.abandon_pct for r in predictive))
        worst_hour = max(worst_hour, max(r.worst_hour_pct for r in predictive))
        if occupancy.get("hindsight"):
            vs_hindsight.append(occupancy["predictive"] / occupancy["hindsight"])
        if holding:
            vs_vicidial.append(occupancy["predictive"] / max(holding))
        if name == "20a_30_180s":
            occupancy_20_30_180 = occupancy["predictive"]
    yield Figure("pacing_max_abandon_pct_predictive", worst_cell, "%")
    yield Figure("pacing_max_seed_abandon_pct_predictive", worst_seed, "%")
    yield Figure("pacing_max_hourly_abandon_pct_predictive", worst_hour, "%")
    yield Figure("pacing_20a_30_180s_occupancy_predictive", occupancy_20_30_180, "ratio")
    yield Figure("pacing_min_occupancy_vs_hindsight_ratio", min(vs_hindsight, default=0.0), "ratio")
    yield Figure("pacing_min_occupancy_vs_vicidial_ratio", min(vs_vicidial, default=0.0), "ratio")
    yield Figure("pacing_decision_us_predictive_100a", decision_us, "us")


def _describe(outcome: Outcome) -> str:
    job = outcome.job
    parts = []
    for policy, results in outcome.runs.items():
        parts.append(f"{policy} {pooled_occupancy(results):.3f}/{pooled_abandon_pct(results):.2f}%")
    extra = ""
    if job.kind == "hindsight":
        extra = f" {job.form}={outcome.notes['value']:.3f} tried " + ", ".join(
            f"{v:.3f}:{a:.2f}%" for v, a, _ in outcome.notes["tried"])
    elif job.kind in VICIDIAL:
        extra = f" dropped_pct={outcome.notes['dropped_pct']}" + (
            "" if outcome.notes["holds"] else " (holds 3 % at no setting tried)")
    return f"{job.cell.name} {job.kind}{'/' + job.form if job.form else ''}: " + \
        ", ".join(parts) + extra + f" ({outcome.seconds:.0f} s)"


def run(options: Options) -> Iterator[Figure]:
    seeds = tuple(range(1, max(1, options.rounds) + 1))
    hours = options.events / 3600.0 if options.events else 8.0
    all_cells = cells(hours)
    todo = jobs(all_cells, seeds)
    log(f"pacing: {len(all_cells)} cells × {len(seeds)} seeds, {hours:g} h days, "
        f"{len(todo)} jobs on {WORKERS} workers")
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    context = multiprocessing.get_context("fork")
    with context.Pool(WORKERS) as pool:
        for outcome in pool.imap_unordered(run_job, todo):
            outcomes.append(outcome)
            log(f"[{len(outcomes)}/{len(todo)} {time.perf_counter() - started:.0f} s] "
                + _describe(outcome))
    yield from figures(all_cells, outcomes)
    yield from extra_figures(options)
