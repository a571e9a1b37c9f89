"""The Kafka bus: outbox relay throughput, and command-to-projection latency in both modes.

One real broker (``tests.kafka.running()``, a single KRaft node on 127.0.0.1) serves the
whole group; every measurement gets topics of its own under a fresh prefix.

Relay throughput. 50,000 events (``--events`` overrides) — contact lists, each created
and then renamed nine times — are appended to a fresh SQLite event store. Each round
creates the catalogue's topics under a new prefix and waits until every partition has a
leader that answers (before the clock starts), then times
``Relay(store, RelayProgress(db), config).run_until(head)``: from constructing the relay
until it has recorded the head position, i.e. until Kafka has acknowledged every event.
That **includes the relay's start-up** (partition counts, reading the tails of the
partitions, starting the idempotent producer), 0.05-0.2 s, which is logged separately
on stderr (time to the relay's first ``_send`` call). The baseline is a bare
``AIOKafkaProducer`` (idempotent,
``acks="all"``, the relay's own ``linger_ms`` and ``max_batch_size``) sending the very
same records — value, key, headers and partition, computed from ``store.read_stored``
with ``processors.bus.wire.outgoing`` and ``processors.bus.kafka_cluster.partition_for`` before its clock
starts — to its own fresh topics: start the producer, hand everything over the way the relay
does (each 5,000 records as one closed batch per partition, aiokafka's ``create_batch`` and
``send_batch``), and wait for every acknowledgement the way the relay waits
(``processors.bus.relay.acknowledged``: the last batch of each partition, then a check of
every other). A way of handing records to Kafka that the relay uses is given to the baseline
too, so that the ratio measures what the relay adds: reading the store and building each
record. For context, a third contender sends each record with the producer's ``send`` (the
baseline until stop 36, when the relay did too): ``relay_vs_raw_send_producer_ratio``.
Relay and raw rounds alternate (their order turns each round) so they share the machine's
noise; the best round of each counts, and after every round the end offsets of the topics
are checked to add up to exactly the number of events. All run with the garbage collector
as ``dialstream relay`` has it once started (``dialstream.gc_tuning.tune_for_throughput``,
called once the records are prepared). With CPython's defaults collections cost each of
them about 3 µs an event, the same for all, which made the ratio read closer to 1 than the
relay is in production.
Figures:

    relay_events_per_s            relay_vs_raw_producer_ratio
    relay_vs_raw_send_producer_ratio

Command-to-projection latency. A runtime from ``dialstream.bootstrap.build`` is started
and served by uvicorn on a free 127.0.0.1 port in a thread, with the bootstrap admin key
(``ensure_bootstrap_key``); an ``httpx.Client`` sends ``POST /api/v1/contact-lists``
with a unique name, one at a time. The gateway answers a command only once the read
models include its events (``gateway.views.settled`` waits on ``runtime.wait``) and
builds its 201 response from the catalogue projection, so the time from sending the
POST to receiving its response is the time from command to projection row. Only the POST
is timed; a ``GET`` of the created list, outside the timed region, confirms the row is
there. The process's collector is tuned as ``dialstream up`` has it (the relay part set it).
20 commands warm up, then 300 are measured; p50 and p99 are nearest-rank
percentiles of those 300 (one run per mode, not best of rounds). In embedded mode the runtime follows
the store's log in process; in Kafka mode (``tests.kafka_support.kafka_settings``) the
same process hosts the relay and every projection as a Kafka consumer group, so each
command travels store -> relay -> Kafka -> consumer -> read model. Figures:

    command_to_projection_p50_ms_embedded   command_to_projection_p99_ms_embedded
    command_to_projection_p50_ms_kafka      command_to_projection_p99_ms_kafka
"""

from __future__ import annotations

import asyncio
import gc
import math
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from dialstream.bootstrap import build, ensure_bootstrap_key
from dialstream.gc_tuning import tune_for_throughput
from dialstream.settings import Settings
from dialstream.store import EventStore, store_env
from gateway.app import create_app
from processors.bus.kafka_cluster import EVENT_TOPICS, KafkaConfig, create_topics, partition_for
from processors.bus.relay import InFlight, PartitionBatches, Relay, RelayProgress, acknowledged
from processors.bus.wire import outgoing
from projections.sql import connect
from schemas.base import Event
from tests import kafka
from tests.bench.figures import Figure, Options
from tests.kafka_support import append_events, kafka_settings, list_events

