"""The outbox relay: every stored event, in log order, onto its Kafka topic.

It reads the event store's notification log after the position it recorded, publishes
each event with an idempotent producer (acks=all), and records the new position, with
the last position published on every partition, only once Kafka has acknowledged the
whole batch. Keys are aggregate ids and the producer keeps one request in flight per
broker, so an aggregate's events stay in order on their partition.

After a crash it resumes from the recorded position. Events of the unrecorded batch that
Kafka had already acknowledged are recognised by reading the last positions on each
partition and skipped, so a restart does not publish them twice.

Per event it costs less than a bare producer's ``send`` of the same record: the store hands
over plain rows (``EventStore.read_outbox``, no notification objects or parsed UUIDs), read
while Kafka stores the batch before, which is acknowledged while the next one is sent; the
record is the stored bytes with its key spelled from the stored id (``wire.kafka_key``) and
headers built from per-type constants (``wire.route`` and ``wire.record_headers``: what
``wire.outgoing`` gives, byte for byte); and a read's records go to the producer as one
batch per partition (:class:`PartitionBatches`), so that there is one future to wait for per
batch, not per record. The producer starts while the partitions' tails are read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.producer.message_accumulator import BatchBuilder

from dialstream.store import EventStore
from processors.bus.kafka_cluster import (
    EVENT_TOPICS,
    KafkaConfig,
    partition_for,
    published_tails,
)
from processors.bus.wire import Headers, kafka_key, record_headers, route
from projections.sql import Database

log = logging.getLogger(__name__)

Partition = tuple[str, int]


@dataclass
class InFlight:
    """A read handed to the producer: its last log position, the future of each of its
    batches, each partition's last batch, the last position sent to each partition, and how
    many records it holds."""

    position: int
    sent: list[asyncio.Future[Any]] = field(default_factory=list)
    last: dict[Partition, asyncio.Future[Any]] = field(default_factory=dict)
    touched: dict[Partition, int] = field(default_factory=dict)
    records: int = 0


class PartitionBatches:
    """The records of one read, handed to the producer as one batch per partition.

    The producer's ``send`` of a record (its checks, its future, the metadata it sets on that
    future once acknowledged) cost about as much as everything else the relay does for the
    record; a batch built here costs the producer that once, and its one future is waited for.
    Records are added without awaiting anything (a coroutine per record costs too); a batch
    that fills up waits for :meth:`submit`, which hands every batch over in the order filled.
    """

    def __init__(self, producer: AIOKafkaProducer, topics: dict[str, str], flight: InFlight):
        self.producer, self.topics, self.flight = producer, topics, flight
        self.open: dict[Partition, BatchBuilder] = {}
        self.full: list[tuple[Partition, BatchBuilder]] = []

    def add(self, where: Partition, key: bytes, value: bytes, headers: Headers) -> None:
        builder = self.open.get(where)
        if builder is None:
            builder = self.open[where] = self.producer.create_batch()
        if builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
            self.full.append((where, builder))  # the record starts the partition's next batch
            builder = self.open[where] = self.producer.create_batch()
            if builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
                raise RuntimeError(f"a record does not fit an empty batch of {where}")  # the library takes any first one
        self.flight.records += 1

    async def submit(self) -> None:
        """Hand every batch to the producer: a partition's full ones first, in order."""
        for where, builder in [*self.full, *self.open.items()]:
            builder.close()  # closed, the producer sends it at once instead of lingering for more
            ack = await self.producer.send_batch(builder, self.topics[where[0]], partition=where[1])
            self.flight.sent.append(ack)
            self.flight.last[where] = ack
        self.full, self.open = [], {}


