"""A projection (or processor) as a Kafka consumer group, hosted with aiokafka.

Workers of the same name join one consumer group and share the partitions of the topics
the handler reads: a projection run alone, or the read models of a process together
(:class:`ReadModelsHandler`). Progress lives with the effect: the handler stores, per partition,
the next offset and the last log position in the same transaction as its update, and a
worker seeks to those offsets whenever it is handed partitions. Kafka's committed offsets
are written too, but only so that lag tools can see them.

A record that cannot become an event (undecodable bytes, unknown type, future schema
version) is logged with its topic, partition and offset, parked on the dead-letter topic
and stepped over; a handler that fails (its database is down, say) is retried from the
same offset until it succeeds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

from processors.bus.kafka_cluster import KafkaConfig
from processors.bus.wire import Poison, header, incoming
from projections.base import PartitionItem, ProjectionStore
from schemas.base import Event
from schemas.topics import DEAD_LETTER

log = logging.getLogger(__name__)
# How long a stopping worker waits for the broker to see it leave (see _closed_within).
CLOSE_TIMEOUT_S = 10.0
PARTITION_FETCH_BYTES = 256 * 1024  # see KafkaWorker.run


class PartitionHandler(Protocol):
    name: str
    topics: tuple[str, ...]

    def next_offsets(self) -> dict[tuple[str, int], int]: ...

    def needs_events(self, upto: int) -> bool:
        """False when records up to log position ``upto`` cannot matter to the handler: the
        worker then hands them over undecoded (their offsets still count)."""
        ...

    def dormant(self) -> bool:
        """True while nothing the log holds so far can matter to the handler: the worker
        pauses its partitions (fetches nothing) until it is False again, and then goes on
        from the offsets it recorded."""
        ...

    def wants(self, tag: str) -> bool:
        """Whether the handler reads events of type ``tag`` (a record's ``type`` header): the
        worker hands the others over undecoded (their offsets and positions still count)."""
        ...

    def apply_partition(self, topic: str, partition: int, items: Sequence[PartitionItem]) -> int: ...


class ProjectionHandler:
    """One projection of a :class:`ProjectionStore`, fed partition by partition."""

    def __init__(self, store: ProjectionStore, name: str):
        self.store = store
        self.name = name
        self.topics = store.projections[name].topics

    def next_offsets(self) -> dict[tuple[str, int], int]:
        return self.store.next_offsets(self.name)

    def needs_events(self, upto: int) -> bool:
        return True

    def dormant(self) -> bool:
        return False

    def wants(self, tag: str) -> bool:
        return self.store.reads(self.name, tag)

    def apply_partition(self, topic: str, partition: int, items: Sequence[PartitionItem]) -> int:
        return self.store.apply_partition(self.name, topic, partition, items)


class ReadModelsHandler:
    """Several projections of one :class:`ProjectionStore` as one consumer group
    (``read-models`` for all of them, as ``dialstream up`` hosts them): each record is
    fetched and decoded once for all of them, and each projection that reads its type applies
    it in a transaction of its own, from its own recorded offsets.

    A group per projection fetched every record of its topics: during a million-row import,
    two of the three groups reading the records topic fetched a million chains only to skip
    them, on the same loop and cores as the relay and the group that applies them.
    """

    def __init__(self, store: ProjectionStore, names: Sequence[str]):
        self.store = store
        self.names = tuple(names)
        # Members of one group must read the same topics: a group of some of them is named by
        # them, so that it never shares partitions with a group of all of them.
        self.name = "read-models" if set(names) == set(store.projections) else "+".join(sorted(names))
        self.topics = tuple(dict.fromkeys(t for name in self.names for t in store.projections[name].topics))
        self._readers = {t: [n for n in self.names if t in store.projections[n].topics] for t in self.topics}
        self._applies: dict[tuple[str, type[Event]], bool] = {}
        self._wants: dict[str, bool] = {}

    def next_offsets(self) -> dict[tuple[str, int], int]:
        """Each partition from the lowest offset any of its readers resumes at (one that has
        not read it yet starts at the beginning); the others skip what they applied."""
        stored = {name: self.store.next_offsets(name) for name in self.names}
        seen = {where for offsets in stored.values() for where in offsets}
        return {
            where: min(stored[name].get(where, 0) for name in self._readers.get(where[0], ()))
            for where in seen
            if where[0] in self._readers
        }

    def needs_events(self, upto: int) -> bool:
        return True

    def dormant(self) -> bool:
        return False

    def wants(self, tag: str) -> bool:
        known = self._wants.get(tag)  # asked for every record fetched
        if known is None:
            known = self._wants[tag] = any(self.store.reads(name, tag) for name in self.names)
        return known

    def apply_partition(self, topic: str, partition: int, items: Sequence[PartitionItem]) -> int:
        applied = 0
        for name in self._readers.get(topic, ()):
            mine = [
                (offset, position, event if event is not None and self._reads(name, type(event)) else None)
                for offset, position, event in items
            ]
            applied += self.store.apply_partition(name, topic, partition, mine)
        return applied

    def _reads(self, name: str, kind: type[Event]) -> bool:
        known = self._applies.get((name, kind))
        if known is None:
            known = self._applies[(name, kind)] = self.store.applies(name, kind)
        return known


def _position(record: ConsumerRecord[Any, Any]) -> int:
    """The record's log position (its header), or -1 when it has none (a poison record)."""
    text = header(record.headers, "position")
    return int(text) if text is not None and text.isdigit() else -1


class _SeekToStored(ConsumerRebalanceListener):
    def __init__(self, worker: KafkaWorker):
        self.worker = worker

    async def on_partitions_revoked(self, revoked: Any) -> None:
        if revoked:
            log.info("%s: partitions revoked: %s", self.worker.name, sorted(map(str, revoked)))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self.worker.seek_to_stored(assigned)


class KafkaWorker:
    def __init__(
        self,
        handler: PartitionHandler,
        config: KafkaConfig,
        *,
        session_timeout_ms: int = 10_000,
        max_records: int = 2000,
    ):
        self.handler = handler
        self.name = handler.name
        self.config = config
        self.session_timeout_ms = session_timeout_ms
        self.max_records = max_records
        self.applied = 0  # events that took effect, for logs and tests
        self.parked = 0
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = asyncio.Event()

    async def run(self, stopping: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.config.bootstrap,
            group_id=self.config.group(self.name),
            client_id=f"dialstream-{self.name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=max(self.session_timeout_ms // 5, 100),
            max_poll_records=self.max_records,
            # What a consumer holds fetched ahead of its handler, per partition: a read model
            # catching up with an import's backlog held the library's 1 MiB for each of the
            # records topic's twelve partitions, in every consumer group of the process.
            max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
        )
        dead_letters = AIOKafkaProducer(
            bootstrap_servers=self.config.bootstrap, enable_idempotence=True, acks="all",
            client_id=f"dialstream-{self.name}-dead-letters",
        )
        self._consumer = consumer
        self._stopping = stopping
        consumer.subscribe([self.config.topic(t) for t in self.handler.topics], listener=_SeekToStored(self))
        await consumer.start()
        await dead_letters.start()
        if ready is not None:
            ready.set()
        log.info("%s: consuming %s as group %s", self.name, ", ".join(self.handler.topics),
                 self.config.group(self.name))
        try:
            while not stopping.is_set():
                self._pause_while_dormant(consumer)
                batches = await consumer.getmany(timeout_ms=200, max_records=self.max_records)
                handled: dict[TopicPartition, OffsetAndMetadata] = {}
                for tp, records in batches.items():
                    if (next_offset := await self._handle(dead_letters, tp, records)) is not None:
                        handled[tp] = OffsetAndMetadata(next_offset, "")
                if handled:
                    await self._commit(consumer, handled)
        finally:
            self._consumer = None
            await _closed_within(consumer.stop(), f"{self.name}: leaving group {self.config.group(self.name)}")
            await _closed_within(dead_letters.stop(), f"{self.name}: closing the dead-letter producer")

    def _pause_while_dormant(self, consumer: AIOKafkaConsumer) -> None:
        # A processor with nothing to do (compliance before any suppression list exists) must
        # not fetch and parse a million imported records in the process that imports them.
        if self.handler.dormant():
            if assigned := consumer.assignment() - consumer.paused():
                log.info("%s: nothing to do yet, pausing %s", self.name, sorted(map(str, assigned)))
                consumer.pause(*assigned)
        elif paused := consumer.paused():
            log.info("%s: resuming %s", self.name, sorted(map(str, paused)))
            consumer.resume(*paused)

    def paused(self) -> set[tuple[str, int]]:
        """The partitions this member holds but does not fetch (its handler is dormant)."""
        consumer = self._consumer
        if consumer is None:
            return set()
        return {(self.config.unprefixed(tp.topic), tp.partition) for tp in consumer.paused()}

    def assignment(self) -> set[tuple[str, int]]:
        """The partitions this member of the group holds now (topic names without the prefix)."""
        consumer = self._consumer
        if consumer is None:
            return set()
        return {(self.config.unprefixed(tp.topic), tp.partition) for tp in consumer.assignment()}

    async def seek_to_stored(self, assigned: Any) -> None:
        if self._consumer is None or not assigned:
            return
        stored = self.handler.next_offsets()  # no await: records must not slip in before the seeks
        for tp in assigned:
            # No await: an awaited seek lets records fetched from the old position through first.
            # Offset 0 is the beginning (auto_offset_reset="earliest" if retention removed it).
            self._consumer.seek(tp, stored.get((self.config.unprefixed(tp.topic), tp.partition), 0))
        log.info("%s: assigned %s", self.name, sorted(map(str, assigned)))

    async def _handle(
        self,
        dead_letters: AIOKafkaProducer,
        tp: TopicPartition,
        records: list[ConsumerRecord[Any, Any]],
    ) -> int | None:
        """Apply one partition's records; the offset to resume at, or None if none applied."""
        items: list[PartitionItem] = []
        if not self.handler.needs_events(_position(records[-1])):
            # Decoding a million imported chains that cannot matter cost the process's CPU.
            records, items = [], [(record.offset, _position(record), None) for record in records]
        wants = self.handler.wants
        for record in records:
            tag = header(record.headers, "type")
            if tag is not None and not wants(tag):
                # Not decoded: a million imported chains are of a type two of the three
                # projections on their topic skip. (Poison of such a type is left to the
                # groups that read it to park.)
                items.append((record.offset, _position(record), None))
                continue
            try:
                position, event = incoming(record.headers, record.value)
            except Poison as why:
                await self._park(dead_letters, record, str(why))
                items.append((record.offset, why.position, None))
            else:
                items.append((record.offset, position, event))
        topic = self.config.unprefixed(tp.topic)
        backoff = 0.2
        while True:
            try:
                # In a thread: a wait on the database lock must not stop this consumer's heartbeats.
                self.applied += await asyncio.to_thread(self.handler.apply_partition, topic, tp.partition, items)
                break
            except Exception:
                log.exception("%s: applying %s offsets %d..%d failed; retrying", self.name, tp,
                              items[0][0], items[-1][0])
                if self._stopping.is_set():
                    return None  # nothing recorded: the next owner of the partition starts here
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        return items[-1][0] + 1

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        """Kafka's committed offsets, for lag tools: one request for a fetch's partitions (one
        per partition was a broker round trip per partition batch, each waited for in turn)."""
        try:
            await consumer.commit(offsets)
        except Exception as error:  # informational only; the database holds the real offset
            log.debug("%s: could not commit %s to Kafka: %s", self.name, sorted(map(str, offsets)), error)

    async def _park(self, producer: AIOKafkaProducer, record: ConsumerRecord[Any, Any], reason: str) -> None:
        log.error(
            "%s: parking %s[%d]@%d on %s: %s", self.name, record.topic, record.partition,
            record.offset, self.config.topic(DEAD_LETTER), reason,
        )
        headers = [
            *record.headers,
            ("dead_letter.topic", record.topic.encode()),
            ("dead_letter.partition", str(record.partition).encode()),
            ("dead_letter.offset", str(record.offset).encode()),
            ("dead_letter.consumer", self.name.encode()),
            ("dead_letter.reason", reason.encode()),
        ]
        value = record.value if record.value is not None or record.key is not None else b""  # Kafka needs one
        await (await producer.send(self.config.topic(DEAD_LETTER), value, key=record.key, headers=headers))
        self.parked += 1


async def _closed_within(closing: Coroutine[Any, Any, None], what: str) -> None:
    """A stopping process must exit even when the broker is slow to answer a LeaveGroup (or a
    rejoin is in flight): the database holds the applied offsets, so giving up on a clean leave
    loses nothing. The group then drops the member after its session timeout."""
    try:
        await asyncio.wait_for(closing, CLOSE_TIMEOUT_S)
    except TimeoutError:
        log.warning("%s: no answer in %.0f s; stopping without it", what, CLOSE_TIMEOUT_S)
