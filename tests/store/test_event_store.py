"""The event store's contract, run against each backend (SQLite and PostgreSQL).

One abstract case, :class:`EventStoreContract`; each backend subclass only says where
its database is. Events come from the real domain functions, so what is stored is what
production stores.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from dialstream.store import ConcurrencyConflict, EventStore, sqlite_wal, store_env, stored_topic_of, synced
from domain import account
from domain.account import Account, OpenAccount, UpdateSettings
from schemas import registry
from schemas.base import Event
from schemas.settings import AccountOpened, PacingSettings, RegionSettings

NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def opened(account_id: UUID, name: str = "Acme Collections") -> list[Event]:
    return account.open_account(account_id, OpenAccount(name=name), now=NOW)


def state_of(events: list[Event]) -> Account:
    state = account.project(None, events)
    assert state is not None
    return state


def paced(state: Account, rate: float, minutes: int = 1) -> list[Event]:
    return account.update_settings(
        state,
        UpdateSettings(pacing=PacingSettings(target_abandon_rate=rate)),
        now=NOW + timedelta(minutes=minutes),
    )


class EventStoreContract:
    """What every event store backend must do. Subclasses provide ``database_url``."""

    @pytest.fixture
    def database_url(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    def store(self, database_url: str) -> Iterator[EventStore]:
        store = EventStore(store_env(database_url))
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, database_url: str) -> Iterator[Callable[[], EventStore]]:
        """Opens another store on the same database, to prove events were persisted."""
        stores: list[EventStore] = []

        def open_again() -> EventStore:
            stores.append(EventStore(store_env(database_url)))
            return stores[-1]

        yield open_again
        for store in stores:
            store.close()

    # Appending and loading ------------------------------------------------------------

    def test_appended_events_load_back_as_the_same_aggregate(
        self, store: EventStore, reopen: Callable[[], EventStore]
    ) -> None:
        account_id = uuid4()
        history = opened(account_id)
        history += account.update_settings(
            state_of(history),
            UpdateSettings(
                region=RegionSettings(country_code="GB", time_zone="Europe/London", locale="en-GB"),
                pacing=PacingSettings(target_abandon_rate=2.5, abandon_call_definition_seconds=3),
            ),
            now=NOW + timedelta(minutes=5),
        )
        assert [e.originator_version for e in history] == [1, 2, 3]

        store.append(history)

        other = reopen()
        assert list(other.events.get(account_id)) == history
        loaded = other.load(account_id, account.project)
        assert loaded == state_of(history)
        assert loaded is not None and loaded.version == 3
        assert loaded.settings.region.time_zone == "Europe/London"
        assert loaded.settings.pacing.target_abandon_rate == 2.5

    def test_streams_read_with_their_log_positions_in_log_order(self, store: EventStore) -> None:
        first, second, elsewhere = uuid4(), uuid4(), uuid4()
        store.append(opened(first))
        store.append(opened(elsewhere))
        store.append(opened(second))
        store.append(paced(state_of(opened(first)), 1.5))

        read = store.read_streams([second, first, uuid4()])

        log = [
            (position, event)
            for position, event in store.read(0, 100)
            if event.originator_id in (first, second)
        ]
        assert read == log
        assert {event.originator_id for _, event in read} == {first, second}
        assert [event.originator_id for _, event in read][-1] == first  # paced last, after the second

    def test_loading_an_unknown_id_returns_none(self, store: EventStore) -> None:
        store.append(opened(uuid4()))

        assert store.load(uuid4(), account.project) is None

    def test_a_state_the_store_kept_takes_in_what_another_store_appended(
        self, store: EventStore, reopen: Callable[[], EventStore]
    ) -> None:
        account_id = uuid4()
        history = opened(account_id)
        store.append(history)
        assert store.load(account_id, account.project) == state_of(history)  # kept from here on
        other = reopen()
        history += paced(state_of(history), 1.5)
        other.append(history[-1:])  # another process's decision
        history += paced(state_of(history), 2.5, minutes=2)
        store.append(history[-1:])

        loaded = store.load(account_id, account.project)

        assert loaded == state_of(history) and loaded is not None and loaded.version == 3
        with store.batch():
            store.append(paced(loaded, 3.5, minutes=3))
            pending = store.load(account_id, account.project)
            assert pending is not None and pending.settings.pacing.target_abandon_rate == 3.5
        assert store.load(account_id, account.project) == pending
        assert other.load(account_id, account.project) == pending

    def test_a_batch_sees_what_this_process_and_another_appended_since_its_last_load(
        self, store: EventStore, reopen: Callable[[], EventStore], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Batches load kept states from memory (dialstream.store.synced): an append of another
        thread of this process shows at the next load, another process's once the log's tail
        is read, and a decision on a state changed meanwhile conflicts rather than overwrites."""
        monkeypatch.setattr(synced, "TAIL_EVERY_S", 3600.0)  # SQLite: the tail is read once
        account_id = uuid4()
        history = opened(account_id)
        store.append(history)
        with store.batch():
            assert store.load(account_id, account.project) == state_of(history)
        history += paced(state_of(history), 1.5)
        writer = threading.Thread(target=store.append, args=(history[-1:],))  # this process
        writer.start()
        writer.join()
        with store.batch():
            loaded = store.load(account_id, account.project)
            assert loaded == state_of(history)
            assert loaded is not None
            store.append(paced(loaded, 2.5, minutes=2))
        history = [*history, *paced(state_of(history), 2.5, minutes=2)]
        with store.batch():
            assert store.load(account_id, account.project) == state_of(history), "its own append"
        other = reopen()
        history += paced(state_of(history), 3.5, minutes=3)
        other.append(history[-1:])  # another process
        monkeypatch.setattr(synced, "TAIL_EVERY_S", 0.0)
        with store.batch():
            assert store.load(account_id, account.project) == state_of(history)

        monkeypatch.setattr(synced, "TAIL_EVERY_S", 3600.0)
        other.append(paced(state_of(history), 4.5, minutes=4))
        decided_on = None
        with contextlib.suppress(ConcurrencyConflict), store.batch():
            seen = store.load(account_id, account.project)
            assert seen is not None
            decided_on = seen.version
            store.append(paced(seen, 5.5, minutes=5))
        latest = other.load(account_id, account.project)
        assert latest is not None
        # No lost update: a decision on the state before 4.5 stored nothing; one on 4.5 stored.
        expected = (4, 5) if decided_on == 4 else (5, 6)
        assert (decided_on, latest.version) == expected

    def test_a_follower_of_some_topics_sleeps_through_appends_of_others(self, store: EventStore) -> None:
        history = opened(uuid4())
        store.append(history)
        pacing_changed = {stored_topic_of(type(event)) for event in paced(state_of(history), 1.5)}
        assert stored_topic_of(AccountOpened) not in pacing_changed

        def wait_in_thread(topics: set[str] | None) -> tuple[threading.Thread, threading.Event]:
            woke = threading.Event()
            seen = store.appends()

            def wait() -> None:
                store.wait_for_append(seen, 10.0, topics)
                woke.set()

            thread = threading.Thread(target=wait)
            thread.start()
            return thread, woke

        thread, woke = wait_in_thread(pacing_changed)
        store.append(opened(uuid4()))  # another topic
        assert not woke.wait(0.3), "asleep through an append of a topic it does not follow"
        store.append(paced(state_of(history), 1.5))
        assert woke.wait(5.0), "woken by its own topic"
        thread.join()

        thread, woke = wait_in_thread(pacing_changed)
        store.wake()  # not an append: a follower stopping
        assert woke.wait(5.0)
        thread.join()

        thread, woke = wait_in_thread(None)
        store.append(opened(uuid4()))
        assert woke.wait(5.0), "a follower of everything wakes for anything"
        thread.join()

    def test_many_aggregates_load_at_once_as_one_by_one(self, store: EventStore) -> None:
        ids = [uuid4() for _ in range(3)]
        histories = {account_id: opened(account_id, f"Account {n}") for n, account_id in enumerate(ids)}
        histories[ids[1]] += paced(state_of(histories[ids[1]]), 1.5)
        histories[ids[1]] += paced(state_of(histories[ids[1]]), 2.5, minutes=2)
        store.append([event for history in histories.values() for event in history])
        unknown = uuid4()

        loaded = store.load_many([*ids, unknown, ids[0]], account.project)

        assert loaded == {account_id: store.load(account_id, account.project) for account_id in ids}
        assert loaded[ids[1]].version == 3 and loaded[ids[1]].settings.pacing.target_abandon_rate == 2.5
        many = [uuid4() for _ in range(1_200)]  # more than one statement's worth
        store.append([event for account_id in many for event in opened(account_id)])
        assert set(store.load_many(many, account.project)) == set(many)

    def test_units_load_many_from_memory_and_see_every_change(
        self, store: EventStore, reopen: Callable[[], EventStore], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """load_many in a unit of work keeps what it read (dialstream.store.synced): a unit's
        own appends, another thread's and another process's show at the next one."""
        monkeypatch.setattr(synced, "TAIL_EVERY_S", 3600.0)
        a, b, absent = uuid4(), uuid4(), uuid4()
        history = {a: opened(a, "A"), b: opened(b, "B")}
        store.append([*history[a], *history[b]])
        with store.batch():
            assert store.load_many([a, b, absent], account.project) == {i: state_of(history[i]) for i in (a, b)}
        with store.unit_of_work("processor", store.position()):  # a processor's unit advances a
            store.append(paced(state_of(history[a]), 1.5))
        history[a] += paced(state_of(history[a]), 1.5)
        history[b] += paced(state_of(history[b]), 2.5)
        writer = threading.Thread(target=store.append, args=(history[b][-1:],))  # another thread
        writer.start()
        writer.join()
        with store.batch():
            assert store.load_many([a, b, absent], account.project) == {i: state_of(history[i]) for i in (a, b)}
        history[a] += paced(state_of(history[a]), 3.5, minutes=3)
        reopen().append(history[a][-1:])  # another process
        monkeypatch.setattr(synced, "TAIL_EVERY_S", 0.0)
        with store.batch():
            assert store.load_many([a, b], account.project) == {i: state_of(history[i]) for i in (a, b)}
            store.append(opened(absent, "New"))
            assert store.load_many([absent], account.project) == {absent: state_of(opened(absent, "New"))}

    def test_a_unit_of_work_loads_many_with_its_own_appends(self, store: EventStore) -> None:
        stored, new = uuid4(), uuid4()
        store.append(opened(stored))
        with store.unit_of_work("processor", 1):
            store.append(paced(state_of(opened(stored)), 1.5))
            store.append(opened(new, "New"))
            loaded = store.load_many([stored, new], account.project)
        assert loaded[stored].version == 2 and loaded[stored].settings.pacing.target_abandon_rate == 1.5
        assert loaded[new] == state_of(opened(new, "New"))

    # The log --------------------------------------------------------------------------

    def test_positions_increase_and_the_log_reads_back_in_order(
        self, store: EventStore, reopen: Callable[[], EventStore]
    ) -> None:
        assert store.position() == 0
        assert store.read(after=0) == []

        first, second = uuid4(), uuid4()
        batch_1 = opened(first, "First")
        batch_2 = opened(second, "Second") + paced(state_of(opened(second, "Second")), 1.5)
        batch_3 = paced(state_of(batch_1), 2.0)

        positions = [store.append(batch) for batch in (batch_1, batch_2, batch_3)]

        assert positions[0] < positions[1] < positions[2]
        assert store.position() == positions[-1]
        everything = reopen().read(after=0)
        assert [event for _, event in everything] == batch_1 + batch_2 + batch_3
        ids = [position for position, _ in everything]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert ids[-1] == positions[-1]
        assert ids[len(batch_1) - 1] == positions[0]
        assert ids[len(batch_1) + len(batch_2) - 1] == positions[1]

        assert [event for _, event in store.read(after=positions[0])] == batch_2 + batch_3
        assert store.read(after=positions[0], limit=1) == [everything[len(batch_1)]]
        assert [e for _, e in store.read(after=0, upto=positions[1])] == batch_1 + batch_2
        assert store.read(after=positions[-1]) == []

    def test_appending_nothing_changes_nothing(self, store: EventStore) -> None:
        position = store.append(opened(uuid4()))

        assert store.append([]) == position
        assert store.position() == position

    # Atomicity and optimistic concurrency ---------------------------------------------

    def test_one_append_stores_events_of_many_aggregates_together(self, store: EventStore) -> None:
        ids = [uuid4() for _ in range(5)]
        batch = [event for account_id in ids for event in opened(account_id)]

        position = store.append(batch)

        assert [e for _, e in store.read(after=0)] == batch
        assert position == store.position()
        for account_id in ids:
            assert store.load(account_id, account.project) is not None

    def test_a_conflict_anywhere_in_a_batch_stores_none_of_it(self, store: EventStore) -> None:
        existing_id = uuid4()
        existing = opened(existing_id)
        before = store.append(existing)
        newcomer_id = uuid4()
        # A new aggregate, and an event that reuses version 1 of the existing one.
        clash = AccountOpened(
            originator_id=existing_id,
            originator_version=1,
            timestamp=NOW + timedelta(hours=1),
            account_id=existing_id,
            settings=state_of(existing).settings,
        )
        batch = [*opened(newcomer_id, "Newcomer"), clash]

        with pytest.raises(ConcurrencyConflict):
            store.append(batch)

        assert store.position() == before
        assert store.load(newcomer_id, account.project) is None
        assert [e for _, e in store.read(after=0)] == existing
        assert store.load(existing_id, account.project) == state_of(existing)

    def test_two_decisions_on_the_same_version_only_the_first_is_stored(
        self, store: EventStore
    ) -> None:
        account_id = uuid4()
        store.append(opened(account_id))
        state = store.load(account_id, account.project)
        assert state is not None
        # Two commands decided from the same state: both produce version 2.
        winner = paced(state, 2.0)
        loser = paced(state, 1.0)
        assert winner[0].originator_version == loser[0].originator_version == 2
        position = store.append(winner)

        with pytest.raises(ConcurrencyConflict):
            store.append(loser)

        assert store.position() == position
        after = store.load(account_id, account.project)
        assert after is not None and after.version == 2
        assert after.settings.pacing.target_abandon_rate == 2.0

    # The stored form is the public contract -------------------------------------------

    def test_stored_events_carry_tag_and_version_topics_and_json_bodies(
        self, store: EventStore
    ) -> None:
        account_id = uuid4()
        events = opened(account_id)
        events += paced(state_of(events), 2.0)
        store.append(events)

        stored = store.recorder.select_events(account_id)
        notifications = store.recorder.select_notifications(start=1, limit=10)

        assert [s.topic for s in stored] == [
            "account.opened/v1",
            "account.pacing_settings_changed/v1",
        ]
        assert [n.topic for n in notifications] == [s.topic for s in stored]
        for record, event in zip(stored, events, strict=True):
            body = json.loads(record.state)
            assert body["type"] == event.tag()
            assert body["schema_version"] == 1
            assert body["originator_id"] == str(account_id)
            assert registry.decode_any(record.state) == event


    # Tracking: a processor's effects and its position in one transaction ---------------

    def test_events_appended_in_a_unit_of_work_are_stored_with_its_tracking_position(
        self, store: EventStore, reopen: Callable[[], EventStore]
    ) -> None:
        first, second = uuid4(), uuid4()
        assert store.tracked("processor") is None
        with store.unit_of_work("processor", 7) as unit:
            store.append(opened(first))
            store.append(opened(second, "Globex"))
            assert store.position() == 0, "nothing is stored before the unit of work ends"
            inside = store.load(first, account.project)
            assert inside is not None and inside.settings.general.account_name == "Acme Collections", "a handler sees its own appends"
        assert unit.events == 2 and unit.position == store.position() == 2
        again = reopen()
        assert again.tracked("processor") == 7
        assert [state_of([e]).settings.general.account_name for _, e in again.read(after=0)] == ["Acme Collections", "Globex"]

    def test_a_second_unit_of_work_at_the_same_position_fails_and_stores_nothing(
        self, store: EventStore, reopen: Callable[[], EventStore]
    ) -> None:
        with store.unit_of_work("processor", 3):
            store.append(opened(uuid4()))
        with pytest.raises(ConcurrencyConflict), store.unit_of_work("processor", 3):
            store.append(opened(uuid4(), "Replayed"))
        with pytest.raises(ConcurrencyConflict), store.unit_of_work("processor", 2):
            store.append(opened(uuid4(), "Older"))
        again = reopen()
        assert again.position() == 1 and again.tracked("processor") == 3
        assert again.tracked("another processor") is None, "positions are per processor"

    def test_a_batch_that_overlaps_one_recorded_meanwhile_fails_and_stores_nothing(
        self, store: EventStore
    ) -> None:
        with store.unit_of_work("p@records/0", 10, after=0):
            store.append(opened(uuid4()))
        # Another worker took the partition from offset 5 before the first one recorded 10.
        with pytest.raises(ConcurrencyConflict), store.unit_of_work("p@records/0", 20, after=5):
            store.append(opened(uuid4(), "Overlap"))
        assert store.position() == 1 and store.tracked("p@records/0") == 10
        with store.unit_of_work("p@records/0", 20, after=10):
            store.append(opened(uuid4(), "Next"))
        with store.unit_of_work("p@records/0", 30, after=25):  # records 20-24 are gone (retention)
            pass
        assert store.position() == 2 and store.tracked("p@records/0") == 30

    def test_the_positions_of_a_processors_partitions_are_listed_by_prefix(self, store: EventStore) -> None:
        for name, position in (("p@records/0", 4), ("p@records/1", 9), ("q@records/0", 2), ("p", 1)):
            with store.unit_of_work(name, position):
                pass
        assert store.tracked_under("p@") == {"p@records/0": 4, "p@records/1": 9}
        assert store.tracked_under("r@") == {}

    def test_a_conflicting_event_in_a_unit_of_work_stores_neither_events_nor_position(
        self, store: EventStore
    ) -> None:
        taken = uuid4()
        store.append(opened(taken))
        with pytest.raises(ConcurrencyConflict), store.unit_of_work("processor", 5):
            store.append(opened(uuid4(), "Innocent"))
            store.append(opened(taken, "Clash"))  # version 1 of an aggregate that has it
        assert store.position() == 1 and store.tracked("processor") is None

    def test_a_unit_of_work_that_raises_stores_nothing(self, store: EventStore) -> None:
        with pytest.raises(RuntimeError), store.unit_of_work("processor", 4):
            store.append(opened(uuid4()))
            raise RuntimeError("the handler failed")
        assert store.position() == 0 and store.tracked("processor") is None
        store.append(opened(uuid4()))
        assert store.position() == 1, "appends outside a unit of work go straight to the store"

    def test_a_unit_of_work_with_no_effect_records_only_the_position(self, store: EventStore) -> None:
        with store.unit_of_work("processor", 9) as unit:
            pass
        assert unit.events == 0 and store.position() == 0 and store.tracked("processor") == 9


class TestSQLiteEventStore(EventStoreContract):
    @pytest.fixture
    def database_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'events.db'}"

    def test_a_new_file_gets_dialstreams_page_size_and_an_existing_one_keeps_its_own(
        self, store: EventStore, database_url: str, tmp_path: Path
    ) -> None:
        store.append(opened(uuid4()))
        assert _page_size(database_url.removeprefix("sqlite:///")) == sqlite_wal.PAGE_SIZE

        older = tmp_path / "older.db"
        connection = sqlite3.connect(older)
        connection.execute("PRAGMA page_size = 4096")
        connection.execute("CREATE TABLE t (x)")
        connection.close()
        with closing(EventStore(store_env(f"sqlite:///{older}"))) as reopened:
            reopened.append(opened(uuid4()))
        assert _page_size(str(older)) == 4096

    def test_a_thread_that_ended_leaves_no_connection_open(self, store: EventStore, database_url: str) -> None:
        """A health probe asks for the head on a thread of its own, every time."""
        path = str(Path(database_url.removeprefix("sqlite:///")).resolve())
        head = store.append(opened(uuid4()))
        before = _open_files(path)
        heads: list[int] = []
        for _ in range(10):
            probe = threading.Thread(target=lambda: heads.append(store.position()))
            probe.start()
            probe.join(5)
        assert heads == [head] * 10
        # The last probe's connection (its file and log), and a descriptor SQLite keeps from a
        # closed one for its next open of the file while others hold locks on it; 20 if each
        # probe's connection stayed open.
        assert _open_files(path) - before <= 4


def _open_files(path: str) -> int:
    """How many of this process's file descriptors are the database or its write-ahead log."""
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        count += target in (path, path + "-wal")
    return count


def _page_size(path: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("PRAGMA page_size").fetchone()[0])
    finally:
        connection.close()


@pytest.mark.integration
class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def database_url(self, fresh_postgres_database: str) -> str:
        return fresh_postgres_database
