"""How the embedded bus's batches reach each read model (``ProjectionStore.apply_log``): the
events a read model applies, in log order, once; the others skipped without being decoded;
its position at the batch's end in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from dialstream.store import LogEntry, stored_topic
from projections.base import ProjectionStore
from projections.sql import Cursor, SQLiteDatabase
from schemas import registry, topics
from schemas.base import Event
from schemas.lists import ContactListArchived, ContactListAssigned, ContactListUnassigned

LIST = UUID("5d1e0a2b-0000-4000-8000-000000000001")
ACCOUNT = UUID("5d1e0a2b-0000-4000-8000-000000000002")
GROUP = UUID("5d1e0a2b-0000-4000-8000-000000000003")
AT = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


class Memberships:
    """Reads two of the lists topic's event types, one at a time, noting each it applied."""

    name = "memberships"
    tables: tuple[str, ...] = ("memberships",)
    topics: tuple[str, ...] = (topics.LISTS,)
    events: tuple[type[Event], ...] = (ContactListAssigned, ContactListUnassigned)

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute("CREATE TABLE IF NOT EXISTS memberships (position INTEGER, kind TEXT)")

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        cursor.execute("INSERT INTO memberships VALUES (?, ?)", (position, type(event).__name__))


class Together(Memberships):
    """The same, a batch's events in one call."""

    name = "together"
    tables: tuple[str, ...] = ("together",)

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute("CREATE TABLE IF NOT EXISTS together (position INTEGER, kind TEXT)")

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        raise AssertionError("applied one at a time")

    def apply_many(self, cursor: Cursor, events: list[tuple[Event, int]]) -> None:
        cursor.executemany(
            "INSERT INTO together VALUES (?, ?)", [(position, type(event).__name__) for event, position in events]
        )


class Deaf:
    """Reads a topic the batches below never carry."""

    name = "deaf"
    tables: tuple[str, ...] = ()
    topics: tuple[str, ...] = (topics.CAMPAIGNS,)

    def create_tables(self, cursor: Cursor) -> None:
        pass

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        raise AssertionError("nothing here is on its topic")


def assigned(version: int) -> ContactListAssigned:
    return ContactListAssigned(
        originator_id=LIST, originator_version=version, timestamp=AT, account_id=ACCOUNT, campaign_group_id=GROUP
    )


def unassigned(version: int) -> ContactListUnassigned:
    return ContactListUnassigned(
        originator_id=LIST, originator_version=version, timestamp=AT, account_id=ACCOUNT, campaign_group_id=GROUP
    )


def entry(position: int, event: Event) -> LogEntry:
    return LogEntry(position, stored_topic(event), registry.encode(event))


# The archive's JSON is broken: a read model that skips its type must never decode it.
ARCHIVED = stored_topic(
    ContactListArchived(originator_id=LIST, originator_version=3, timestamp=AT, account_id=ACCOUNT)
)
LOG = [
    entry(1, assigned(1)),
    entry(2, unassigned(2)),
    LogEntry(3, ARCHIVED, b"not JSON"),
    entry(4, assigned(4)),
    entry(5, unassigned(5)),
]


@pytest.fixture
def store(tmp_path: Path) -> ProjectionStore:
    return ProjectionStore(SQLiteDatabase(f"sqlite:///{tmp_path / 'views.sqlite'}"), [Memberships(), Together(), Deaf()])


def rows(store: ProjectionStore, table: str) -> list[tuple[int, str]]:
    return [(int(p), str(k)) for p, k in store.db.select(f"SELECT position, kind FROM {table} ORDER BY rowid")]


APPLIED = [
    (1, "ContactListAssigned"),
    (2, "ContactListUnassigned"),
    (4, "ContactListAssigned"),
    (5, "ContactListUnassigned"),
]


def test_a_batch_applies_what_each_read_model_reads_in_log_order(store: ProjectionStore) -> None:
    for name in store.projections:  # the same batch handed to each, as the bus does
        assert store.apply_log(name, LOG) == 5
    assert rows(store, "memberships") == APPLIED
    assert rows(store, "together") == APPLIED
    assert {name: store.position(name) for name in store.projections} == {"memberships": 5, "together": 5, "deaf": 5}


def test_a_batch_redelivered_in_part_applies_only_what_follows_the_position(store: ProjectionStore) -> None:
    for name in store.projections:
        store.apply_log(name, LOG[:2])
    for name in store.projections:
        assert store.apply_log(name, LOG[1:]) == 5
        assert store.apply_log(name, LOG[1:]) == 5  # all of it again: nothing
    assert rows(store, "memberships") == APPLIED
    assert rows(store, "together") == APPLIED


def test_a_batch_of_other_topics_moves_the_position_only(store: ProjectionStore) -> None:
    store.apply_log("memberships", LOG[:1])
    assert store.apply_log("memberships", [LogEntry(6, ARCHIVED, b"not JSON")]) == 6
    assert rows(store, "memberships") == APPLIED[:1]


def test_batches_of_the_same_length_are_not_taken_for_each_other(store: ProjectionStore) -> None:
    """The topics of the last batch are kept for the next read model handed it: by identity."""
    first = [LogEntry(1, ARCHIVED, b"not JSON"), LogEntry(2, ARCHIVED, b"not JSON")]
    second = [entry(3, assigned(3)), entry(4, unassigned(4))]
    store.apply_log("memberships", first)
    store.apply_log("memberships", second)
    assert rows(store, "memberships") == [(3, "ContactListAssigned"), (4, "ContactListUnassigned")]


def test_a_batch_grown_in_place_is_looked_at_again(store: ProjectionStore) -> None:
    batch = [LogEntry(1, ARCHIVED, b"not JSON")]
    store.apply_log("deaf", batch)
    batch.append(entry(2, assigned(2)))
    store.apply_log("memberships", batch)
    assert rows(store, "memberships") == [(2, "ContactListAssigned")]


def test_an_event_type_this_build_lacks_fails_the_batch_and_applies_none_of_it(store: ProjectionStore) -> None:
    batch = [entry(1, assigned(1)), LogEntry(2, "contact_list.from_the_future/v1", b"{}")]
    with pytest.raises(Exception, match="from_the_future"):
        store.apply_log("memberships", batch)
    assert store.position("memberships") == 0
    assert rows(store, "memberships") == []
