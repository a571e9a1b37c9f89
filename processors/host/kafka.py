"""The Kafka processor host: runs one :class:`~processors.host.processor.Processor` as a Kafka
consumer group (``dialstream worker NAME`` on ``DIALSTREAM_BUS=kafka://…``; ``dialstream up``
on Kafka hosts it in process).

Input: the Kafka topics that carry the event types the processor reads (records keyed by
aggregate id, so each aggregate's events stay in one partition, in order); workers of one
name share the partitions, so two workers split the work and neither repeats the other's.
Output: what the processor's handlers append to the event store. State: per partition, the
next offset, as the tracking record ``"<processor>@<topic>/<partition>"`` in the event store,
written in the same transaction as the events the partition's batch caused — a rebalance, a
zombie or a SIGKILL can make a batch be handled again, never stored twice (its tracking
record is there already: the conflict is recognised and the batch skipped). On assignment the
consumer seeks to those offsets. Delivery: exactly-once effect per record.

Progress for read-your-writes (:meth:`KafkaHost.wait_until`): the last log position this
member handled on each partition, against the relay's record of what it published.

The processor's wait for the read models and the suppression index uses log positions: each
record carries the event's position in the store (the ``position`` header), so a batch's
``upto`` is the last of them.

Hosting: :class:`processors.bus.kafka_worker.KafkaWorker` (consumer group, dead letters, retry of
a failing partition) on an asyncio loop that :class:`KafkaHost` runs on the one lifecycle.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from dialstream.store import EventStore, retry_on_conflict
from processors.bus.kafka_cluster import KafkaConfig, create_topics
from processors.bus.kafka_worker import KafkaWorker
from processors.bus.relay import RelayProgress
from processors.host.lifecycle import Backoff, Hosted
from processors.host.processor import Batch, Processor
from projections.base import PartitionItem
from schemas import registry

# How often a partition whose records can have no effect records its offset, at most.
IDLE_RECORD_S = 2.0
# How often a dormant processor (nothing in the log can have an effect yet) asks again.
DORMANT_CHECK_S = 1.0


def tracking_name(processor: str, topic: str, partition: int) -> str:
    return f"{processor}@{topic}/{partition}"


class ProcessorPartitions:
    """The :class:`processors.bus.kafka_worker.PartitionHandler` of a processor: one partition's
    records handled in a unit of work that records the partition's next offset."""

    def __init__(self, store: EventStore, processor: Processor):
        self.store = store
        self.processor = processor
        self.name = processor.name
        self.reads = tuple(processor.reads)
        self.topics = tuple(sorted({cls.TOPIC for cls in processor.reads}))
        self.stopping = lambda: False
        self._recorded_at: dict[str, float] = {}  # tracking name -> time.monotonic() of its last record
        self._dormant = False
        self._dormant_checked_at = float("-inf")
        self._quiet_upto = 0  # nothing up to this position can have an effect
        self._active_from: int | None = None  # something up to this one can
        self._wants: dict[str, bool] = {}  # event type tag -> whether the processor reads it
        # (topic, partition) -> the last log position handled there (skipped ones included).
        self.handled: dict[tuple[str, int], int] = {}

    def next_offsets(self) -> dict[tuple[str, int], int]:
        offsets: dict[tuple[str, int], int] = {}
        prefix = f"{self.name}@"
        for name, next_offset in self.store.tracked_under(prefix).items():
            topic, _, partition = name[len(prefix) :].rpartition("/")
            offsets[(topic, int(partition))] = next_offset
        return offsets

    def needs_events(self, upto: int) -> bool:
        """Whether anything in the log up to ``upto`` can have an effect (a position below 0:
        a record without one, which is decoded and parked).

        Asked for every fetched batch and every dormancy check: only the stretch past the last
        answer is put to the processor, since what holds up to a position holds for every
        position before it. (Asking from the start each time made the call results worker
        scan the whole log, a million imported chains, once a second during an import.)"""
        if upto < 0 or (self._active_from is not None and upto >= self._active_from):
            return True
        if upto <= self._quiet_upto:
            return False
        if self.processor.nothing_to_do(self._quiet_upto, upto):
            self._quiet_upto = upto
            return False
        self._active_from = upto if self._active_from is None else min(self._active_from, upto)
        return True

    def wants(self, tag: str) -> bool:
        known = self._wants.get(tag)  # asked for every fetched record: once per type
        if known is None:
            kind = registry.BY_TAG.get(tag)
            known = self._wants[tag] = kind is None or issubclass(kind, self.reads)
        return known

    def dormant(self) -> bool:
        """Nothing up to the log's head can have an effect (asked at most every DORMANT_CHECK_S)."""
        now = time.monotonic()
        if now - self._dormant_checked_at >= DORMANT_CHECK_S:
            self._dormant = not self.needs_events(self.store.position())
            self._dormant_checked_at = now
        return self._dormant

    def apply_partition(self, topic: str, partition: int, items: Sequence[PartitionItem]) -> int:
        if not items:
            return 0
        done = self._apply(topic, partition, items)
        last = max((position for _, position, _ in items if position is not None), default=None)
        if last is not None:
            self.handled[(topic, partition)] = max(last, self.handled.get((topic, partition), last))
        return done

    def _apply(self, topic: str, partition: int, items: Sequence[PartitionItem]) -> int:
        name = tracking_name(self.name, topic, partition)
        next_offset = items[-1][0] + 1
        if self._idle_and_recorded_lately(name, items):
            return 0

        def attempt() -> int:
            # Records below the stored offset were handled already (by this worker before a
            # failure, or by another before a rebalance): they are dropped, and the unit of work
            # records only if nobody records past the first remaining one meanwhile.
            recorded = self.store.tracked(name) or 0
            remaining = [item for item in items if item[0] >= recorded]
            if not remaining:
                return 0
            events = [e for _, _, e in remaining if e is not None and isinstance(e, self.reads)]
            upto = max((position for _, position, _ in remaining if position is not None), default=0)
            with self.store.unit_of_work(name, next_offset, after=remaining[0][0]):
                if events and self.needs_events(upto):
                    self.processor.handle(Batch(events=events, upto=upto, stopping=self.stopping))
            return len(events)

        done = retry_on_conflict(
            attempt, settled=lambda: (self.store.tracked(name) or 0) >= next_offset, what=name
        )
        self._recorded_at[name] = time.monotonic()
        return done or 0

    def _idle_and_recorded_lately(self, name: str, items: Sequence[PartitionItem]) -> bool:
        """Whether these records can have no effect and the partition's offset was recorded less
        than IDLE_RECORD_S ago. A commit per fetched batch of a million imported chains fought
        the import for the store's write lock; a range that can have no effect has none when it
        is delivered again either, so its offset may lag behind."""
        upto = max((position for _, position, _ in items if position is not None), default=-1)
        if self.needs_events(upto):
            return False
        return time.monotonic() - self._recorded_at.get(name, float("-inf")) < IDLE_RECORD_S


