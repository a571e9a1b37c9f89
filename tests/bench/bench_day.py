"""``make bench ONLY=day``: the simulated campaign day of
:mod:`tests.processors.results.campaign_day` over 10,000 chains of one to three devices (about
20,000 records; ``--events`` overrides the chains), 40 predictive simulated agents, eight
virtual hours from 19:00 New York time. The day's rules are checked at its end (a broken one
fails the run); the figures are what the day did and how long it took.

Figures: ``day_calls``, ``day_results_treated``, ``day_retried``, ``day_moved_on`` (records
whose chain went on to its next device), ``day_wall_s``.

Then embedded equals Kafka at a larger scale than ``make test``'s: a day over LOCKSTEP_CHAINS
chains (10 agents, four virtual hours) runs in lockstep (every processor and read model caught
up before each dialer round) on the embedded host and on a real broker
(``tests.kafka.running()``), and the two outcomes are compared call for call and record for
record (a difference fails the run): ``day_lockstep_calls``, ``day_lockstep_kafka_equal`` (1)
and ``day_lockstep_kafka_wall_s``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from processors.dialer.virtual import run_virtual
from processors.telephony.simulator import Rates, Timings
from tests import kafka
from tests.bench.figures import Figure, Options
from tests.processors.dialer.support import lab
from tests.processors.results.campaign_day import EVENING, check, lockstep_day, plan_day

CHAINS = 10_000
AGENTS = 40
HOURS = 8
LOCKSTEP_CHAINS = 1_000


def run(options: Options) -> Iterator[Figure]:
    chains = options.events or CHAINS
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory, lab(
        Path(directory), seed=7, rates=Rates(answer_person=0.3), timings=Timings(talk_mean_s=60.0), epoch=EVENING
    ) as L:
        day = plan_day(L, chains, agents=AGENTS)
        run_virtual(L.dialer, L.clock, until=L.clock.now() + HOURS * 3600.0)
        L.settle()
        counts = check(L, day, Path(directory))
    wall = time.perf_counter() - started
    print(f"campaign day: {chains} chains, {counts}", file=sys.stderr)
    yield Figure("day_calls", counts["calls"], "calls")
    yield Figure("day_results_treated", counts["treated"], "results")
    yield Figure("day_retried", counts["retried"], "records")
    yield Figure("day_moved_on", counts["moved_on"], "records")
    yield Figure("day_wall_s", wall, "s")

    yield from _embedded_equals_kafka(LOCKSTEP_CHAINS if options.events is None else max(40, chains // 10))


def _embedded_equals_kafka(chains: int) -> Iterator[Figure]:
    with tempfile.TemporaryDirectory() as directory, kafka.running() as broker:
        embedded, counts = lockstep_day(Path(directory) / "embedded", chains, agents=10, hours=4)
        started = time.perf_counter()
        on_kafka, _ = lockstep_day(Path(directory) / "kafka", chains, agents=10, hours=4, kafka=broker.bootstrap)
        wall = time.perf_counter() - started
    print(f"lockstep day: {chains} chains, {counts}", file=sys.stderr)
    if on_kafka != embedded:
        parted = next(
            (n for n, (a, b) in enumerate(zip(on_kafka["calls"], embedded["calls"], strict=False)) if a != b), None
        )
        raise AssertionError(f"the day on Kafka differs from the embedded one (first different call: {parted})")
    yield Figure("day_lockstep_calls", counts["calls"], "calls")
    yield Figure("day_lockstep_kafka_equal", 1, "bool")
    yield Figure("day_lockstep_kafka_wall_s", wall, "s")
