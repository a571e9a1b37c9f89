"""Read-your-writes on Kafka waits for the command's own events: once the relay has published
them, the read models need only to have applied the partitions they went to. A partition held
back by other events (an import's chains on the records topic) does not make a command that
wrote elsewhere wait, while a command that wrote there still waits for it; without the partition
counts the relay recorded, the wait covers every partition, as it always did.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dialstream.bootstrap import all_projections
from dialstream.store import EventStore, store_env
from processors.bus.kafka import KafkaBus
from processors.bus.kafka_cluster import EVENT_TOPICS, KafkaConfig, partition_for
from processors.bus.relay import RelayProgress
from processors.bus.wire import kafka_key
from projections.base import ProjectionStore
from projections.sql import Database, connect
from schemas import topics
from tests.kafka_support import append_events, list_events

COUNTS = {spec.name: spec.partitions for spec in EVENT_TOPICS}


@dataclass
class Scene:
    store: EventStore
    views: Database
    projections: ProjectionStore
    progress: RelayProgress
    bus: KafkaBus
    where: dict[int, tuple[str, int]]  # each stored event's partition, by log position

    def published(self, upto: int) -> None:
        """The relay's record of having published everything up to ``upto``."""
        last: dict[tuple[str, int], int] = {}
        for position, partition in self.where.items():
            if position <= upto:
                last[partition] = max(last.get(partition, 0), position)
        self.progress.record(upto, last)

    def applied(self, upto: int, *, except_partition: tuple[str, int]) -> None:
        """Every read model of the lists topic has passed ``upto`` on every partition but one."""
        readers = [name for name, p in self.projections.projections.items() if topics.LISTS in p.topics]
        for partition in {p for p in self.where.values() if p != except_partition}:
            for name in readers:
                self.projections.apply_partition(name, partition[0], partition[1], [(0, upto, None)])


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    store = EventStore(store_env(f"sqlite:///{tmp_path / 'events.sqlite'}"))
    views = connect(f"sqlite:///{tmp_path / 'views.sqlite'}")
    projections = ProjectionStore(views, all_projections())
    progress = RelayProgress(views)
    bus = KafkaBus(store, projections, progress, KafkaConfig("127.0.0.1:9"), run_relay=False)
    try:
        append_events(store, list_events(uuid.uuid4(), lists=40, changes=0))
        where = {
            position: (topics.LISTS, partition_for(kafka_key(aggregate_id), COUNTS[topics.LISTS]))
            for position, aggregate_id, _, _, _ in store.read_outbox(0, 1000)
        }
        yield Scene(store, views, projections, progress, bus, where)
    finally:
        views.close()
        store.close()


def test_a_command_waits_for_its_own_partitions_not_for_one_held_back(scene: Scene) -> None:
    head = scene.store.position()
    ours = scene.where[head]
    behind = next(p for p in sorted(scene.where.values()) if p != ours)
    held_back_event = max(position for position, p in scene.where.items() if p == behind)
    scene.progress.record_partition_counts(COUNTS)
    scene.published(head)
    scene.applied(head, except_partition=behind)

    assert not scene.bus.wait_until(head, 0.1), "everything up to the head: the held-back partition too"
    assert scene.bus.wait_until(head, 0.1, since=head), "the command's own event is applied"
    assert not scene.bus.wait_until(head, 0.1, since=held_back_event), "its events include the held-back one"

    for name, projection in scene.projections.projections.items():
        if topics.LISTS in projection.topics:
            scene.projections.apply_partition(name, behind[0], behind[1], [(1, head, None)])
    assert scene.bus.wait_until(head, 0.1, since=held_back_event)
    assert scene.bus.wait_until(head, 0.1)


def test_a_command_waits_until_the_relay_has_published_it(scene: Scene) -> None:
    head = scene.store.position()
    scene.progress.record_partition_counts(COUNTS)
    scene.published(head - 1)
    scene.applied(head, except_partition=("none", -1))
    assert not scene.bus.wait_until(head, 0.1, since=head)
    scene.published(head)
    assert scene.bus.wait_until(head, 0.1, since=head)


def test_without_the_relays_partition_counts_a_command_waits_for_every_partition(scene: Scene) -> None:
    head = scene.store.position()
    behind = next(p for p in sorted(scene.where.values()) if p != scene.where[head])
    scene.published(head)  # by a relay that recorded no partition counts
    scene.applied(head, except_partition=behind)
    assert not scene.bus.wait_until(head, 0.1, since=head)