class RelayProgress:
    """How far the relay got, kept in the read-model database beside the projections."""

    def __init__(self, db: Database, name: str = "relay"):
        self.db = db
        self.name = name
        with db.schema() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS relay_progress (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS relay_partitions (name TEXT NOT NULL, topic TEXT NOT NULL, "
                "partition INTEGER NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (name, topic, partition))"
            )
            # How many partitions each topic had when the relay started: a reader works out which
            # partition an event went to as the relay did (the cluster's count, not the catalogue's).
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS relay_topics (name TEXT NOT NULL, topic TEXT NOT NULL, "
                "partitions INTEGER NOT NULL, PRIMARY KEY (name, topic))"
            )

    def position(self) -> int:
        return self.snapshot()[0]

    def partitions(self) -> dict[Partition, int]:
        """The last log position published on each partition."""
        return self.snapshot()[1]

    def snapshot(self) -> tuple[int, dict[Partition, int]]:
        """Position and partitions read together, as one transaction wrote them."""
        with self.db.transaction() as cursor:
            cursor.execute("SELECT position FROM relay_progress WHERE name = ?", (self.name,))
            row = cursor.fetchone()
            cursor.execute(
                "SELECT topic, partition, position FROM relay_partitions WHERE name = ?", (self.name,)
            )
            partitions = {(str(t), int(p)): int(pos) for t, p, pos in cursor.fetchall()}
        return (int(row[0]) if row else 0), partitions

    def partition_counts(self) -> dict[str, int]:
        """Each topic's partitions as the relay last counted them (empty before it has)."""
        with self.db.transaction() as cursor:
            cursor.execute("SELECT topic, partitions FROM relay_topics WHERE name = ?", (self.name,))
            return {str(topic): int(count) for topic, count in cursor.fetchall()}

    def record_partition_counts(self, counts: dict[str, int]) -> None:
        with self.db.transaction() as cursor:
            cursor.executemany(
                "INSERT INTO relay_topics (name, topic, partitions) VALUES (?, ?, ?) "
                "ON CONFLICT (name, topic) DO UPDATE SET partitions = excluded.partitions",
                [(self.name, topic, count) for topic, count in counts.items()],
            )

    def record(self, position: int, partitions: dict[Partition, int]) -> None:
        with self.db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO relay_progress (name, position) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                (self.name, position),
            )
            cursor.executemany(
                "INSERT INTO relay_partitions (name, topic, partition, position) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name, topic, partition) DO UPDATE SET position = excluded.position",
                [(self.name, topic, partition, pos) for (topic, partition), pos in partitions.items()],
            )


