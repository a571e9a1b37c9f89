"""suppression_expiry: which entries expire when; re-adding, removal, expiry and archiving."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from projections.base import ProjectionStore
from projections.sql import connect
from projections.suppression_expiry import SuppressionExpiry, SuppressionExpiryQueries
from schemas.base import Event
from schemas.suppression import (
    SuppressionEntriesAdded,
    SuppressionEntriesExpired,
    SuppressionEntriesRemoved,
    SuppressionEntry,
    SuppressionEntryKey,
    SuppressionListArchived,
)

AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ACCOUNT = uuid.uuid4()
LOG = itertools.count(1)  # one log position for every stream: the projection keeps one


@pytest.fixture
def projection(tmp_path: Path) -> Iterator[tuple[ProjectionStore, SuppressionExpiryQueries]]:
    db = connect(f"sqlite:///{tmp_path / 'views.sqlite'}")
    try:
        yield ProjectionStore(db, [SuppressionExpiry()]), SuppressionExpiryQueries(db)
    finally:
        db.close()


class Stream:
    def __init__(self, store: ProjectionStore):
        self.store = store
        self.list_id = uuid.uuid4()
        self.version = 0

    def apply(self, cls: Any, **fields: Any) -> None:
        self.version += 1
        event: Event = cls(
            originator_id=self.list_id,
            originator_version=self.version,
            timestamp=AT,
            account_id=ACCOUNT,
            **fields,
        )
        self.store.apply("suppression_expiry", [(next(LOG), event)])

    def add(self, value: str, expires_at: int | None) -> None:
        entry = SuppressionEntry(kind="phone", value=value, entry_id=uuid.uuid4(), expires_at=expires_at)
        self.apply(SuppressionEntriesAdded, channel="voice", entries=[entry], source="api")


def test_entries_are_due_once_their_time_has_come(
    projection: tuple[ProjectionStore, SuppressionExpiryQueries],
) -> None:
    store, queries = projection
    stream = Stream(store)
    stream.add("+13125550001", 1000)
    stream.add("+13125550002", 2000)
    stream.add("+13125550003", None)
    assert queries.due(999) == []
    assert [e.value for e in queries.due(1000)] == ["+13125550001"]
    assert [e.value for e in queries.due(10**10)] == ["+13125550001", "+13125550002"]
    assert queries.due(10**10)[0].list_id == stream.list_id
    assert queries.due(10**10)[0].account_id == ACCOUNT


def test_re_adding_restarts_or_ends_the_retention(
    projection: tuple[ProjectionStore, SuppressionExpiryQueries],
) -> None:
    store, queries = projection
    stream = Stream(store)
    stream.add("+13125550001", 1000)
    stream.add("+13125550002", 1000)
    stream.add("+13125550001", 5000)  # added again: expires later
    stream.add("+13125550002", None)  # added again as permanent
    assert queries.due(4999) == []
    assert [e.value for e in queries.due(5000)] == ["+13125550001"]


def test_removed_expired_and_archived_entries_are_no_longer_due(
    projection: tuple[ProjectionStore, SuppressionExpiryQueries],
) -> None:
    store, queries = projection
    stream, other = Stream(store), Stream(store)
    for value in ("+13125550001", "+13125550002", "+13125550003"):
        stream.add(value, 1000)
    other.add("+13125550009", 1000)
    stream.apply(
        SuppressionEntriesRemoved,
        channel="voice",
        reason="removed",
        entries=[SuppressionEntryKey(kind="phone", value="+13125550001")],
    )
    stream.apply(
        SuppressionEntriesExpired,
        channel="voice",
        entries=[SuppressionEntryKey(kind="phone", value="+13125550002")],
    )
    assert sorted(e.value for e in queries.due(1000)) == ["+13125550003", "+13125550009"]
    stream.apply(SuppressionListArchived)
    assert [e.value for e in queries.due(1000)] == ["+13125550009"]
