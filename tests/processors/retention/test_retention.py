"""The retention sweeper on a real embedded runtime (SQLite store and read models), fixed clock.

The bus is never started: the tests bring the read models up to date with ``catch_up`` when
they want to, so a read model that lags behind the store is a step of the test, not a race.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from dialstream.bootstrap import Runtime, build
from dialstream.settings import Settings
from dialstream.store import EventStore
from domain import record_chain
from domain.account import UpdateSettings
from domain.codes import RecordStatus, RecordType
from domain.contact_list import ChangeContactList, CreateContactList
from processors.host.lease import Lease
from processors.host.schedule import Scheduler
from processors.retention.sweep import RetentionSweeper, SweepReport, scheduled
from schemas.base import Event
from schemas.lists import ContactListSettings, Retention, RetentionScope
from schemas.records import Record, RecordChainDeleted, RecordChainImported, RecordChainReplaced
from schemas.settings import RegionSettings

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=400)
READY = (RecordType.GENERAL, RecordStatus.READY)
UPDATED = (RecordType.GENERAL, RecordStatus.UPDATED)
CANCELLED = (RecordType.GENERAL, RecordStatus.CANCELLED)
RETRIEVED = (RecordType.GENERAL, RecordStatus.RETRIEVED)
NO_CALL = (RecordType.NO_CALL, RecordStatus.READY)
CALLBACK = (RecordType.PERSONAL_CALLBACK, RecordStatus.UPDATED)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = build(Settings(data_dir=tmp_path))
    try:
        yield runtime
    finally:
        runtime.stop()


@pytest.fixture
def account(runtime: Runtime) -> UUID:
    """An account in Tokyo (UTC+9, no daylight saving)."""
    opened = runtime.handlers.accounts.open_account("Acme")
    runtime.handlers.accounts.update_settings(opened.id, UpdateSettings(region=RegionSettings(time_zone="Asia/Tokyo")))
    return opened.id


def sweeper(runtime: Runtime, now: datetime = NOW) -> RetentionSweeper:
    return RetentionSweeper(runtime.store, runtime.catalogue, runtime.records, lambda: now)


def new_list(
    runtime: Runtime, account: UUID, days: int | None, scope: RetentionScope = "completed", rule: str = ""
) -> UUID:
    settings = ContactListSettings(retention=Retention(days=days, scope=scope, selection_rule=rule))
    return runtime.handlers.lists.create(
        account, CreateContactList(name=f"list {uuid4().hex[:8]}", settings=settings)
    ).id


def chain(
    list_id: UUID,
    account: UUID,
    client_id: str,
    *records: tuple[int, int],
    at: datetime = LONG_AGO,
    version: int = 1,
    custom: dict[str, str] | None = None,
) -> Event:
    """A chain's import (version 1) or replacement, with one record per (type, status)."""
    records = records or (READY,)
    chain_id = record_chain.chain_id(list_id, client_id)
    event_class = RecordChainImported if version == 1 else RecordChainReplaced
    return event_class(
        originator_id=chain_id,
        originator_version=version,
        timestamp=at,
        account_id=account,
        list_id=list_id,
        client_id=client_id,
        job_id=uuid4(),
        line=2,
        records=[
            Record(
                record_id=record_chain.record_id(chain_id, n),
                chain_n=n,
                contact_info=f"+1312555{n:04d}",
                contact_info_type=1,
                record_type=record_type,
                record_status=status,
                time_zone="America/Chicago",
                time_zone_rule="device",
            )
            for n, (record_type, status) in enumerate(records, start=1)
        ],
        custom=custom or {},
    )


def store(runtime: Runtime, *events: Event) -> None:
    runtime.store.append(list(events))
    assert runtime.catch_up()


def clients(runtime: Runtime, list_id: UUID) -> list[str]:
    return sorted({r["client_id"] for r in runtime.records.iterate(list_id)})


def deletions(runtime: Runtime) -> list[RecordChainDeleted]:
    return [e for _, e in runtime.store.read(0, limit=100_000) if isinstance(e, RecordChainDeleted)]


# Scopes -----------------------------------------------------------------------------------