class Relay:
    def __init__(
        self,
        store: EventStore,
        progress: RelayProgress,
        config: KafkaConfig,
        *,
        batch_size: int = 5000,
        poll_interval: float = 0.02,
        producer_options: dict[str, Any] | None = None,
    ):
        self.store = store
        self.progress = progress
        self.config = config
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.producer_options = {"linger_ms": 2, "max_batch_size": 256 * 1024, **(producer_options or {})}
        self.published = 0  # events acknowledged by Kafka since start (for benchmarks and logs)

    async def run(self, stopping: asyncio.Event) -> None:
        """Publish until ``stopping`` is set; reconnect and resume after any Kafka failure."""
        backoff = 0.5
        while not stopping.is_set():
            try:
                await self._session(stopping)
                return
            except (KafkaError, OSError, RuntimeError) as error:
                log.warning(
                    "relay: Kafka failed (%s: %s); resuming in %.1f s", type(error).__name__, error, backoff
                )
                await _sleep_unless(stopping, backoff)
                backoff = min(backoff * 2, 5.0)

    async def run_until(self, position: int) -> None:
        """Publish up to ``position`` and return (tests and benchmarks)."""
        stopping = asyncio.Event()
        task = asyncio.ensure_future(self.run(stopping))
        try:
            while self.progress.position() < position:
                if task.done():
                    task.result()
                    raise RuntimeError("the relay stopped before reaching the position")
                await asyncio.sleep(0.01)
        finally:
            stopping.set()
            await task

    async def _session(self, stopping: asyncio.Event) -> None:
        position = self.progress.position()
        producer = AIOKafkaProducer(
            bootstrap_servers=self.config.bootstrap,
            enable_idempotence=True,
            acks="all",
            client_id="dialstream-relay",
            **self.producer_options,
        )
        # The producer starts while the partitions' tails are read.
        starting = asyncio.ensure_future(producer.start())
        try:
            counts, on_kafka = await published_tails(self.config, [spec.name for spec in EVENT_TOPICS])
            self.progress.record_partition_counts(counts)  # before anything is sent with them
            self.progress.record(position, on_kafka)  # so waiting readers see what is on Kafka
            await starting
            log.info("relay: publishing from log position %d to %s", position, self.config.bootstrap)
            seen, rows = self._read(position)
            in_flight: InFlight | None = None
            while not stopping.is_set():
                if not rows:
                    if in_flight is not None:
                        await self._settle(in_flight, on_kafka)
                        in_flight = None
                    await self._idle(seen, stopping)
                    seen, rows = self._read(position)
                    continue
                position = rows[-1][0]
                sending = await self._send(producer, rows, counts, on_kafka)
                # The next batch is read while Kafka stores this one; the one before is then
                # settled, so one batch is always on its way while the next is sent.
                await asyncio.sleep(0)  # the producer's sender takes this batch first
                seen, rows = self._read(position)
                if in_flight is not None:
                    await self._settle(in_flight, on_kafka)
                in_flight = sending
            if in_flight is not None:
                await self._settle(in_flight, on_kafka)
        finally:
            with contextlib.suppress(Exception):
                await starting  # its failure, if any, is not the one to report
            await producer.stop()

    def _read(self, after: int) -> tuple[int, list[tuple[int, str, int, str, bytes]]]:
        """The stored rows after ``after``, with the append count taken before reading (so
        that an empty read waits for any append after it).

        Read on the event loop while Kafka stores the batch before. Read in a thread, SQLite
        released the interpreter lock for every row it stepped and took it back from the
        event loop, and the two threads spent much of a batch handing the lock over."""
        seen = self.store.appends()
        return seen, self.store.read_outbox(after, self.batch_size)

    async def _send(
        self,
        producer: AIOKafkaProducer,
        rows: Sequence[tuple[int, str, int, str, bytes]],
        counts: dict[str, int],
        on_kafka: dict[Partition, int],
    ) -> InFlight:
        """Hand a batch to the producer; what to wait for before its position is recorded."""
        batch = InFlight(position=rows[-1][0])
        touched = batch.touched
        topics = {name: self.config.topic(name) for name in counts}
        # Past everything found on Kafka at start-up (every batch but one after a crash), no
        # record needs the check against its partition's last published position.
        checking = bool(on_kafka) and rows[0][0] <= max(on_kafka.values())
        # The record's parts straight from the row (not an OutgoingRecord per event): the
        # relay's own cost per event is what its ratio to the raw producer measures.
        batches = PartitionBatches(producer, topics, batch)
        for position, aggregate_id, version, stored_topic, state in rows:
            name, type_header, version_header = route(stored_topic)
            key = kafka_key(aggregate_id)
            partition = partition_for(key, counts[name])
            where = (name, partition)
            if checking and position <= on_kafka.get(where, 0):
                continue  # acknowledged before a crash, not yet recorded
            batches.add(where, key, state, record_headers(type_header, version_header, key, version, position))
            touched[where] = position
        await batches.submit()
        return batch

    async def _settle(self, batch: InFlight, on_kafka: dict[Partition, int]) -> None:
        """Wait until Kafka has acknowledged every record of the batch (raise its first
        failure), then record its position."""
        await acknowledged(batch.sent, batch.last.values())
        on_kafka.update(batch.touched)
        self.published += batch.records
        self.progress.record(batch.position, batch.touched)

    async def _idle(self, seen: int, stopping: asyncio.Event) -> None:
        """Wait for the next append: this process's appends wake it at once, others' are polled."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.store.wait_for_append, seen, self.poll_interval)


async def acknowledged(sent: list[asyncio.Future[Any]], last: Iterable[asyncio.Future[Any]]) -> None:
    """Return once Kafka has acknowledged every record ``sent``; raise the first failure.

    The producer settles a partition's records in the order they were sent, so this waits
    for the last one of each partition and then checks every other. ``gather`` would put a
    callback on each of thousands of futures: 5-6 µs an event, a quarter of the relay's CPU.
    """
    if waiting := [ack for ack in last if not ack.done()]:
        await asyncio.wait(waiting)
    error: BaseException | None = None
    for ack in sent:
        if not ack.done():
            await asyncio.wait((ack,))  # not expected; a record settled out of order is still waited for
        failure = ack.exception()  # every failure retrieved, the first one raised
        if error is None:
            error = failure
    if error is not None:
        raise error


async def _sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
