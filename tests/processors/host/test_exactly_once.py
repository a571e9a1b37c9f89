"""The processor hosts on each store backend (SQLite and PostgreSQL): a processor's effects and
its tracking position are stored in one transaction, so a replayed batch, a failure inside a
batch, a conflict at commit and (on Kafka) a partition handled by two workers each leave every
effect exactly once. The Kafka host's partitions are fed here directly, as its consumer would;
tests/processors/host/test_compliance_hosts.py runs it on a real broker.

The processor here is deliberately *not* idempotent — each account it reads gets a new API
key with a fresh id — so any second run of a batch that reached the store would show.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from dialstream.store import ConcurrencyConflict, EventStore, store_env
from domain import account
from domain.account import IssueApiKey, OpenAccount
from processors.host import embedded
from processors.host.embedded import EmbeddedHost
from processors.host.kafka import ProcessorPartitions
from processors.host.processor import Batch
from schemas.base import Event
from schemas.settings import AccountOpened, ApiKeyIssued

NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def issue_key(store: EventStore, account_id: UUID, name: str) -> None:
    """A command handler as the service layer has them: load, decide, append."""
    state = store.load(account_id, account.project)
    assert state is not None
    command = IssueApiKey(key_id=uuid4(), name=name, role="viewer", secret_sha256="0" * 64, prefix="dsk_")
    store.append(account.issue_api_key(state, command, now=NOW))


class KeyIssuer:
    """Gives every account opened a key named ``effect``."""

    name = "key-issuer"
    reads: tuple[type[Event], ...] = (AccountOpened,)

    def __init__(self, store: EventStore):
        self.store = store
        self.batches = 0
        self.before_effect: Callable[[UUID], None] | None = None
        self.after_effect: Callable[[UUID], None] | None = None

    def handle(self, batch: Batch) -> None:
        self.batches += 1
        for event in batch.events:
            if self.before_effect is not None:
                self.before_effect(event.originator_id)
            issue_key(self.store, event.originator_id, "effect")
            if self.after_effect is not None:
                self.after_effect(event.originator_id)

    def nothing_to_do(self, after: int, upto: int) -> bool:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'events.db'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[EventStore]:
    store = EventStore(store_env(database_url))
    yield store
    store.close()


def open_accounts(store: EventStore, count: int) -> list[UUID]:
    ids = [uuid4() for _ in range(count)]
    for n, account_id in enumerate(ids):
        store.append(account.open_account(account_id, OpenAccount(name=f"Account {n}"), now=NOW))
    return ids


def effects(store: EventStore) -> dict[UUID, int]:
    found: dict[UUID, int] = {}
    for _, event in store.read(after=0, limit=10_000):
        if isinstance(event, ApiKeyIssued) and event.name == "effect":
            found[event.originator_id] = found.get(event.originator_id, 0) + 1
    return found


def test_each_event_has_one_effect_and_the_position_is_stored_with_it(store: EventStore) -> None:
    ids = open_accounts(store, 5)
    head = store.position()
    host = EmbeddedHost(store, KeyIssuer(store), read_batch=2)
    assert host.catch_up() == head
    assert effects(store) == dict.fromkeys(ids, 1)
    assert store.tracked("key-issuer") == head
    assert host.catch_up() == store.position(), "its own effects are not events it reads"
    assert effects(store) == dict.fromkeys(ids, 1)


def test_a_replayed_batch_has_no_second_effect(
    store: EventStore, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = open_accounts(store, 4)
    EmbeddedHost(store, KeyIssuer(store), read_batch=2).catch_up()
    assert store.tracked("key-issuer") == 4
    # A host that lost its position (a replay from the start) goes on from the recorded one.
    replaying = KeyIssuer(store)
    replayed = EmbeddedHost(store, replaying, read_batch=2)
    replayed.position = 0
    assert replayed.catch_up() == 8 and replaying.batches == 0
    # Past its own effects (events it does not read) it goes at once, and records that stretch
    # when it stops (or a second later): not a tracking write for every append that woke it.
    assert store.tracked("key-issuer") == 4
    replayed.on_stop()
    assert store.tracked("key-issuer") == 8
    # One whose view of the position is stale (it read it just before another host recorded
    # past it) hands the batches to the store again, which refuses them: nothing is stored twice.
    stale = KeyIssuer(store)
    host = EmbeddedHost(store, stale, read_batch=2)
    host.position = 0
    monkeypatch.setattr(store, "tracked", lambda name: None)
    with pytest.raises(ConcurrencyConflict):
        host.catch_up()
    monkeypatch.undo()
    assert stale.batches >= 1, "the batch was handled again"
    assert effects(store) == dict.fromkeys(ids, 1)
    assert store.tracked("key-issuer") == store.position() == 8, "on to the head (past its own effects)"
    restarted = EventStore(store_env(database_url))
    try:
        assert EmbeddedHost(restarted, KeyIssuer(restarted)).position == 8, "a restart resumes there"
    finally:
        restarted.close()


def test_a_failure_inside_a_batch_stores_neither_its_effects_nor_its_position(store: EventStore) -> None:
    ids = open_accounts(store, 3)
    processor = KeyIssuer(store)
    seen: list[UUID] = []

    def crash_after_the_second_effect(account_id: UUID) -> None:
        seen.append(account_id)
        if len(seen) == 2:
            raise RuntimeError("killed between an effect and the position")

    processor.after_effect = crash_after_the_second_effect
    host = EmbeddedHost(store, processor)
    with pytest.raises(RuntimeError):
        host.catch_up()
    assert effects(store) == {} and store.tracked("key-issuer") is None and host.position == 0
    processor.after_effect = None
    host.catch_up()
    assert effects(store) == dict.fromkeys(ids, 1)


def test_a_conflict_at_commit_runs_the_batch_again_with_one_effect(store: EventStore) -> None:
    ids = open_accounts(store, 3)
    processor = KeyIssuer(store)
    raced: list[UUID] = []

    def another_writer_changes_it_first(account_id: UUID) -> None:
        if account_id == ids[1] and not raced:
            raced.append(account_id)
            # Another thread is outside the unit of work: its key is stored at once.
            writer = threading.Thread(target=issue_key, args=(store, account_id, "gateway"))
            writer.start()
            writer.join()

    processor.after_effect = another_writer_changes_it_first
    EmbeddedHost(store, processor).catch_up()
    assert processor.batches == 2, "the conflict re-ran the batch"
    assert effects(store) == dict.fromkeys(ids, 1)
    keys = [e.name for _, e in store.read(after=0) if isinstance(e, ApiKeyIssued) and e.originator_id == ids[1]]
    assert sorted(keys) == ["effect", "gateway"]


def test_a_hosted_processor_follows_appends_and_publishes_its_position(store: EventStore) -> None:
    host = EmbeddedHost(store, KeyIssuer(store))
    host.start()
    try:
        ids = open_accounts(store, 2)
        assert host.wait_until(2, 10)
        assert host.wait_until(4, 10), "and past its own two effects"
        assert host.health().healthy
    finally:
        host.stop()
    assert effects(store) == dict.fromkeys(ids, 1)


# The Kafka host's partitions ------------------------------------------------------------


def records(store: EventStore) -> list[tuple[int, int | None, Event | None]]:
    """The log as one partition's records: (offset, log position, event)."""
    return [(position - 1, position, event) for position, event in store.read(after=0)]


