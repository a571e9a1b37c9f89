"""Poison on the event topics, on a real broker: records no consumer can turn into an event
(undecodable bytes, an unknown type, a future schema version, no headers at all) are parked on
the dead-letter topic once by the consumer group that reads them (a process's read models are
one group, ``read-models``: a record is fetched and judged once for all of them), logged with their topic,
partition and offset, and stepped over; the good events around them still apply, the
consumers keep running, and a relay restarted with poison at the tail of a partition goes on
publishing without loss or doubles.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import pytest
from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import StoredEvent

from dialstream.bootstrap import Runtime, all_projections, build
from dialstream.store import EventStore
from processors.bus.kafka_cluster import KafkaConfig, create_topics, partition_for
from processors.bus.relay import Relay, RelayProgress
from processors.bus.wire import Headers, header, outgoing
from schemas import topics
from schemas.lists import ContactListChanged
from schemas.topics import BY_NAME, DEAD_LETTER
from tests.kafka import Broker
from tests.kafka_support import (
    LIST_SETTINGS,
    Consumed,
    append_events,
    check_topics_hold_the_log,
    kafka_settings,
    list_events,
    projection_rows,
    read_event_topics,
    read_topics,
    replayed_rows,
)

# Which consumer groups read each topic: the process's read models, as one group, wherever one of
# them reads it (see the projections' ``topics``). The compliance processor's group consumes the
# lists topic too, but reads no record of it (and so parks no poison) while the log creates no
# suppression list, as in this scene (tests/processors/host/test_kafka_partitions.py).
READ_MODELS = "read-models"
READERS = {
    topic: {READ_MODELS} if any(topic in p.topics for p in all_projections()) else set()
    for topic in (topics.LISTS, topics.SETTINGS)
}


@dataclass
class Planted:
    """A poison record as the broker stored it, and why a consumer must refuse it."""

    topic: str  # catalogue name
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    reason: str  # a part of the dead-letter reason


@dataclass
class Scene:
    runtime: Runtime
    config: KafkaConfig
    relay: Relay
    tmp_path: Path
    planted: list[Planted] = field(default_factory=list)

    @property
    def store(self) -> EventStore:
        return self.runtime.store

    def relay_all(self) -> int:
        """Run the relay (a new session each time: it reads the partitions' tails) to the head."""
        position = self.store.position()
        asyncio.run(self.relay.run_until(position))
        return position

    def plant(self, topic: str, partition: int, key: bytes | None, value: bytes | None,
              headers: Headers, reason: str) -> Planted:
        async def send() -> Planted:
            producer = AIOKafkaProducer(bootstrap_servers=self.config.bootstrap, client_id="test-poison")
            await producer.start()
            try:
                sent = await producer.send_and_wait(
                    self.config.topic(topic), value, key=key, partition=partition, headers=headers
                )
            finally:
                await producer.stop()
            return Planted(topic, partition, sent.offset, key, value, headers, reason)

        planted = asyncio.run(send())
        self.planted.append(planted)
        return planted

    def replayed(self) -> dict[str, list[tuple[object, ...]]]:
        views_url = f"sqlite:///{self.tmp_path / f'replayed-{uuid.uuid4().hex}.sqlite'}"
        return replayed_rows(self.store, views_url)


@pytest.fixture
def scene(tmp_path: Path, kafka_broker: Broker) -> Iterator[Scene]:
    settings = kafka_settings(tmp_path, kafka_broker.bootstrap)
    runtime = build(settings, relay=False)  # the relay runs here, step by step
    config = KafkaConfig.from_bus(settings.bus, settings.topic_prefix)
    asyncio.run(create_topics(config))
    try:
        yield Scene(runtime, config, Relay(runtime.store, RelayProgress(runtime.views), config), tmp_path)
    finally:
        runtime.stop()


def lists_partition(aggregate_id: UUID) -> int:
    return partition_for(str(aggregate_id).encode(), BY_NAME[topics.LISTS].partitions)


def stored_headers(store: EventStore, position: int) -> Headers:
    """The wire headers of the stored event at ``position``."""
    (notification,) = store.read_stored(position - 1, 1)
    return outgoing(notification).headers


def with_header(headers: Headers, name: str, value: bytes) -> Headers:
    return [(k, value if k == name else v) for k, v in headers]


def dead_letter_origin(record: Consumed) -> tuple[str, int, int, str]:
    def required(name: str) -> str:
        value = header(record.headers, name)
        assert value is not None, f"dead letter at offset {record.offset} lacks {name}"
        return value

    return (
        required("dead_letter.topic"),
        int(required("dead_letter.partition")),
        int(required("dead_letter.offset")),
        required("dead_letter.consumer"),
    )


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def list_names(runtime: Runtime) -> set[str]:
    return {row[2] for row in projection_rows(runtime.views)["hierarchy_lists"]}


def parked(runtime: Runtime) -> dict[str, int]:
    return {worker.name: worker.parked for worker in runtime.bus.workers}  # type: ignore[attr-defined]


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_poison_is_parked_per_consumer_and_the_good_events_around_it_apply(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="processors")
    store = scene.store
    account_id = uuid.uuid4()
    batches = list(list_events(account_id, lists=12, changes=2))
    first, second, third = batches[:4], batches[4:8], batches[8:]

    append_events(store, first)
    scene.relay_all()
    # A copy of the first list's created event, its bytes mangled, right after it on its partition.
    created = first[0][0]
    created_at = 1  # the store was empty
    scene.plant(
        topics.LISTS, lists_partition(created.originator_id), str(created.originator_id).encode(),
        b"\x00\xffnot json", stored_headers(store, created_at), "cannot decode event 'contact_list.created'",
    )
    # An event type this build has never heard of, where the second batch will land next.
    stranger = second[0][0].originator_id
    scene.plant(
        topics.LISTS, lists_partition(stranger), str(stranger).encode(), b"{}",
        with_header(stored_headers(store, created_at), "type", b"contact_list.teleported"),
        "unknown event type",
    )

    append_events(store, second)
    scene.relay_all()  # a new relay session: the partitions' tails now end in poison
    renamed_at = store.position()  # the last rename of the second batch
    renamed = second[-1][-1]
    scene.plant(
        topics.LISTS, lists_partition(renamed.originator_id), str(renamed.originator_id).encode(),
        store.read_stored(renamed_at - 1, 1)[0].state,
        with_header(stored_headers(store, renamed_at), "schema_version", b"99"),
        "newer than this build understands",
    )
    quiet = third[0][0].originator_id
    scene.plant(topics.LISTS, lists_partition(quiet), b"no-headers", b"hello", [], "missing header")
    scene.plant(topics.SETTINGS, 0, None, b"hello, settings", [], "missing header")

    append_events(store, third)
    scene.relay_all()

    runtime = scene.runtime
    runtime.start()
    assert runtime.catch_up(60), "the projections did not catch up past the poison"
    assert projection_rows(runtime.views) == scene.replayed()

    # Every poison record on the dead-letter topic, once, by the read models' group.
    dead = asyncio.run(read_topics(scene.config, [DEAD_LETTER]))
    by_origin = {dead_letter_origin(record): record for record in dead}
    assert len(by_origin) == len(dead), "a consumer parked a record twice"
    expected = {
        (scene.config.topic(p.topic), p.partition, p.offset, consumer): p
        for p in scene.planted
        for consumer in READERS[p.topic]
    }
    assert set(by_origin) == set(expected)
    for origin, planted in expected.items():
        record = by_origin[origin]
        assert record.key == planted.key
        assert record.value == planted.value
        assert list(record.headers[: len(planted.headers)]) == planted.headers, "original headers first"
        reason = header(record.headers, "dead_letter.reason")
        assert reason is not None and planted.reason in reason, (reason, planted)

    # The log says where each one was, and which consumer parked it.
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    for topic, partition, offset, consumer in expected:
        where = f"{consumer}: parking {topic}[{partition}]@{offset}"
        assert any(m.startswith(where) for m in messages), (where, messages)
    assert parked(runtime) == {READ_MODELS: len(scene.planted)}

    # The consumers are still running: new events on the poisoned partitions (a rename of the
    # list next to the mangled copy) and on settings (a new account and its key) apply.
    rename = ContactListChanged(
        originator_id=created.originator_id, originator_version=4, timestamp=created.timestamp,
        account_id=account_id, name="Renamed after the poison", description="", settings=LIST_SETTINGS,
    )
    store.append([rename])
    opened = runtime.handlers.accounts.open_account("After the poison")
    runtime.handlers.accounts.issue_api_key(opened.id, "ops", "admin")
    scene.relay_all()
    assert runtime.catch_up(30)
    assert projection_rows(runtime.views) == scene.replayed()
    assert "Renamed after the poison" in list_names(runtime)

    # Restarted after every batch with poison at the partitions' tails, the relay published
    # every event exactly once, each aggregate's in order.
    poison = {(p.topic, p.partition, p.offset) for p in scene.planted}
    records = read_event_topics(scene.config)
    assert {(r.topic, r.partition, r.offset) for r in records} >= poison
    good = [r for r in records if (r.topic, r.partition, r.offset) not in poison]
    assert check_topics_hold_the_log(store, good) == 0


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_a_record_with_neither_key_nor_value_is_parked_not_fatal(scene: Scene) -> None:
    """aiokafka cannot send such a record, but other clients can (a null tombstone)."""

    async def send_null() -> int:
        producer = AIOKafkaProducer(bootstrap_servers=scene.config.bootstrap, client_id="test-poison")
        await producer.start()
        try:
            batch = producer.create_batch()
            assert batch.append(key=None, value=None, timestamp=None, headers=[]) is not None
            batch.close()
            ack = await producer.send_batch(batch, scene.config.topic(topics.SETTINGS), partition=0)
            sent = await ack
            return int(sent.offset)
        finally:
            await producer.stop()

    offset = asyncio.run(send_null())
    runtime = scene.runtime
    runtime.start()
    assert wait_for(lambda: parked(runtime) == {READ_MODELS: 1})
    opened = runtime.handlers.accounts.open_account("After a null record")
    runtime.handlers.accounts.issue_api_key(opened.id, "ops", "admin")
    scene.relay_all()
    assert runtime.catch_up(30), f"the bus stopped: {runtime.bus.error!r}"
    assert runtime.bus.error is None
    assert projection_rows(runtime.views) == scene.replayed()
    dead = asyncio.run(read_topics(scene.config, [DEAD_LETTER]))
    settings_topic = scene.config.topic(topics.SETTINGS)
    assert sorted(dead_letter_origin(r) for r in dead) == [
        (settings_topic, 0, offset, READ_MODELS)
    ]
    assert {(r.key, r.value) for r in dead} == {(None, b"")}


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_a_parked_event_does_not_hold_back_read_your_writes_elsewhere(scene: Scene) -> None:
    """An event stored by a newer build (schema v99) reaches this build's consumers, which park
    it. Later writes to other aggregates, on other partitions, must still be readable."""
    store, runtime = scene.store, scene.runtime
    account_id = uuid.uuid4()
    batches = iter(list_events(account_id, lists=50, changes=0))
    newer = next(batches)[0]
    elsewhere = next(
        b[0] for b in batches if lists_partition(b[0].originator_id) != lists_partition(newer.originator_id)
    )
    append_events(store, [[newer], [elsewhere]])
    scene.relay_all()
    runtime.start()
    assert runtime.catch_up(30)

    # What a newer build would store; this build's relay publishes it as it is.
    store.recorder.insert_events([
        StoredEvent(originator_id=newer.originator_id, originator_version=2,
                    topic="contact_list.changed/v99", state=b'{"type": "contact_list.changed"}')
    ])
    scene.relay_all()
    assert wait_for(lambda: parked(runtime) == {READ_MODELS: 1})

    renamed = ContactListChanged(
        originator_id=elsewhere.originator_id, originator_version=2, timestamp=elsewhere.timestamp,
        account_id=account_id, name="Renamed elsewhere", description="", settings=LIST_SETTINGS,
    )
    position = store.append([renamed])
    scene.relay_all()
    assert wait_for(lambda: "Renamed elsewhere" in list_names(runtime)), "the rename was not applied at all"
    assert runtime.wait(position, 3), "read-your-writes waits for a parked event on another partition"
