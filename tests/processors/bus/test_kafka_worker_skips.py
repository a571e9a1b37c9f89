"""A Kafka worker decodes only the records of types its handler reads: the others (the million
chains an import brings, on a topic where two of three projections read other types) go to
the handler undecoded, with their offsets and positions, so that they still count as passed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from processors.bus.kafka_cluster import KafkaConfig
from processors.bus.kafka_worker import KafkaWorker, ProjectionHandler, ReadModelsHandler
from projections.base import ProjectionStore
from projections.record_suppressions import RecordSuppressions
from projections.records import Records, dump_rows
from projections.sql import connect
from schemas.records import RecordChainDeleted, RecordChainImported, RecordChainSuppressed
from tests.projections.test_records_stored import ACCOUNT, LIST, every_field


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
        assert asyncio.run(worker._handle(None, TopicPartition("records", 0), records)) == 3
        assert worker.parked == 0
        assert store.next_offsets("record_suppressions") == {("records", 0): 3}
        _, passed = store.applied_positions("record_suppressions")
        assert passed == {("records", 0): 12}, "skipped records count as passed for read-your-writes"
    finally:
        db.close()


def test_read_models_as_one_group_apply_each_record_from_their_own_offsets(tmp_path: Path) -> None:
    """One consumer group for several read models (``ReadModelsHandler``) fetches a partition
    from the lowest offset any of them resumes at; each applies only what it has not applied,
    and only the types it reads, while the rest still count as passed."""
    db = connect(f"sqlite:///{tmp_path / 'views.sqlite'}")
    try:
        store = ProjectionStore(db, [RecordSuppressions(), Records()])
        imported = [every_field(f"C{n}") for n in range(3)]
        deleted = RecordChainDeleted(
            originator_id=imported[0].originator_id, originator_version=2, timestamp=datetime(2026, 1, 3, tzinfo=UTC),
            account_id=ACCOUNT, list_id=LIST, client_id="C0", reason="retention",
        )
        items = [(offset, 10 + offset, event) for offset, event in enumerate([*imported, deleted])]
        # `records` read the first two chains on its own group before; `record_suppressions` nothing.
        assert store.apply_partition("records", "records", 0, items[:2]) == 2
        handler = ReadModelsHandler(store, ["record_suppressions", "records"])
        assert handler.name == "read-models", "all of the store's projections"
        assert ReadModelsHandler(store, ["records"]).name == "records"
        assert handler.topics == ("records", "lists"), "every topic one of them reads, once"
        assert handler.next_offsets() == {("records", 0): 0}, "from the offset of the one furthest behind"
        assert handler.wants(RecordChainImported.tag()) and handler.wants(RecordChainDeleted.tag())

        # Redelivered from offset 0: `records` applies the third chain and the deletion (two),
        # `record_suppressions` the deletion only (one); neither applies a record twice.
        assert handler.apply_partition("records", 0, items) == 3
        assert sorted({row[1] for row in dump_rows(db)["records"]}) == ["C1", "C2"]
        for name in ("records", "record_suppressions"):
            assert store.next_offsets(name) == {("records", 0): 4}
            assert store.applied_positions(name)[1] == {("records", 0): 13}
        assert handler.next_offsets() == {("records", 0): 4}
        assert handler.apply_partition("records", 0, items) == 0
    finally:
        db.close()
