"""The attempt_history read model: attempts per client id and device, and abandoned calls per
device (found through the attempt's made row), from attempts reported through the handlers; a
replay of the log leaves the rows the live one has, and a database made before the abandoned
calls were kept gets their table without losing its rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dialstream.handlers import Handlers
from dialstream.store import EventStore
from domain import record_chain
from domain.codes import CallResult
from domain.record_chain import RecordChain
from projections import attempt_history
from projections.attempt_history import AttemptHistoryProjection, AttemptHistoryQueries
from projections.base import ProjectionStore
from projections.sql import Database, SQLiteDatabase, connect
from tests.domain import builders

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
ACCOUNT = UUID("0c000000-0000-4000-8000-000000000001")
OTHER_ACCOUNT = UUID("0c000000-0000-4000-8000-000000000002")
LIST = UUID("0c000000-0000-4000-8000-0000000000a1")
OTHER_LIST = UUID("0c000000-0000-4000-8000-0000000000a2")  # the other account's
NAME = "attempt_history"


def phone(n: int) -> str:
    return f"+44163296{n:04d}"


def a_chain(account_id: UUID, list_id: UUID, client_id: str, size: int) -> RecordChain:
    chain_id = record_chain.chain_id(list_id, client_id)
    return RecordChain(
        id=chain_id,
        version=1,
        account_id=account_id,
        created_on=T0,
        modified_on=T0,
        list_id=list_id,
        client_id=client_id,
        records=[builders.a_record(chain_id, n, contact_info=phone(n)) for n in range(1, size + 1)],
    )


class Calls:
    """Attempts reported through the handlers at chosen instants; the live read model applies
    what is stored after every report."""

    def __init__(self, store: EventStore, live: ProjectionStore):
        self.now = T0
        self.handlers = Handlers(store, clock=lambda: self.now)
        self.store, self.live = store, live
        self.chains = {ACCOUNT: a_chain(ACCOUNT, LIST, "C1", 4), OTHER_ACCOUNT: a_chain(OTHER_ACCOUNT, OTHER_LIST, "C1", 4)}
        self.where: dict[UUID, tuple[UUID, UUID]] = {}  # attempt -> (account, record)
        self.n = 0

    def settle(self) -> None:
        self.live.apply(NAME, self.store.read(self.live.position(NAME), 10_000))

    def place(self, at: datetime, chain_n: int, account_id: UUID = ACCOUNT) -> UUID:
        self.n += 1
        attempt_id = UUID(int=self.n)
        self.now = at
        chain = self.chains[account_id]
        self.handlers.attempts.make_attempt(
            chain, chain_n, attempt_id=attempt_id, channel="voice", campaign_group_id=None
        )
        self.where[attempt_id] = (account_id, record_chain.record_id(chain.id, chain_n))
        self.settle()
        return attempt_id

    def abandon(self, at: datetime, attempt_id: UUID) -> None:
        """Answered by a person, no agent took it: abandoned, then finished as abandoned."""
        account_id, record_id = self.where[attempt_id]
        attempts = self.handlers.attempts
        self.now = at - timedelta(seconds=3)
        attempts.answered(account_id, record_id, attempt_id, answered_by="person", ring_ms=9_000)
        self.now = at
        attempts.abandoned(account_id, record_id, attempt_id, wait_ms=2_000, message_played=True)
        attempts.abandoned(account_id, record_id, attempt_id, wait_ms=2_000, message_played=True)  # twice: once
        self.now = at + timedelta(seconds=5)
        attempts.finished(
            account_id, record_id, attempt_id, call_result=CallResult.ABANDONED, ring_ms=9_000, talk_ms=0
        )
        self.settle()

    def talk(self, at: datetime, attempt_id: UUID) -> None:
        account_id, record_id = self.where[attempt_id]
        attempts = self.handlers.attempts
        self.now = at
        attempts.answered(account_id, record_id, attempt_id, answered_by="person", ring_ms=9_000)
        attempts.connected(account_id, record_id, attempt_id, agent_id=UUID(int=99), wait_ms=400)
        attempts.finished(account_id, record_id, attempt_id, call_result=CallResult.OK, ring_ms=9_000, talk_ms=60_000)
        self.settle()


def database(path: Path) -> SQLiteDatabase:
    db = connect(f"sqlite:///{path}")
    assert isinstance(db, SQLiteDatabase)
    return db


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteDatabase]:
    db = database(tmp_path / "views.sqlite")
    yield db
    db.close()


@pytest.fixture
def calls(store: EventStore, views: SQLiteDatabase) -> Calls:
    return Calls(store, ProjectionStore(views, [AttemptHistoryProjection()]))


def rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    with db.transaction() as cursor:
        for table in attempt_history.TABLES:
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4")
            found[table] = cursor.fetchall()
    return found


def some_calls(calls: Calls) -> dict[str, UUID]:
    ids = {
        "abandoned": calls.place(T0, 1),
        "talked": calls.place(T0 + timedelta(minutes=1), 2),
        "abandoned twice": calls.place(T0 + timedelta(minutes=2), 3),
        "other account": calls.place(T0 + timedelta(minutes=3), 1, OTHER_ACCOUNT),
    }
    calls.abandon(T0 + timedelta(seconds=20), ids["abandoned"])
    calls.talk(T0 + timedelta(minutes=1, seconds=15), ids["talked"])
    calls.abandon(T0 + timedelta(minutes=2, seconds=20), ids["abandoned twice"])
    calls.abandon(T0 + timedelta(minutes=3, seconds=20), ids["other account"])
    ids["again"] = calls.place(T0 + timedelta(hours=5), 3)
    calls.abandon(T0 + timedelta(hours=5, seconds=30), ids["again"])
    ids["ringing"] = calls.place(T0 + timedelta(hours=6), 4)  # made, not abandoned (yet)
    return ids


def test_abandoned_calls_are_kept_per_device_at_the_time_they_were_abandoned(
    calls: Calls, views: SQLiteDatabase
) -> None:
    ids = some_calls(calls)
    assert rows(views)["attempt_abandoned"] == [
        (str(ACCOUNT), phone(1), (T0 + timedelta(seconds=20)).timestamp(), str(ids["abandoned"])),
        (str(ACCOUNT), phone(3), (T0 + timedelta(minutes=2, seconds=20)).timestamp(), str(ids["abandoned twice"])),
        (str(ACCOUNT), phone(3), (T0 + timedelta(hours=5, seconds=30)).timestamp(), str(ids["again"])),
        (str(OTHER_ACCOUNT), phone(1), (T0 + timedelta(minutes=3, seconds=20)).timestamp(), str(ids["other account"])),
    ]
    # Attempts are counted as before, abandoned or not: a row per key of every attempt.
    assert len(rows(views)["attempt_history"]) == 2 * 6


def test_the_gate_reads_each_devices_last_abandon_after_an_instant(calls: Calls, views: SQLiteDatabase) -> None:
    some_calls(calls)
    queries = AttemptHistoryQueries(views)
    devices = [phone(n) for n in (1, 2, 3, 4)] + ["+15555550100"]
    assert queries.abandoned(ACCOUNT, devices, T0 - timedelta(hours=1)) == {
        phone(1): T0 + timedelta(seconds=20),
        phone(3): T0 + timedelta(hours=5, seconds=30),  # the last of its two
    }
    # Strictly after the instant: an abandon at it is out of the quiet hours that end there.
    assert queries.abandoned(ACCOUNT, devices, T0 + timedelta(seconds=20)) == {
        phone(3): T0 + timedelta(hours=5, seconds=30)
    }
    assert queries.abandoned(ACCOUNT, devices, T0 + timedelta(hours=5, seconds=30)) == {}
    assert queries.abandoned(OTHER_ACCOUNT, devices, T0 - timedelta(hours=1)) == {
        phone(1): T0 + timedelta(minutes=3, seconds=20)
    }
    assert queries.abandoned(ACCOUNT, [], T0) == {}


def test_many_devices_are_asked_in_chunks(
    calls: Calls, views: SQLiteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    some_calls(calls)
    monkeypatch.setattr(attempt_history, "LOOKUP_CHUNK", 2)
    devices = [phone(n) for n in (4, 3, 2, 1)] + [phone(1)]
    assert AttemptHistoryQueries(views).abandoned(ACCOUNT, devices, T0 - timedelta(hours=1)) == {
        phone(1): T0 + timedelta(seconds=20),
        phone(3): T0 + timedelta(hours=5, seconds=30),
    }


def test_a_replay_of_the_log_gives_the_live_rows(calls: Calls, views: SQLiteDatabase, tmp_path: Path) -> None:
    some_calls(calls)
    live = rows(views)
    assert live["attempt_abandoned"]
    replayed_db = database(tmp_path / "replayed.sqlite")
    try:
        replayed = ProjectionStore(replayed_db, [AttemptHistoryProjection()])
        replayed.apply(NAME, calls.store.read(0, 10_000))  # one batch, one transaction
        assert rows(replayed_db) == live
        # Applied again (a redelivered batch): nothing changes.
        with replayed_db.transaction() as cursor:
            cursor.execute("DELETE FROM projection_positions")
        replayed.apply(NAME, calls.store.read(0, 10_000))
        assert rows(replayed_db) == live
    finally:
        replayed_db.close()
    # And a reset empties both tables before a replay.
    calls.live.reset(NAME)
    assert rows(views) == {"attempt_history": [], "attempt_abandoned": []}
    calls.settle()
    assert rows(views) == live


def test_a_database_made_before_abandoned_calls_were_kept(store: EventStore, tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = database(path)
    with old.schema() as cursor:  # the table as it was, with one attempt in it
        cursor.execute(
            "CREATE TABLE attempt_history (account_id TEXT NOT NULL, key_kind TEXT NOT NULL, "
            "key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, attempt_id TEXT NOT NULL, "
            "PRIMARY KEY (account_id, key_kind, key, at, attempt_id))"
        )
        cursor.execute(
            "INSERT INTO attempt_history VALUES (?, 'device', ?, ?, ?)",
            (str(ACCOUNT), phone(2), T0.timestamp(), str(UUID(int=1000))),
        )
    old.close()

    views = database(path)
    try:
        calls = Calls(store, ProjectionStore(views, [AttemptHistoryProjection()]))
        ProjectionStore(views, [AttemptHistoryProjection()])  # started again: nothing to add
        attempt = calls.place(T0 + timedelta(hours=1), 1)
        calls.abandon(T0 + timedelta(hours=1, seconds=20), attempt)
        found = rows(views)
        assert (str(ACCOUNT), "device", phone(2), T0.timestamp(), str(UUID(int=1000))) in found["attempt_history"]
        assert found["attempt_abandoned"] == [
            (str(ACCOUNT), phone(1), (T0 + timedelta(hours=1, seconds=20)).timestamp(), str(attempt))
        ]
        with views.transaction() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'attempt_history_attempt'")
            assert cursor.fetchall() == [("attempt_history_attempt",)]
    finally:
        views.close()


@pytest.mark.integration
def test_on_postgresql_the_rows_and_answers_are_the_same(
    store: EventStore, views: SQLiteDatabase, fresh_postgres_database: str
) -> None:
    postgres = connect(fresh_postgres_database)
    try:
        on_postgres = Calls(store, ProjectionStore(postgres, [AttemptHistoryProjection()]))
        some_calls(on_postgres)
        ProjectionStore(postgres, [AttemptHistoryProjection()])  # started again: the schema is kept
        on_sqlite = ProjectionStore(views, [AttemptHistoryProjection()])
        on_sqlite.apply(NAME, store.read(0, 10_000))
        assert rows(postgres) == rows(views)
        devices = [phone(n) for n in (1, 2, 3, 4)]
        answers = [
            AttemptHistoryQueries(db).abandoned(ACCOUNT, devices, T0 - timedelta(hours=1)) for db in (postgres, views)
        ]
        assert answers[0] == answers[1] == {
            phone(1): T0 + timedelta(seconds=20),
            phone(3): T0 + timedelta(hours=5, seconds=30),
        }
    finally:
        postgres.close()
