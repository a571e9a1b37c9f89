"""``make bench ONLY=results``: call results applied per second by the call results processor.

One account on the embedded event store (SQLite): a running group whose dialing profile treats
busy (retry in 30 minutes, +5, three times, then the next record of the chain), no answer
(next in chain) and answering machine (next in chain after 60 minutes); answers have no step
(the chain is finished). ``--events`` chains of two records (20,000 by default) are drawn and
their first record's attempt made and finished — 40 % busy, 30 % no answer, 20 % answered,
10 % answering machine — all stored before the clock starts. Then the processor, on its
embedded host in this thread, catches up with the log: for each result it loads the chain,
decides, and stores ``record.updated`` and ``record.treated``, a batch of the log (500
results) a transaction with its tracking position.

Figures: ``results_per_s_embedded`` (the best of ``--rounds``), and as a baseline measured in
the same round, ``results_baseline_chain_loads_per_s``: the same chains only loaded from the
store's database, one by one, by a store of its own that keeps nothing from the setup (the
processor's floor before its batched reads: every result loads its chain).

``results_per_s_kafka``: the same results stored in a Kafka-mode runtime's SQLite store, then
the runtime started with the relay and the processor as consumer group
``dialstream.call-results`` (no read models): results per second from the first
``record.treated`` stored to the last (the start-up before it — topics, partition leaders,
the consumer group's join, 10-60 s on a fresh broker here — is printed on stderr, not counted). One real broker
(``tests.kafka.running()``) for the group.
``email_per_s`` is the ``email`` group's (:mod:`tests.bench.bench_email`).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

from dialstream.bootstrap import RESULTS, build
from dialstream.handlers import Handlers
from dialstream.store import EventStore, store_env, stored_topic_of
from domain import (
    call_attempts,
    dialing_queue,
    record_chain,
)
from domain.codes import CallResult
from processors.results.processor import CallResultsProcessor
from projections.sql import connect
from projections.suppression_lists import SuppressionListQueries
from schemas.base import Event
from schemas.profiles import DialingSettings, Treatment
from schemas.records import Record, RecordChainImported, RecordTreated
from tests import kafka
from tests.bench.figures import Figure, Options
from tests.dialstream.groups import running_group
from tests.kafka_support import kafka_settings

CHAINS = 20_000
NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
PLAN = [
    Treatment(
        call_result=CallResult.BUSY,
        sequence=1,
        action="retry_in",
        retry_count=3,
        interval_minutes=30,
        increment_minutes=5,
    ),
    Treatment(call_result=CallResult.BUSY, sequence=2, action="next_in_chain"),
    Treatment(call_result=CallResult.NO_ANSWER, sequence=1, action="next_in_chain"),
    Treatment(call_result=CallResult.ANSWERING_MACHINE, sequence=1, action="next_in_chain_after", interval_minutes=60),
]
# Out of every ten results: four busy, three no answer, two answered, one machine.
RESULT_MIX = [CallResult.BUSY] * 4 + [CallResult.NO_ANSWER] * 3 + [CallResult.ANSWER] * 2 + [CallResult.ANSWERING_MACHINE]
APPEND_EVERY = 2_000
KAFKA_TIMEOUT_S = 600.0


def _dialled(account: UUID, list_id: UUID, group: UUID, n: int) -> list[Event]:
    """Chain ``n`` imported, its first record drawn, called and finished."""
    chain_id = record_chain.chain_id(list_id, f"C{n:06d}")
    imported = RecordChainImported(
        originator_id=chain_id,
        originator_version=1,
        timestamp=NOW,
        account_id=account,
        list_id=list_id,
        client_id=f"C{n:06d}",
        job_id=UUID(int=1),
        line=n + 2,
        records=[
            Record(
                record_id=record_chain.record_id(chain_id, k),
                chain_n=k,
                contact_info=f"+1312{n % 10_000_000:07d}",
                contact_info_type=1,
                time_zone="America/Chicago",
                time_zone_rule="device",
            )
            for k in (1, 2)
        ],
    )
    chain = record_chain.project(None, [imported])
    assert chain is not None
    attempt = uuid4()
    drawn = dialing_queue.retrieve(chain, 1, campaign_group_id=group, attempt_id=attempt, now=NOW, max_attempts=10)
    chain = record_chain.project(chain, drawn)
    made = call_attempts.make_attempt(
        None, chain, chain_n=1, attempt_id=attempt, channel="voice", campaign_group_id=group, now=NOW
    )
    finished = call_attempts.finished(
        call_attempts.project(None, made),
        attempt_id=attempt,
        call_result=int(RESULT_MIX[n % len(RESULT_MIX)]),
        ring_ms=20_000,
        talk_ms=0,
        now=NOW,
    )
    return [imported, *drawn, *made, *finished]


def _store_results(store: EventStore, handlers: Handlers, chains: int) -> list[UUID]:
    """Store ``chains`` dialled chains and their finished attempts; their chain ids."""
    account = handlers.accounts.open_account("Bench").id
    list_id, group = running_group(handlers, account, dialing=DialingSettings(treatments=PLAN))
    events: list[Event] = []
    for n in range(chains):
        events += _dialled(account, list_id, group, n)
        if len(events) >= APPEND_EVERY:
            store.append(events)
            events = []
    if events:
        store.append(events)
    return [record_chain.chain_id(list_id, f"C{n:06d}") for n in range(chains)]


def _treated(store: EventStore, after: int, limit: int) -> int:
    return len(store.read_topics((stored_topic_of(RecordTreated),), after=after, limit=limit))


def _round(chains: int) -> tuple[float, float]:
    """(results applied per second, chains loaded per second) of one run, embedded."""
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'events.sqlite'}"
        store = EventStore(store_env(url))
        try:
            handlers = Handlers(store, clock=lambda: NOW)
            chain_ids = _store_results(store, handlers, chains)

            # A store of its own: the one that stored the results keeps the chains it loaded in
            # memory, and reading them back from there would not be the floor the processor's
            # batched reads are compared with.
            cold = EventStore(store_env(url))
            try:
                started = time.perf_counter()
                for chain_id in chain_ids:
                    cold.load(chain_id, record_chain.project)
                loads = chains / (time.perf_counter() - started)
            finally:
                cold.close()

            views = connect(f"sqlite:///{Path(directory) / 'views.sqlite'}")  # no list: no do-not-call look-up
            host = CallResultsProcessor(store, handlers, SuppressionListQueries(views))
            head = store.position()
            started = time.perf_counter()
            host.catch_up()
            elapsed = time.perf_counter() - started
            assert host.position >= head, (host.position, head)
            treated = _treated(store, head, chains + 1)
            assert treated == chains, f"{treated} of {chains} results treated"
            return chains / elapsed, loads
        finally:
            store.close()


def _kafka_round(bootstrap: str, chains: int) -> float:
    """Results applied per second by the processor as a Kafka consumer group behind the relay,
    from the runtime's start (relay and consumer start-up included) to the last result."""
    with tempfile.TemporaryDirectory() as directory:
        runtime = build(kafka_settings(Path(directory), bootstrap), workers=[RESULTS])
        runtime.handlers.clock = lambda: NOW
        try:
            _store_results(runtime.store, runtime.handlers, chains)
            head = runtime.store.position()
            started = time.perf_counter()
            runtime.start()
            deadline = started + KAFKA_TIMEOUT_S
            first: tuple[float, int] | None = None  # when results began to be stored, and how many then
            while (treated := _treated(runtime.store, head, chains + 1)) < chains:
                assert time.perf_counter() < deadline, f"{treated} of {chains} results treated in {KAFKA_TIMEOUT_S} s"
                if first is None and treated:
                    first = (time.perf_counter(), treated)
                time.sleep(0.02)
            ended = time.perf_counter()
            assert first is not None and first[1] < chains, "the round was too short to time"
            print(f"results kafka: start-up {first[0] - started:.1f} s (topics, leaders, consumer group)", file=sys.stderr)
            return (chains - first[1]) / (ended - first[0])
        finally:
            runtime.stop()


def run(options: Options) -> Iterator[Figure]:
    chains = options.events or CHAINS
    best, baseline = 0.0, 0.0
    for n in range(options.rounds):
        rate, loads = _round(chains)
        print(f"results round {n + 1}: {chains} results, {rate:.0f}/s; chain loads {loads:.0f}/s", file=sys.stderr)
        if rate > best:
            best, baseline = rate, loads
    yield Figure("results_per_s_embedded", best, "results/s")
    yield Figure("results_baseline_chain_loads_per_s", baseline, "loads/s")
    best_kafka = 0.0
    with kafka.running() as broker:
        for n in range(options.rounds):
            rate = _kafka_round(broker.bootstrap, chains)
            print(f"results kafka round {n + 1}: {chains} results, {rate:.0f}/s", file=sys.stderr)
            best_kafka = max(best_kafka, rate)
    yield Figure("results_per_s_kafka", best_kafka, "results/s")