EVENTS = 50_000
CHANGES_PER_LIST = 9  # each list: created + 9 renames = 10 events
COMMANDS = 300
WARM_UP = 20


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# Relay throughput -----------------------------------------------------------------------


@dataclass(frozen=True)
class RawRecord:
    topic: str  # catalogue name, before the prefix
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    partition: int


@dataclass
class Rounds:
    relay: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    raw_send: list[float] = field(default_factory=list)  # context: a send per record
    start_up: list[float] = field(default_factory=list)


def fill_store(store: EventStore, total: int) -> int:
    """``total`` contact-list events, appended 1,000 per call; return the head position."""
    account_id = uuid.uuid4()
    lists = -(-total // (CHANGES_PER_LIST + 1))
    batches = list(list_events(account_id, lists, CHANGES_PER_LIST))
    events: list[Event] = [event for batch in batches for event in batch][:total]
    return append_events(store, [events[i:i + 1000] for i in range(0, len(events), 1000)])


def raw_records(store: EventStore) -> list[RawRecord]:
    """What the relay would send for every stored event, computed the relay's own way."""
    counts = {spec.name: spec.partitions for spec in EVENT_TOPICS}
    records: list[RawRecord] = []
    position = 0
    while notifications := store.read_stored(position, 5000):
        for notification in notifications:
            record = outgoing(notification)
            records.append(RawRecord(
                record.topic, record.key, record.value, record.headers,
                partition_for(record.key, counts[record.topic]),
            ))
        position = notifications[-1].id
    return records


async def fresh_topics(bootstrap: str, what: str, round_no: int) -> KafkaConfig:
    """The catalogue's topics under a new prefix, every partition with a leader that answers.

    ``create_topics`` returns once the broker lists the topics; their partitions may still
    be electing leaders, and the first requests would be retried. That is topic creation,
    not publishing, so it is waited out before any clock starts.
    """
    config = KafkaConfig(bootstrap, prefix=f"bench{uuid.uuid4().hex[:8]}.{what}{round_no}.")
    await create_topics(config)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(config.topic(spec.name), p)
            for spec in EVENT_TOPICS
            for p in range(spec.partitions)
        ]
        for _ in range(100):
            await consumer._client.force_metadata_update()
            cluster = consumer._client.cluster
            if all((cluster.leader_for_partition(tp) or -1) >= 0 for tp in partitions):
                break
            await asyncio.sleep(0.1)
        await consumer.end_offsets(partitions)  # retried by aiokafka until every leader answers
    finally:
        await consumer.stop()
    return config


async def relay_round(
    store: EventStore, progress_db: Any, bootstrap: str, head: int, round_no: int
) -> tuple[float, float, int]:
    """Seconds to relay everything (start-up included), seconds of start-up, events sent."""
    config = await fresh_topics(bootstrap, "relay", round_no)
    progress = RelayProgress(progress_db, name=f"bench-relay-{round_no}")
    first_send: list[float] = []
    gc.collect()
    started = time.perf_counter()
    relay = Relay(store, progress, config)
    publish = getattr(relay, "_send", None)  # wrapped only to note when sending begins
    if publish is not None:

        async def noting_first_send(*args: Any) -> Any:
            if not first_send:
                first_send.append(time.perf_counter())
            return await publish(*args)

        relay._send = noting_first_send  # type: ignore[method-assign, assignment]
    await relay.run_until(head)
    seconds = time.perf_counter() - started
    await check_end_offsets(config, head, "relay")
    if relay.published != head:
        raise RuntimeError(f"relay published {relay.published} events, expected {head}")
    start_up = first_send[0] - started if first_send else float("nan")
    return seconds, start_up, relay.published


