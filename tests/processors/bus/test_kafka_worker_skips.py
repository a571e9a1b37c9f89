"""A Kafka worker decodes only the records of types its handler reads: the others (the million
chains an import brings, on a topic where two of three projections read other types) go to
the handler undecoded, with their offsets and positions, so that they still count as passed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from processors.bus.kafka_cluster import KafkaConfig
from processors.bus.kafka_worker import KafkaWorker, ProjectionHandler
from projections.base import ProjectionStore
from projections.record_suppressions import RecordSuppressions
from projections.records import Records
from projections.sql import connect
from schemas.records import RecordChainDeleted, RecordChainImported, RecordChainSuppressed


def _record(offset: int, tag: str, position: int, value: bytes) -> ConsumerRecord[Any, Any]:
    headers = (
        ("type", tag.encode()),
        ("schema_version", b"1"),
        ("event_id", b"x:1"),
        ("position", b"%d" % position),
    )
    return ConsumerRecord("records", 0, offset, 0, 0, b"k", value, None, 1, len(value), headers)


def test_records_of_a_type_the_handler_does_not_read_are_passed_undecoded(tmp_path: Path) -> None:
    db = connect(f"sqlite:///{tmp_path / 'views.sqlite'}")
    try:
        store = ProjectionStore(db, [RecordSuppressions(), Records()])
        assert not store.reads("record_suppressions", RecordChainImported.tag())
        assert store.reads("record_suppressions", RecordChainSuppressed.tag())
        assert store.reads("record_suppressions", RecordChainDeleted.tag())
        assert store.reads("records", RecordChainImported.tag())
        assert store.reads("record_suppressions", "no_such.type"), "decoded, so that it is parked"

        worker = KafkaWorker(ProjectionHandler(store, "record_suppressions"), KafkaConfig("127.0.0.1:9"))
        # Not JSON at all: decoding it would park it (and need the dead-letter producer).
        records = [
            _record(offset, RecordChainImported.tag(), 10 + offset, b"\xff not json") for offset in range(3)
        ]
        asyncio.run(worker._handle(None, None, TopicPartition("records", 0), records))
        assert worker.parked == 0
        assert store.next_offsets("record_suppressions") == {("records", 0): 3}
        _, passed = store.applied_positions("record_suppressions")
        assert passed == {("records", 0): 12}, "skipped records count as passed for read-your-writes"
    finally:
        db.close()