def test_each_scope_deletes_its_chains_and_keeps_the_rest(runtime: Runtime, account: UUID) -> None:
    completed = new_list(runtime, account, 30, "completed")
    idle = new_list(runtime, account, 30, "not_in_progress")
    everything = new_list(runtime, account, 30, "all")
    selected = new_list(
        runtime, account, 30, "selection", "custom.segment = 'churned' or record_type = no_call"
    )
    for list_id in (completed, idle, everything, selected):
        store(
            runtime,
            chain(list_id, account, "done", UPDATED, CANCELLED, NO_CALL),
            chain(list_id, account, "fresh", READY),
            chain(list_id, account, "half", UPDATED, READY),
            chain(list_id, account, "dialling", UPDATED, RETRIEVED),
            chain(list_id, account, "callback", CALLBACK),
            chain(list_id, account, "churned", READY, RETRIEVED, custom={"segment": "churned"}),
            chain(list_id, account, "never", NO_CALL, NO_CALL),
        )

    report = sweeper(runtime).sweep()

    assert report == SweepReport(lists=4, deleted=2 + 5 + 7 + 2)
    assert runtime.catch_up()
    assert clients(runtime, completed) == ["callback", "churned", "dialling", "fresh", "half"]
    assert clients(runtime, idle) == ["churned", "dialling"]
    assert clients(runtime, everything) == []
    assert clients(runtime, selected) == ["callback", "dialling", "done", "fresh", "half"]
    details = {(e.list_id, e.detail) for e in deletions(runtime)}
    assert details == {
        (completed, "retention 30 days, completed"),
        (idle, "retention 30 days, not in progress"),
        (everything, "retention 30 days, all"),
        (selected, "retention 30 days, selection: custom.segment = 'churned' or record_type = no_call"),
    }
    assert all(
        e.reason == "retention" and e.job_id is None and e.timestamp == NOW for e in deletions(runtime)
    )


def test_permanent_lists_are_never_swept(runtime: Runtime, account: UUID) -> None:
    permanent = new_list(runtime, account, None, "all")
    store(runtime, chain(permanent, account, "ancient", UPDATED, at=datetime(2000, 1, 1, tzinfo=UTC)))

    assert sweeper(runtime, NOW + timedelta(days=10_000)).sweep() == SweepReport(lists=0, deleted=0)
    assert clients(runtime, permanent) == ["ancient"]


def test_archived_lists_and_other_accounts(runtime: Runtime, account: UUID) -> None:
    other = runtime.handlers.accounts.open_account("Other").id  # New York, the default region
    theirs = new_list(runtime, other, 1, "all")
    archived = new_list(runtime, account, 1, "all")
    store(runtime, chain(theirs, other, "T", READY), chain(archived, account, "A", READY))
    runtime.handlers.lists.archive(account, archived)
    assert runtime.catch_up()

    assert sweeper(runtime).sweep() == SweepReport(lists=1, deleted=1)
    assert runtime.catch_up()
    assert clients(runtime, theirs) == [] and clients(runtime, archived) == ["A"]


# Boundaries in the account's time zone -----------------------------------------------------


def test_today_is_due_at_the_accounts_next_local_midnight(runtime: Runtime, account: UUID) -> None:
    today = new_list(runtime, account, 0, "all")
    imported = datetime(2024, 6, 1, 23, 30, tzinfo=TOKYO)  # 14:30 UTC, still 1 June in UTC
    store(runtime, chain(today, account, "late", READY, at=imported))
    midnight = datetime(2024, 6, 2, 0, 0, tzinfo=TOKYO)  # 15:00 UTC on 1 June

    assert sweeper(runtime, midnight - timedelta(seconds=1)).sweep().deleted == 0
    assert sweeper(runtime, midnight).sweep().deleted == 1


def test_n_days_is_due_n_days_after_the_import(runtime: Runtime, account: UUID) -> None:
    thirty = new_list(runtime, account, 30, "all")
    imported = datetime(2024, 5, 1, 10, 15, 30, tzinfo=UTC)
    store(
        runtime,
        chain(thirty, account, "C1", READY, at=imported),
        chain(thirty, account, "C2", READY, at=imported + timedelta(hours=1)),
    )
    due = imported + timedelta(days=30)

    assert sweeper(runtime, due - timedelta(seconds=1)).sweep().deleted == 0
    assert sweeper(runtime, due).sweep().deleted == 1
    assert runtime.catch_up()
    assert clients(runtime, thirty) == ["C2"]


# Idempotence and concurrency -------------------------------------------------------------


def test_deleted_chains_vanish_and_a_second_sweep_deletes_nothing(runtime: Runtime, account: UUID) -> None:
    list_id = new_list(runtime, account, 7, "completed")
    store(runtime, *(chain(list_id, account, f"C{i:04d}", UPDATED if i % 2 else READY) for i in range(2500)))
    clock = sweeper(runtime)

    assert clock.sweep() == SweepReport(lists=1, deleted=1250)
    # Before the read model catches up it still shows them; the store says they are gone.
    assert len(clients(runtime, list_id)) == 2500
    assert clock.sweep() == SweepReport(lists=1, deleted=0)
    assert runtime.catch_up()
    assert clients(runtime, list_id) == [f"C{i:04d}" for i in range(0, 2500, 2)]
    assert runtime.records.counts(list_id) == (1250, 1250)
    assert clock.sweep() == SweepReport(lists=1, deleted=0)
    assert len(deletions(runtime)) == 1250
    assert {e.originator_version for e in deletions(runtime)} == {2}


