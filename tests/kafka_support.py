"""What the Kafka tests and benchmarks share: bulk events, reading topics back, and the
checks that nothing was lost, reordered or applied twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition

from dialstream.bootstrap import all_projections
from dialstream.settings import Settings
from dialstream.store import EventStore
from processors.bus.kafka_cluster import EVENT_TOPICS, KafkaConfig, partition_for, topic_partitions
from processors.bus.wire import header
from projections.base import ProjectionStore
from projections.sql import Database, connect
from schemas import registry
from schemas.base import Event
from schemas.lists import ContactListChanged, ContactListCreated, ContactListSettings

LIST_SETTINGS = ContactListSettings()


def kafka_settings(data_dir: Path, bootstrap: str, **changes: Any) -> Settings:
    """Settings for a Kafka-mode runtime with topics of its own on a shared broker."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    return Settings(data_dir=data_dir, bus=f"kafka://{bootstrap}", topic_prefix=prefix, **changes)


def kafka_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a ``dialstream`` subprocess these settings."""
    return {
        "DIALSTREAM_DATA_DIR": str(settings.data_dir),
        "DIALSTREAM_DATABASE_URL": settings.database_url,
        "DIALSTREAM_VIEWS_URL": settings.views_url,
        "DIALSTREAM_BUS": settings.bus,
        "DIALSTREAM_TOPIC_PREFIX": settings.topic_prefix,
    }


def list_events(account_id: UUID, lists: int, changes: int) -> Iterator[list[Event]]:
    """Per contact list, one batch: created, then ``changes`` renames (1 + changes events)."""
    now = datetime.now(UTC)
    for n in range(lists):
        list_id = uuid.uuid4()
        batch: list[Event] = [
            ContactListCreated(
                originator_id=list_id, originator_version=1, timestamp=now, account_id=account_id,
                name=f"List {n}", description="", settings=LIST_SETTINGS,
            )
        ]
        batch += [
            ContactListChanged(
                originator_id=list_id, originator_version=version, timestamp=now, account_id=account_id,
                name=f"List {n} v{version}", description="", settings=LIST_SETTINGS,
            )
            for version in range(2, changes + 2)
        ]
        yield batch


def append_events(store: EventStore, batches: Iterable[list[Event]], per_append: int = 1000) -> int:
    """Append batches, several per call; return the last position."""
    pending: list[Event] = []
    position = store.position()
    for batch in batches:
        pending += batch
        if len(pending) >= per_append:
            position = store.append(pending)
            pending = []
    if pending:
        position = store.append(pending)
    return position


@dataclass(frozen=True)
class Consumed:
    topic: str
    partition: int
    offset: int
    key: bytes
    headers: tuple[tuple[str, bytes], ...]
    value: bytes

    @property
    def position(self) -> int:
        return int(header(self.headers, "position") or 0)


async def read_topics(config: KafkaConfig, names: Sequence[str]) -> list[Consumed]:
    """Every record now on the named topics, from the beginning to the end offsets."""
    # "earliest": a "latest" reset still in flight would win over the seek to the beginning.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=config.bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(config.topic(name), p)
            for name in names
            for p in await topic_partitions(consumer, config.topic(name))
        ]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Consumed] = []
        open_ = {tp for tp in partitions if ends[tp] > 0}
        while open_:
            batches = await consumer.getmany(*open_, timeout_ms=5000)
            if not batches:
                raise AssertionError(f"could not read to the end of {sorted(map(str, open_))}")
            for tp, batch in batches.items():
                for r in batch:
                    if r.offset < ends[tp]:
                        records.append(Consumed(
                            config.unprefixed(tp.topic), tp.partition, r.offset, r.key,
                            tuple(r.headers), r.value,
                        ))
                if consumer_position_done(batch, ends[tp]):
                    open_.discard(tp)
        return records
    finally:
        await consumer.stop()


def consumer_position_done(batch: Sequence[Any], end: int) -> bool:
    return bool(batch) and batch[-1].offset >= end - 1


def read_event_topics(config: KafkaConfig) -> list[Consumed]:
    return asyncio.run(read_topics(config, [spec.name for spec in EVENT_TOPICS]))


def check_topics_hold_the_log(store: EventStore, records: Sequence[Consumed]) -> int:
    """Assert every stored event is on its topic and partition, each aggregate's events in
    order; return how many records are extra copies (a relay restart may leave some)."""
    stored = {}
    position = 0
    while batch := store.read_stored(position, 5000):
        for n in batch:
            stored[n.id] = n
        position = batch[-1].id
    seen: dict[int, Consumed] = {}
    duplicates = 0
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        if record.position in seen:
            duplicates += 1
            continue
        seen[record.position] = record
    missing = sorted(set(stored) - set(seen))
    assert not missing, f"{len(missing)} events never reached Kafka, first {missing[:5]}"
    assert not set(seen) - set(stored), "Kafka holds events the store does not"
    last_version: dict[bytes, tuple[int, int]] = {}
    partitions = {spec.name: spec.partitions for spec in EVENT_TOPICS}
    for record in sorted(seen.values(), key=lambda r: (r.topic, r.partition, r.offset)):
        n = stored[record.position]
        tag = header(record.headers, "type")
        assert tag is not None
        assert record.topic == registry.BY_TAG[tag].TOPIC, f"{tag} on {record.topic}"
        assert record.key == str(n.originator_id).encode()
        assert record.partition == partition_for(record.key, partitions[record.topic])
        assert record.value == n.state
        assert header(record.headers, "event_id") == f"{n.originator_id}:{n.originator_version}"
        previous = last_version.get(record.key)
        if previous is not None:
            assert n.originator_version > previous[0], (
                f"aggregate {record.key!r}: v{n.originator_version} at offset {record.offset} "
                f"after v{previous[0]} at offset {previous[1]}"
            )
        last_version[record.key] = (n.originator_version, record.offset)
    return duplicates


def projection_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every projection table, sorted (not the position bookkeeping)."""
    rows = {}
    with db.transaction() as cursor:
        for projection in all_projections():
            for table in projection.tables:
                cursor.execute(f"SELECT * FROM {table}")
                rows[table] = sorted(tuple(r) for r in cursor.fetchall())
    return rows


def replayed_rows(store: EventStore, views_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The projection rows a replay of the whole log from the event store gives."""
    db = connect(views_url)
    try:
        projections = ProjectionStore(db, all_projections())
        position = 0
        while batch := store.read(position, 2000):
            for name in projections.projections:
                projections.apply(name, batch)
            position = batch[-1][0]
        return projection_rows(db)
    finally:
        db.close()