async def raw_round(
    records: list[RawRecord], producer_options: dict[str, Any], bootstrap: str, round_no: int,
    *, read: int | None,
) -> float:
    """Seconds to send ``records``: as the relay hands over its reads of ``read`` records, or
    with a ``send`` per record when ``read`` is None."""
    config = await fresh_topics(bootstrap, "rawsend" if read is None else "raw", round_no)
    topics = {spec.name: config.topic(spec.name) for spec in EVENT_TOPICS}
    gc.collect()
    started = time.perf_counter()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        client_id="dialstream-bench-raw",
        **producer_options,
    )
    await producer.start()
    try:
        acks: list[asyncio.Future[Any]] = []
        last: dict[tuple[str, int], asyncio.Future[Any]] = {}
        if read is not None:
            await send_batches(producer, records, topics, acks, last, read)
        else:
            for r in records:
                ack = await producer.send(
                    topics[r.topic], r.value, key=r.key, partition=r.partition, headers=r.headers
                )
                acks.append(ack)
                last[(r.topic, r.partition)] = ack
        # Waited for as the relay waits (no callback on each record's future), so that the
        # ratio compares what the relay adds, not two ways of waiting.
        await acknowledged(acks, last.values())
    finally:
        await producer.stop()
    seconds = time.perf_counter() - started
    await check_end_offsets(config, len(records), "raw producer")
    return seconds


async def send_batches(
    producer: AIOKafkaProducer, records: list[RawRecord], topics: dict[str, str],
    acks: list[asyncio.Future[Any]], last: dict[tuple[str, int], asyncio.Future[Any]], read: int,
) -> None:
    """The records handed over as the relay hands them (each ``read``, as one batch per
    partition: ``relay.PartitionBatches``), with none of its reading or building."""
    for start in range(0, len(records), read):
        flight = InFlight(position=0)
        batches = PartitionBatches(producer, topics, flight)
        for r in records[start:start + read]:
            batches.add((r.topic, r.partition), r.key, r.value, r.headers)
        await batches.submit()
        acks.extend(flight.sent)
        last.update(flight.last)


async def check_end_offsets(config: KafkaConfig, expected: int, what: str) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=config.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(config.topic(spec.name), p)
            for spec in EVENT_TOPICS
            for p in range(spec.partitions)
        ]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    total = sum(ends.values())
    if total != expected:
        raise RuntimeError(f"{what}: {total} records on Kafka, expected {expected}")


async def bench_relay_rounds(
    store: EventStore, progress_db: Any, records: list[RawRecord], bootstrap: str, head: int,
    rounds: int,
) -> Rounds:
    result = Rounds()
    template = Relay(store, RelayProgress(progress_db, "bench-options"), KafkaConfig(bootstrap))
    producer_options = template.producer_options
    log(f"relay producer options (the raw producer uses the same): {producer_options}")
    for round_no in range(rounds):
        order = ["relay", "raw", "raw_send"]
        for what in order[round_no % 3:] + order[:round_no % 3]:
            if what == "relay":
                seconds, start_up, _ = await relay_round(store, progress_db, bootstrap, head, round_no)
                result.relay.append(seconds)
                result.start_up.append(start_up)
                log(f"  round {round_no + 1} relay: {seconds:.3f} s "
                    f"({head / seconds:,.0f} events/s; start-up {start_up:.3f} s, "
                    f"{head / (seconds - start_up):,.0f} events/s from the first send)")
            else:
                read = template.batch_size if what == "raw" else None
                seconds = await raw_round(records, producer_options, bootstrap, round_no, read=read)
                getattr(result, what).append(seconds)
                log(f"  round {round_no + 1} raw producer{'' if read else ', a send per record'}: "
                    f"{seconds:.3f} s ({len(records) / seconds:,.0f} events/s)")
    return result


def bench_relay(bootstrap: str, total: int, rounds: int) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="dialstream-bench-relay-") as directory:
        store = EventStore(store_env(f"sqlite:///{Path(directory) / 'events.sqlite'}"))
        progress_db = connect(f"sqlite:///{Path(directory) / 'views.sqlite'}")
        try:
            started = time.perf_counter()
            head = fill_store(store, total)
            if head != total:
                raise RuntimeError(f"the store holds {head} events, expected {total}")
            records = raw_records(store)
            tune_for_throughput()  # as `dialstream relay` has it once started; the raw producer too
            log(f"relay: {total:,} events stored and {len(records):,} raw records prepared in "
                f"{time.perf_counter() - started:.1f} s; best of {rounds} rounds")
            result = asyncio.run(
                bench_relay_rounds(store, progress_db, records, bootstrap, head, rounds)
            )
        finally:
            progress_db.close()
            store.close()
    relay = total / min(result.relay)
    raw = total / min(result.raw)
    raw_send = total / min(result.raw_send)
    log(f"relay: best {relay:,.0f} events/s (start-up included); raw producer best "
        f"{raw:,.0f} events/s, ratio {relay / raw:.3f}; raw producer sending each record best "
        f"{raw_send:,.0f} events/s, ratio {relay / raw_send:.3f}")
    return [
        Figure("relay_events_per_s", relay, "events/s"),
        Figure("relay_vs_raw_producer_ratio", relay / raw, "ratio"),
        Figure("relay_vs_raw_send_producer_ratio", relay / raw_send, "ratio"),
    ]