def test_batches_hold_at_most_a_thousand_deletions(
    runtime: Runtime, account: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    list_id = new_list(runtime, account, 7, "all")
    store(runtime, *(chain(list_id, account, f"C{i:04d}", READY) for i in range(2100)))
    real_append = EventStore.append
    sizes: list[int] = []

    def counting_append(self: EventStore, events: Any) -> int:
        sizes.append(len(events))
        return real_append(self, events)

    monkeypatch.setattr(EventStore, "append", counting_append)
    assert sweeper(runtime).sweep().deleted == 2100
    assert sizes == [1000, 1000, 100]


def test_a_chain_changed_after_its_row_was_read_is_decided_on_the_store(
    runtime: Runtime, account: UUID
) -> None:
    list_id = new_list(runtime, account, 30, "completed")
    store(
        runtime,
        chain(list_id, account, "reopened", UPDATED),
        chain(list_id, account, "still-done", UPDATED),
        chain(list_id, account, "recent", UPDATED),
    )
    # Stored but not yet in the read model: one chain back to ready, one still done, one
    # re-imported (append and update) yesterday, which starts its retention again.
    runtime.store.append(
        [
            chain(list_id, account, "reopened", READY, version=2),
            chain(list_id, account, "still-done", CANCELLED, version=2),
            chain(list_id, account, "recent", UPDATED, version=2, at=NOW - timedelta(days=1)),
        ]
    )

    assert sweeper(runtime).sweep().deleted == 1
    assert runtime.catch_up()
    assert clients(runtime, list_id) == ["recent", "reopened"]
    [deleted] = deletions(runtime)
    assert deleted.client_id == "still-done" and deleted.originator_version == 3


def test_a_change_between_decision_and_append_is_decided_again(
    runtime: Runtime, account: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    list_id = new_list(runtime, account, 30, "completed")
    store(runtime, *(chain(list_id, account, f"C{i}", UPDATED) for i in range(5)))
    real_append = EventStore.append
    calls: list[int] = []

    def racing_append(self: EventStore, events: Any) -> int:
        calls.append(len(events))
        if len(calls) == 1:  # an import reopens C3 just before the sweeper's append
            real_append(self, [chain(list_id, account, "C3", READY, version=2)])
        return real_append(self, events)

    monkeypatch.setattr(EventStore, "append", racing_append)
    assert sweeper(runtime).sweep().deleted == 4
    assert calls == [5, 4]
    assert runtime.catch_up()
    assert clients(runtime, list_id) == ["C3"]


def test_a_batch_that_conflicts_twice_waits_for_the_next_sweep(
    runtime: Runtime, account: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    list_id = new_list(runtime, account, 30, "all")
    store(runtime, *(chain(list_id, account, f"C{i}", READY) for i in range(3)))
    real_append = EventStore.append
    version = [1]

    def always_racing(self: EventStore, events: Any) -> int:
        if any(isinstance(e, RecordChainDeleted) for e in events):
            version[0] += 1
            real_append(self, [chain(list_id, account, "C0", READY, version=version[0])])
        return real_append(self, events)

    monkeypatch.setattr(EventStore, "append", always_racing)
    assert sweeper(runtime).sweep().deleted == 0
    monkeypatch.setattr(EventStore, "append", real_append)
    assert sweeper(runtime).sweep().deleted == 3


def test_a_retention_rule_changed_between_sweeps(runtime: Runtime, account: UUID) -> None:
    list_id = new_list(runtime, account, 30, "selection", "custom.segment = 'gold'")
    store(
        runtime,
        chain(list_id, account, "G", READY, custom={"segment": "gold"}),
        chain(list_id, account, "S", READY, custom={"segment": "silver"}),
        chain(list_id, account, "B", READY, custom={"segment": "bronze"}),
    )
    assert sweeper(runtime).sweep().deleted == 1

    changed = ContactListSettings(
        retention=Retention(days=30, scope="selection", selection_rule="custom.segment = 'silver'")
    )
    runtime.handlers.lists.change(account, list_id, ChangeContactList(settings=changed))
    assert runtime.catch_up()
    assert sweeper(runtime).sweep().deleted == 1
    assert runtime.catch_up()
    assert clients(runtime, list_id) == ["B"]

    # Made permanent: nothing more goes, whatever the age.
    runtime.handlers.lists.change(account, list_id, ChangeContactList(settings=ContactListSettings()))
    assert runtime.catch_up()
    assert sweeper(runtime, NOW + timedelta(days=10_000)).sweep() == SweepReport(lists=0, deleted=0)


# Hosting ----------------------------------------------------------------------------------


def test_the_scheduler_sweeps_until_stopped_and_gives_the_lease_back(runtime: Runtime, account: UUID) -> None:
    list_id = new_list(runtime, account, 1, "all")
    store(runtime, chain(list_id, account, "C1", READY))
    worker = Scheduler(scheduled(sweeper(runtime), every_s=0.05), runtime.views, lease_s=1.0)
    worker.start()
    deadline = time.monotonic() + 10
    while worker.runs < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop(timeout=5)
    assert not worker.running and worker.error is None
    assert worker.runs >= 2, "swept again after the interval"
    assert len(deletions(runtime)) == 1
    assert not worker.holding and Lease(runtime.views, "retention").acquire() is not None, "released"
