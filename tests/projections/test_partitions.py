"""Per-partition progress of the projections on Kafka (``ProjectionStore.apply_partition``),
on SQLite and on PostgreSQL: nothing applies twice, whether Kafka redelivers an offset or a
restarted relay publishes an event again at a new offset, and a replay's floor holds.

The events are real (contact lists created and renamed, stored in a real event store, so
positions are the log's); the projections are the ones production runs.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dialstream.bootstrap import all_projections
from dialstream.store import EventStore, store_env
from projections.base import PartitionItem, ProjectionStore
from projections.sql import Cursor, Database, connect
from schemas import topics
from schemas.base import Event
from tests.kafka_support import append_events, list_events

Logged = list[tuple[int, Event]]
LISTS = topics.LISTS


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def views_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'views.sqlite'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture
def views(views_url: str) -> Iterator[Database]:
    db = connect(views_url)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def store(views: Database) -> ProjectionStore:
    return ProjectionStore(views, all_projections())


@pytest.fixture
def logged(tmp_path: Path) -> Logged:
    """Three contact lists, each created and renamed twice, as the event log has them:
    list n is at positions 3n+1 (created, "List n"), 3n+2 ("List n v2"), 3n+3 ("List n v3")."""
    events = EventStore(store_env(f"sqlite:///{tmp_path / 'events.sqlite'}"))
    try:
        append_events(events, list_events(uuid.uuid4(), lists=3, changes=2))
        log = events.read(0, 100)
    finally:
        events.close()
    assert [p for p, _ in log] == list(range(1, 10))
    return log


def of_list(log: Logged, n: int) -> Logged:
    return log[3 * n : 3 * n + 3]


def items(entries: Logged, first_offset: int = 0) -> list[PartitionItem]:
    return [(first_offset + i, position, event) for i, (position, event) in enumerate(entries)]


def list_names(db: Database) -> dict[str, str]:
    """What the hierarchy projection shows: contact list id -> name."""
    with db.transaction() as cursor:
        cursor.execute("SELECT id, name FROM hierarchy_lists")
        return {str(i): str(n) for i, n in cursor.fetchall()}


def catalogued(db: Database) -> dict[str, tuple[str, int]]:
    """What the catalogue projection shows of contact lists: id -> (name, version)."""
    with db.transaction() as cursor:
        cursor.execute("SELECT id, name, version FROM catalogue WHERE kind = 'contact-list'")
        return {str(i): (str(n), int(v)) for i, n, v in cursor.fetchall()}


def rows(db: Database, name: str) -> dict[str, list[tuple[Any, ...]]]:
    projection = {p.name: p for p in all_projections()}[name]
    found = {}
    with db.transaction() as cursor:
        for table in projection.tables:
            cursor.execute(f"SELECT * FROM {table}")
            found[table] = sorted(tuple(r) for r in cursor.fetchall())
    return found


def replayed(tmp_path: Path, name: str, log: Logged) -> dict[str, list[tuple[Any, ...]]]:
    """The rows the embedded path (whole log, in order) gives for these events."""
    db = connect(f"sqlite:///{tmp_path / f'replayed-{uuid.uuid4().hex}.sqlite'}")
    try:
        ProjectionStore(db, all_projections()).apply(name, log)
        return rows(db, name)
    finally:
        db.close()


def list_id(log: Logged, n: int) -> str:
    return str(of_list(log, n)[0][1].originator_id)


# Redelivery --------------------------------------------------------------------------------


def test_a_partition_applies_in_offset_order_and_records_its_progress(
    store: ProjectionStore, views: Database, logged: Logged, tmp_path: Path
) -> None:
    first = of_list(logged, 0)
    assert store.apply_partition("hierarchy", LISTS, 2, items(first)) == 3
    assert store.next_offsets("hierarchy") == {(LISTS, 2): 3}
    assert store.applied_positions("hierarchy") == (0, {(LISTS, 2): 3})
    assert list_names(views) == {list_id(logged, 0): "List 0 v3"}
    assert rows(views, "hierarchy") == replayed(tmp_path, "hierarchy", first)
    # The embedded position is not touched: it is the replay's floor, not Kafka progress.
    assert store.position("hierarchy") == 0


def test_redelivered_offsets_are_skipped(store: ProjectionStore, views: Database, logged: Logged) -> None:
    first = items(of_list(logged, 0))
    assert store.apply_partition("catalogue", LISTS, 0, first) == 3
    before = rows(views, "catalogue")
    assert store.apply_partition("catalogue", LISTS, 0, first) == 0
    assert store.apply_partition("catalogue", LISTS, 0, first[1:2]) == 0
    assert rows(views, "catalogue") == before
    assert catalogued(views) == {list_id(logged, 0): ("List 0 v3", 3)}
    assert store.next_offsets("catalogue") == {(LISTS, 0): 3}

    # A batch that starts with records already applied (a rebalance mid-batch) applies the rest.
    second = items(of_list(logged, 1), first_offset=3)
    assert store.apply_partition("catalogue", LISTS, 0, first[1:] + second) == 3
    assert store.next_offsets("catalogue") == {(LISTS, 0): 6}
    assert store.applied_positions("catalogue") == (0, {(LISTS, 0): 6})
    assert catalogued(views) == {list_id(logged, 0): ("List 0 v3", 3), list_id(logged, 1): ("List 1 v3", 3)}


def test_a_relayed_duplicate_at_a_new_offset_is_skipped_but_its_offset_advances(
    store: ProjectionStore, views: Database, logged: Logged, tmp_path: Path
) -> None:
    """A relay that crashed between Kafka's acknowledgement and recording its position
    publishes the same events again, after the originals, at new offsets."""
    first = of_list(logged, 0)
    assert store.apply_partition("hierarchy", LISTS, 0, items(first)) == 3
    # The renames to "v2" (position 2) and "v3" (position 3) again: applying the first would
    # roll the name back, so a skipped duplicate is visible.
    again = items(first[1:], first_offset=3)
    assert store.apply_partition("hierarchy", LISTS, 0, again) == 0
    assert list_names(views) == {list_id(logged, 0): "List 0 v3"}
    assert store.next_offsets("hierarchy") == {(LISTS, 0): 5}
    assert store.applied_positions("hierarchy") == (0, {(LISTS, 0): 3})
    # And the created event (position 1) once more, beside a genuinely new one: only that applies.
    new = of_list(logged, 1)[0]
    batch: list[PartitionItem] = [(5, *first[0]), (6, *new)]
    assert store.apply_partition("hierarchy", LISTS, 0, batch) == 1
    assert store.next_offsets("hierarchy") == {(LISTS, 0): 7}
    assert store.applied_positions("hierarchy") == (0, {(LISTS, 0): new[0]})
    assert rows(views, "hierarchy") == replayed(tmp_path, "hierarchy", [*first, new])


def test_parked_records_advance_the_offset_only(
    store: ProjectionStore, views: Database, logged: Logged
) -> None:
    parked: PartitionItem = (0, None, None)
    assert store.apply_partition("hierarchy", LISTS, 4, [parked]) == 0
    assert store.next_offsets("hierarchy") == {(LISTS, 4): 1}
    assert store.applied_positions("hierarchy") == (0, {(LISTS, 4): 0})
    assert list_names(views) == {}

    created, renamed, renamed_again = of_list(logged, 0)
    batch: list[PartitionItem] = [(1, *created), (2, None, None), (3, *renamed), (4, None, None)]
    assert store.apply_partition("hierarchy", LISTS, 4, batch) == 2
    assert store.next_offsets("hierarchy") == {(LISTS, 4): 5}
    assert store.applied_positions("hierarchy") == (0, {(LISTS, 4): renamed[0]})
    assert list_names(views) == {list_id(logged, 0): "List 0 v2"}
    # A parked record redelivered is skipped like any other offset.
    assert store.apply_partition("hierarchy", LISTS, 4, [(4, None, None), (5, *renamed_again)]) == 1
    assert store.next_offsets("hierarchy") == {(LISTS, 4): 6}
    assert list_names(views) == {list_id(logged, 0): "List 0 v3"}


def test_an_empty_batch_changes_nothing(store: ProjectionStore, logged: Logged) -> None:
    assert store.apply_partition("hierarchy", LISTS, 0, []) == 0
    assert store.next_offsets("hierarchy") == {}


# The floor a replay leaves -----------------------------------------------------------------


def test_the_floor_a_replay_set_suppresses_older_events(
    store: ProjectionStore, views: Database, logged: Logged, tmp_path: Path
) -> None:
    """`dialstream replay` applies the log through ProjectionStore.apply; a worker that then
    reads the topics from the beginning must not apply those events again."""
    assert store.apply("hierarchy", logged[:5]) == 5  # lists 0 and the first two of list 1
    assert store.applied_positions("hierarchy") == (5, {})
    list_1 = of_list(logged, 1)
    assert list_names(views)[list_id(logged, 1)] == "List 1 v2"

    # List 1 arrives on its partition from offset 0: positions 4 and 5 are below the floor.
    assert store.apply_partition("hierarchy", LISTS, 3, items(list_1)) == 1
    assert store.next_offsets("hierarchy") == {(LISTS, 3): 3}
    assert store.applied_positions("hierarchy") == (5, {(LISTS, 3): 6})
    # List 0, wholly below the floor, on another partition: offsets advance, nothing applies.
    assert store.apply_partition("hierarchy", LISTS, 1, items(of_list(logged, 0))) == 0
    assert store.next_offsets("hierarchy") == {(LISTS, 3): 3, (LISTS, 1): 3}
    assert store.apply_partition("hierarchy", LISTS, 5, items(of_list(logged, 2))) == 3
    assert rows(views, "hierarchy") == replayed(tmp_path, "hierarchy", logged)
    # The floor only guards one projection.
    assert store.apply_partition("catalogue", LISTS, 1, items(of_list(logged, 0))) == 3


def test_reset_clears_the_partitions_of_that_projection_only(
    store: ProjectionStore, views: Database, logged: Logged
) -> None:
    for name in ("hierarchy", "catalogue"):
        assert store.apply_partition(name, LISTS, 0, items(of_list(logged, 0))) == 3
        assert store.apply_partition(name, LISTS, 1, items(of_list(logged, 1))) == 3
    assert store.apply("hierarchy", logged[:2]) == 2  # a floor, too

    store.reset("hierarchy")
    assert store.next_offsets("hierarchy") == {}
    assert store.applied_positions("hierarchy") == (0, {})
    assert list_names(views) == {}
    assert store.next_offsets("catalogue") == {(LISTS, 0): 3, (LISTS, 1): 3}
    assert len(catalogued(views)) == 2

    # Rewound: the same records apply again from offset 0.
    assert store.apply_partition("hierarchy", LISTS, 0, items(of_list(logged, 0))) == 3
    assert list_names(views) == {list_id(logged, 0): "List 0 v3"}


# Independence ------------------------------------------------------------------------------


def test_partitions_are_independent(
    store: ProjectionStore, views: Database, logged: Logged, tmp_path: Path
) -> None:
    """Each partition is in log order, but the partitions interleave arbitrarily: a partition
    far ahead must not make another one's earlier positions look applied."""
    assert store.apply_partition("hierarchy", LISTS, 0, items(of_list(logged, 2))) == 3  # positions 7-9
    # Same offsets, lower positions, another partition: all apply.
    assert store.apply_partition("hierarchy", LISTS, 1, items(of_list(logged, 0))) == 3  # positions 1-3
    # Same partition number on another topic is another partition.
    assert store.apply_partition("hierarchy", topics.CAMPAIGNS, 0, [(0, None, None)]) == 0
    assert store.apply_partition("hierarchy", LISTS, 2, items(of_list(logged, 1))) == 3  # positions 4-6
    assert store.next_offsets("hierarchy") == {
        (LISTS, 0): 3, (LISTS, 1): 3, (LISTS, 2): 3, (topics.CAMPAIGNS, 0): 1,
    }
    assert store.applied_positions("hierarchy") == (
        0, {(LISTS, 0): 9, (LISTS, 1): 3, (LISTS, 2): 6, (topics.CAMPAIGNS, 0): 0},
    )
    assert rows(views, "hierarchy") == replayed(tmp_path, "hierarchy", logged)
    # Redelivery on one partition does not disturb the others.
    assert store.apply_partition("hierarchy", LISTS, 1, items(of_list(logged, 0))) == 0
    assert store.apply_partition("hierarchy", LISTS, 2, items(of_list(logged, 1), first_offset=3)) == 0
    assert store.next_offsets("hierarchy")[(LISTS, 0)] == 3
    # Nor does another projection reading the same partition.
    assert store.next_offsets("catalogue") == {}
    assert store.apply_partition("catalogue", LISTS, 0, items(of_list(logged, 2))) == 3