def test_a_partition_records_its_next_offset_with_the_effects(store: EventStore) -> None:
    ids = open_accounts(store, 4)
    partitions = ProcessorPartitions(store, KeyIssuer(store))
    items = records(store)
    assert partitions.apply_partition("settings", 0, items[:2]) == 2
    assert partitions.apply_partition("settings", 0, items[2:]) == 2
    assert store.tracked("key-issuer@settings/0") == 4
    assert partitions.next_offsets() == {("settings", 0): 4}
    assert effects(store) == dict.fromkeys(ids, 1)


def test_records_redelivered_after_a_rebalance_have_no_second_effect(store: EventStore) -> None:
    ids = open_accounts(store, 6)
    items = records(store)
    first = ProcessorPartitions(store, KeyIssuer(store))
    assert first.apply_partition("settings", 0, items[:4]) == 4
    # The partition moved to another worker, which was handed offsets 2-5 (the first one's
    # offset commit to Kafka was lost): only 4 and 5 take effect.
    second = ProcessorPartitions(store, KeyIssuer(store))
    assert second.apply_partition("settings", 0, items[2:]) == 2
    assert second.apply_partition("settings", 0, items[:3]) == 0, "a zombie's late batch"
    assert effects(store) == dict.fromkeys(ids, 1)
    assert store.tracked("key-issuer@settings/0") == 6


def test_a_zombie_that_records_while_the_new_owner_handles_the_same_records_wins_alone(
    store: EventStore,
) -> None:
    ids = open_accounts(store, 4)
    items = records(store)
    owner = KeyIssuer(store)
    zombie = ProcessorPartitions(store, KeyIssuer(store))

    def zombie_records_first(account_id: UUID) -> None:
        if owner.batches == 1 and account_id == ids[0]:
            # Outside the owner's unit of work, as another process would be.
            thread = threading.Thread(target=zombie.apply_partition, args=("settings", 0, items[:3]))
            thread.start()
            thread.join()

    owner.before_effect = zombie_records_first
    assert ProcessorPartitions(store, owner).apply_partition("settings", 0, items) == 1
    assert owner.batches == 2, "the owner's batch conflicted and was run again on offset 3 alone"
    assert effects(store) == dict.fromkeys(ids, 1)
    assert store.tracked("key-issuer@settings/0") == 4


def test_a_stretch_with_nothing_to_read_is_recorded_once_a_second_is_up(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = open_accounts(store, 2)
    host = EmbeddedHost(store, KeyIssuer(store))
    host.catch_up()
    recorded = store.tracked("key-issuer")
    issue_key(store, ids[0], "unread")  # an event the processor does not read
    assert host.catch_up() == store.position() > (recorded or 0)
    assert store.tracked("key-issuer") == recorded, "no tracking write for a stretch it does not read"
    monkeypatch.setattr(embedded, "SKIP_RECORD_S", 0.0)
    issue_key(store, ids[1], "unread")
    assert host.catch_up() == store.position() == store.tracked("key-issuer")
    assert effects(store) == dict.fromkeys(ids, 1)
