"""The relay's read path: ``EventStore.read_outbox`` and ``wire.outgoing_row`` give, byte for
byte, the records that ``read_stored`` and ``outgoing`` give (the public wire format), on
SQLite (file and in-memory) and on a real PostgreSQL; and the relay's wait for Kafka's
acknowledgements returns only once every record has settled, raising the first failure.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.errors import KafkaTimeoutError, NotLeaderForPartitionError
from eventsourcing.persistence import StoredEvent

from dialstream.store import EventStore, store_env
from processors.bus.relay import acknowledged
from processors.bus.wire import OutgoingRecord, outgoing, outgoing_row
from schemas import registry
from tests.kafka_support import append_events, list_events


def sqlite_store(tmp_path: Path) -> EventStore:
    return EventStore(store_env(f"sqlite:///{tmp_path / 'events.sqlite'}"))


def memory_store(tmp_path: Path) -> EventStore:
    env = store_env(f"sqlite:///{tmp_path / 'unused.sqlite'}")
    env["SQLITE_DBNAME"] = "file:relay-read-path?mode=memory&cache=shared"
    return EventStore(env)


@pytest.fixture(params=["sqlite", "sqlite-memory", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "postgres":
        url: str = request.getfixturevalue("fresh_postgres_database")
        event_store = EventStore(store_env(url))
    elif request.param == "sqlite-memory":
        event_store = memory_store(tmp_path)
        assert event_store.recorder.datastore.pool.is_sqlite_memory_mode  # type: ignore[attr-defined]
    else:
        event_store = sqlite_store(tmp_path)
    try:
        yield event_store
    finally:
        event_store.close()


def by_notifications(store: EventStore, after: int, limit: int) -> list[OutgoingRecord]:
    return [outgoing(n) for n in store.read_stored(after, limit)]


def by_rows(store: EventStore, after: int, limit: int) -> list[OutgoingRecord]:
    return [outgoing_row(*row) for row in store.read_outbox(after, limit)]


def test_read_outbox_gives_the_records_read_stored_gives(store: EventStore) -> None:
    head = append_events(store, list_events(uuid.uuid4(), lists=30, changes=4))  # 150 events
    everything = by_notifications(store, 0, 1000)
    assert len(everything) == 150
    assert by_rows(store, 0, 1000) == everything
    # The same windows: after a position, up to a limit.
    for after, limit in [(0, 1), (0, 64), (37, 50), (149, 10), (head - 1, 5), (head, 5)]:
        assert by_rows(store, after, limit) == by_notifications(store, after, limit), (after, limit)
    assert by_rows(store, head, 5) == []
    # What the relay relies on: log order, keys spelled as UUIDs, the bytes as stored.
    positions = [record.position for record in everything]
    assert positions == sorted(positions) and len(set(positions)) == 150
    for record in everything[:20]:
        assert record.key == str(uuid.UUID(record.key.decode())).encode()
        event = registry.decode_any(record.value)
        assert record.key == str(event.originator_id).encode()


@pytest.mark.parametrize("spell", [str.upper, lambda hex_id: f"{{{hex_id}}}", lambda hex_id: f"urn:uuid:{hex_id}"],
                         ids=["upper-hex", "braces", "urn"])
def test_an_id_stored_in_another_spelling_is_keyed_as_the_library_reads_it(tmp_path: Path, spell: object) -> None:
    store = sqlite_store(tmp_path)
    try:
        append_events(store, list_events(uuid.uuid4(), lists=1, changes=1))
        (created, _) = store.read_stored(0, 10)
        aggregate_id = uuid.uuid4()
        assert callable(spell)
        store.recorder.insert_events([
            StoredEvent(spell(aggregate_id.hex), 1, created.topic, created.state),
        ])
        records = by_rows(store, 0, 10)
        assert records == by_notifications(store, 0, 10)
        assert records[-1].key == str(aggregate_id).encode()
    finally:
        store.close()


def futures(loop: asyncio.AbstractEventLoop, count: int) -> list[asyncio.Future[int]]:
    return [loop.create_future() for _ in range(count)]


def test_acknowledged_waits_for_every_record_not_only_each_partitions_last() -> None:
    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        sent = futures(loop, 4)  # partition A: 0, 2; partition B: 1, 3
        steps: list[str] = []
        waiting = asyncio.ensure_future(acknowledged(sent, [sent[2], sent[3]]))
        for n in (3, 2, 0):  # the lasts first: a record settled out of order is still waited for
            sent[n].set_result(n)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        steps.append("done" if waiting.done() else "waiting")
        sent[1].set_result(1)
        await waiting
        steps.append("done")
        return steps

    assert asyncio.run(scenario()) == ["waiting", "done"]


def test_acknowledged_raises_the_first_failure_once_everything_settled() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        sent = futures(loop, 5)
        waiting = asyncio.ensure_future(acknowledged(sent, [sent[3], sent[4]]))
        sent[0].set_result(0)
        sent[1].set_exception(NotLeaderForPartitionError())
        sent[2].set_exception(KafkaTimeoutError())
        sent[3].set_result(3)
        await asyncio.sleep(0)
        assert not waiting.done()  # a partition still in flight
        sent[4].set_result(4)
        with pytest.raises(NotLeaderForPartitionError):
            await waiting

    asyncio.run(scenario())


def test_acknowledged_of_nothing_returns_at_once() -> None:
    asyncio.run(asyncio.wait_for(acknowledged([], []), 1))