class KafkaHost(Hosted):
    """A processor's consumer group member, on the one lifecycle (a worker that fails is
    started again after a back-off; its partitions meanwhile go to the other workers)."""

    def __init__(
        self, store: EventStore, processor: Processor, config: KafkaConfig, *, progress: RelayProgress | None = None
    ):
        super().__init__(name=processor.name, backoff=Backoff(first_s=1.0, max_s=15.0))
        self.progress = progress  # the relay's, when it runs beside this member (wait_until)
        self.partitions = ProcessorPartitions(store, processor)
        self.partitions.stopping = lambda: self.stopping
        self.config = config
        self.worker: KafkaWorker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_consuming: asyncio.Event | None = None

    def run_once(self) -> None:
        """Consume until stopped (one round lasts as long as the consumer runs)."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._consume())
        finally:
            self._loop = None
            loop.close()

    async def _consume(self) -> None:
        self._stop_consuming = asyncio.Event()
        if self.stopping:
            return
        await create_topics(self.config)
        self.worker = KafkaWorker(self.partitions, self.config)
        await self.worker.run(self._stop_consuming)

    def idle(self) -> None:
        return  # a round ends only when stopping (or failing, which backs off)

    def caught_up_to(self) -> int | None:
        """The log position up to which this member has handled every record of its topics
        the relay published (None: the relay runs elsewhere). Partitions of the group's other
        members count as not handled: asked of one member of several, it says less."""
        if self.progress is None:
            return None
        relayed, published = self.progress.snapshot()
        if self.partitions.dormant():
            return relayed
        topics = set(self.partitions.topics)
        behind = [
            self.partitions.handled.get(key, 0)
            for key, last in published.items()
            if key[0] in topics and self.partitions.handled.get(key, -1) < last
        ]
        return min(behind) if behind else relayed

    def wait_until(self, position: int, timeout: float = 5.0) -> bool:
        """Block until this member has handled every record of its topics the relay published
        up to log ``position`` (True), or ``timeout`` passes. Counts what it handled since it
        started, and needs the relay's progress; a group of several members, each holding some
        partitions, is asked as a whole through its effects instead."""
        if self.progress is None:
            raise RuntimeError(f"{self.name}: no relay progress to wait on (the relay runs elsewhere)")
        topics = set(self.partitions.topics)
        deadline = time.monotonic() + timeout
        pause = 0.002
        while True:
            if not self.partitions.needs_events(position):
                return True  # nothing up to it can have an effect (a dormant member fetches nothing)
            relayed, published = self.progress.snapshot()
            if relayed >= position and all(
                self.partitions.handled.get(key, -1) >= last for key, last in published.items() if key[0] in topics
            ):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 1.5, 0.05)

    def interrupt(self) -> None:
        loop, stop = self._loop, self._stop_consuming
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
