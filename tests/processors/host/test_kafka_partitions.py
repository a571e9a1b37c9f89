"""What the Kafka processor host reads of a partition: records that cannot matter to the
processor (its ``nothing_to_do`` says so up to their log position) are neither decoded nor
handled, and their offsets are recorded at most every IDLE_RECORD_S, since a commit per fetched
batch fought a million-row import for the store's write lock."""

from __future__ import annotations

import pytest

from dialstream.store import EventStore
from processors.host import kafka
from processors.host.kafka import ProcessorPartitions
from processors.host.processor import Batch
from schemas.base import Event
from schemas.settings import AccountOpened
from tests.processors.host.test_exactly_once import open_accounts, records


class Gated:
    """Has something to do only from log position ``from_position`` on (compliance: once a
    suppression list exists)."""

    name = "gated"
    reads: tuple[type[Event], ...] = (AccountOpened,)

    def __init__(self, from_position: int):
        self.from_position = from_position
        self.handled: list[int] = []
        self.asked: list[tuple[int, int]] = []  # the stretches nothing_to_do was asked about

    def handle(self, batch: Batch) -> None:
        self.handled.extend(batch.upto for _ in batch.events)

    def nothing_to_do(self, after: int, upto: int) -> bool:
        self.asked.append((after, upto))
        return upto < self.from_position


def test_records_decoded_only_once_they_can_matter(store: EventStore) -> None:
    partitions = ProcessorPartitions(store, Gated(from_position=10))
    assert not partitions.needs_events(9)
    assert partitions.needs_events(10)
    assert partitions.needs_events(-1), "a record without a position (poison) is decoded, and parked"


def test_the_processor_is_asked_only_about_the_stretch_past_the_last_answer(store: EventStore) -> None:
    processor = Gated(from_position=10)
    partitions = ProcessorPartitions(store, processor)
    assert not partitions.needs_events(4)
    assert not partitions.needs_events(7)
    assert not partitions.needs_events(6), "inside a stretch known to be quiet"
    assert partitions.needs_events(12)
    assert partitions.needs_events(15), "past a position known to need events"
    assert not partitions.needs_events(9)
    assert partitions.needs_events(10)
    assert processor.asked == [(0, 4), (4, 7), (7, 12), (7, 9), (9, 10)]


def test_idle_records_are_not_handled_and_their_offsets_recorded_at_most_every_interval(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_accounts(store, 6)
    processor = Gated(from_position=5)
    partitions = ProcessorPartitions(store, processor)
    skipped = [(offset, position, None) for offset, position, _ in records(store)[:4]]
    name = "gated@settings/0"

    assert partitions.apply_partition("settings", 0, skipped[:2]) == 0
    assert store.tracked(name) == 2, "the first idle batch records its offset"
    assert partitions.apply_partition("settings", 0, skipped[2:]) == 0
    assert store.tracked(name) == 2, "the next one, within the interval, does not"
    monkeypatch.setattr(kafka, "IDLE_RECORD_S", 0.0)
    assert partitions.apply_partition("settings", 0, skipped[2:]) == 0
    assert store.tracked(name) == 4, "past the interval it does"
    assert processor.handled == []

    live = records(store)[4:]
    assert partitions.apply_partition("settings", 0, live) == 2
    assert store.tracked(name) == 6
    assert processor.handled == [6, 6]


def test_a_processor_is_dormant_until_the_log_holds_something_it_can_act_on(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka, "DORMANT_CHECK_S", 0.0)
    open_accounts(store, 3)
    partitions = ProcessorPartitions(store, Gated(from_position=5))
    assert partitions.dormant(), "nothing up to the head (3) can matter: the worker fetches nothing"
    open_accounts(store, 3)
    assert not partitions.dormant(), "the head (6) is past where the processor has work"


def test_dormancy_is_asked_of_the_store_at_most_every_interval(store: EventStore) -> None:
    open_accounts(store, 3)
    partitions = ProcessorPartitions(store, Gated(from_position=5))
    assert partitions.dormant()
    open_accounts(store, 3)
    assert partitions.dormant(), "within DORMANT_CHECK_S the last answer stands"