# Command-to-projection latency ------------------------------------------------------------


@dataclass
class Served:
    base_url: str
    admin_secret: str


def _wait_until_up(base_url: str, thread: threading.Thread, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("uvicorn stopped before it answered /healthz")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server did not answer /healthz within {timeout} s")


@contextmanager
def serving(settings: Settings) -> Iterator[Served]:
    """The runtime of ``settings``, started, served by uvicorn on a free 127.0.0.1 port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runtime = build(settings.with_changes(host="127.0.0.1", port=port))
    try:
        runtime.start()  # first: on Kafka, catching up needs the relay and the workers running
        _, secret = ensure_bootstrap_key(runtime)
        if secret is None:
            raise RuntimeError("a fresh data dir should have issued a bootstrap key")
        server = uvicorn.Server(
            uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn",
                                  daemon=True)
        thread.start()
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base_url, thread)
            yield Served(base_url, secret)
        finally:
            server.should_exit = True
            thread.join(timeout=15)
    finally:
        runtime.stop()
        sock.close()


def command_latencies(served: Served, mode: str) -> list[float]:
    """Milliseconds from sending each POST to its response (the row is in the projection)."""
    headers = {"Authorization": f"Bearer {served.admin_secret}"}
    latencies: list[float] = []
    created: list[tuple[str, str]] = []
    run = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=30.0) as client:
        for n in range(WARM_UP + COMMANDS):
            name = f"Bench {mode} {run} {n:04d}"
            started = time.perf_counter()
            response = client.post("/api/v1/contact-lists", json={"name": name})
            elapsed = time.perf_counter() - started
            if response.status_code != 201:
                raise RuntimeError(f"{mode}: POST answered {response.status_code}: {response.text}")
            created.append((response.json()["id"], name))
            if n >= WARM_UP:
                latencies.append(elapsed * 1000)
        # Outside the timed region: every created list is there to read.
        for list_id, name in created:
            response = client.get(f"/api/v1/contact-lists/{list_id}")
            if response.status_code != 200 or response.json()["name"] != name:
                raise RuntimeError(f"{mode}: GET {list_id} answered {response.status_code}: "
                                   f"{response.text}")
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = min(max(1, math.ceil(fraction * len(ordered))), len(ordered))
    return ordered[rank - 1]


def latency_figures(latencies: list[float], mode: str) -> list[Figure]:
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    log(f"{mode}: {len(latencies)} commands: p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
        f"mean {statistics.fmean(latencies):.2f} ms, min {min(latencies):.2f} ms, "
        f"max {max(latencies):.2f} ms")
    return [
        Figure(f"command_to_projection_p50_ms_{mode}", p50, "ms"),
        Figure(f"command_to_projection_p99_ms_{mode}", p99, "ms"),
    ]


def bench_latency(settings: Settings, mode: str) -> list[Figure]:
    started = time.perf_counter()
    with serving(settings) as served:
        log(f"{mode}: serving on {served.base_url} (up in {time.perf_counter() - started:.1f} s); "
            f"{WARM_UP} warm-up commands, then {COMMANDS} timed")
        latencies = command_latencies(served, mode)
    return latency_figures(latencies, mode)


# The group --------------------------------------------------------------------------------


def run(options: Options) -> Iterator[Figure]:
    total = options.events or EVENTS
    log("kafka: starting a broker with compose/kafka.sh")
    started = time.perf_counter()
    with kafka.running() as broker:
        log(f"kafka: broker at {broker.bootstrap} (up in {time.perf_counter() - started:.1f} s)")
        yield from bench_relay(broker.bootstrap, total, options.rounds)
        with tempfile.TemporaryDirectory(prefix="dialstream-bench-embedded-") as directory:
            yield from bench_latency(Settings(data_dir=Path(directory)), "embedded")
        with tempfile.TemporaryDirectory(prefix="dialstream-bench-kafka-") as directory:
            yield from bench_latency(kafka_settings(Path(directory), broker.bootstrap), "kafka")
    log(f"kafka: group done in {time.perf_counter() - started:.1f} s")