# Two workers handed the same partition -----------------------------------------------------


class Held:
    """The real hierarchy projection, stopped inside its first ``apply`` until released."""

    def __init__(self) -> None:
        real = next(p for p in all_projections() if p.name == "hierarchy")
        self.real = real
        self.name, self.tables, self.topics = real.name, real.tables, real.topics
        self.inside = threading.Event()
        self.release = threading.Event()

    def create_tables(self, cursor: Cursor) -> None:
        self.real.create_tables(cursor)

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        self.inside.set()
        assert self.release.wait(30)
        self.real.apply(cursor, event, position)


def test_two_workers_on_one_partition_apply_it_once(
    store: ProjectionStore, views_url: str, logged: Logged, tmp_path: Path
) -> None:
    """In a rebalance the old and the new owner may briefly both hold a partition: with two
    connections, the second waits for the first and then skips what it applied."""
    batch = items(of_list(logged, 0))
    assert store.apply_partition("hierarchy", LISTS, 0, batch[:1]) == 1  # the row exists
    held = Held()
    first_db, second_db = connect(views_url), connect(views_url)
    try:
        first = ProjectionStore(first_db, [held])
        second = ProjectionStore(second_db, all_projections())
        applied: dict[str, int] = {}
        errors: list[BaseException] = []

        def run(label: str, projections: ProjectionStore) -> None:
            try:
                applied[label] = projections.apply_partition("hierarchy", LISTS, 0, batch)
            except BaseException as error:  # reported below
                errors.append(error)

        one = threading.Thread(target=run, args=("first", first))
        one.start()
        assert held.inside.wait(30), "the first worker never reached the projection"
        two = threading.Thread(target=run, args=("second", second))
        two.start()
        two.join(0.5)
        still_waiting = two.is_alive()
        held.release.set()
        one.join(30)
        two.join(30)
        assert not errors, errors
        assert still_waiting, "the second worker did not wait for the first one's transaction"
        assert applied == {"first": 2, "second": 0}
    finally:
        held.release.set()
        first_db.close()
        second_db.close()
    assert store.next_offsets("hierarchy") == {(LISTS, 0): 3}
    assert rows(store.db, "hierarchy") == replayed(tmp_path, "hierarchy", of_list(logged, 0))

