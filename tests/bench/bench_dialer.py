"""``make bench ONLY=dialer``: dial decisions per second of one tenant, the pre-dial gate and the
event store in the loop.

One account on the embedded runtime (SQLite store and read models, the embedded suppression
index and its follower, the compliance processor): a progressive group with 100 simulated
agents dials a list of 20,000 records (5 % of them on the account's do-not-call list) on the
telephony simulator in virtual time (no sleeping: the clock jumps to the next event). Talks
are short (20 s) so that the agents free up often. A *decision* is a record the dialer drew and
judged at dial time — placed after the gate allowed it, or returned with the gate's reasons —
with every event that follows from it stored (attempt placed, answered, connected, finished;
record retrieved and updated; agents' calls and wrap-ups).

The clock starts once the compliance processor has checked the setup's records against the
list, and runs with the garbage collector tuned as in the server's process
(:mod:`dialstream.gc_tuning`): with CPython's defaults, each full collection walked every object
the process holds (the modules, the runtime, the setup's records), every thread stopped for
about 50 ms.

Figure: ``dialer_decisions_per_s_embedded`` (the best of ``--rounds``), and, for context,
``dialer_events_per_decision``.
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from dialstream.gc_tuning import tune_for_throughput
from dialstream.store import stored_topic_of
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.dialer.virtual import run_virtual
from processors.telephony.simulator import Rates, Timings
from schemas.records import RecordRetrieved
from schemas.settings import MaxAttemptsPerMinute, PacingSettings
from tests.bench.figures import Figure, Options
from tests.processors.dialer.support import campaign, lab, us_records

RECORDS = 20_000
AGENTS = 100
VIRTUAL_S = 1800.0


def _round(records: int) -> tuple[float, int, int]:
    """(decisions per second, decisions, events stored) of one run."""
    with tempfile.TemporaryDirectory() as directory, lab(
        Path(directory),
        rates=Rates(answer_person=0.3),
        timings=Timings(talk_mean_s=20.0, wrap_up_mean_s=3.0),
        pacing=PacingSettings(max_attempts_per_minute=MaxAttemptsPerMinute(voice=100_000)),
    ) as L:
        rows = us_records(records)
        dnc = L.handlers.suppression.create_list(
            L.account_id, CreateSuppressionList(name="DNC", channel="voice", required=True)
        ).id
        L.handlers.suppression.add_entries(
            L.account_id, dnc, [EntryInput(kind="phone", value=phone) for _, phone, _ in rows[::20]]
        )
        campaign(L, rows, mode="progressive", agents=AGENTS)
        L.settle(every_processor=True)  # the import's compliance check is setup, not dialing
        store = L.runtime.store
        head = store.position()
        thresholds = gc.get_threshold()
        tune_for_throughput()  # as `dialstream up` and the workers do once started
        try:
            started = time.perf_counter()
            run_virtual(L.dialer, L.clock, until=L.clock.now() + VIRTUAL_S)
            elapsed = time.perf_counter() - started
        finally:
            gc.unfreeze()  # the next round's runtime is another
            gc.set_threshold(*thresholds)
        decisions = _count(store, RecordRetrieved)
        return decisions / elapsed, decisions, store.position() - head


def _count(store, event_class: type) -> int:  # type: ignore[no-untyped-def]
    topics, after, found = (stored_topic_of(event_class),), 0, 0
    while batch := store.read_topics(topics, after, 10_000):
        found += len(batch)
        after = batch[-1][0]
    return found


def run(options: Options) -> Iterator[Figure]:
    records = options.events or RECORDS
    best, events_per = 0.0, 0.0
    for n in range(options.rounds):
        rate, decisions, events = _round(records)
        print(f"dialer round {n + 1}: {decisions} decisions, {events} events, {rate:.0f}/s", file=sys.stderr)
        if rate > best:
            best, events_per = rate, events / max(decisions, 1)
    yield Figure("dialer_decisions_per_s_embedded", best, "decisions/s")
    yield Figure("dialer_events_per_decision", events_per, "events")
