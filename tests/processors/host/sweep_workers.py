"""Sweep workers for the lease tests, and the data they sweep.

A worker hosts the retention and suppression expiry schedules the way ``dialstream worker
retention`` and ``dialstream worker suppression-expiry`` do (the same ``scheduled()``
declarations on the same scheduler), on store and read-model connections of its own, with a
short interval and lease. Its bus is never started: the test's process keeps the read
models, as the projection workers do on Kafka, and the worker waits for them through their
positions in the shared database.

``python -m tests.processors.host.sweep_workers DATA_DIR DATABASE_URL PAUSE_S`` runs one in
a process of its own (pausing PAUSE_S before each batch of effects): it prints ``ready`` once its schedulers run, and stops on SIGTERM (or
dies on SIGKILL, which is what the tests do to it).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from dialstream.bootstrap import Runtime, build
from dialstream.clock import utc_now
from dialstream.settings import Settings
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.host.schedule import Schedule, Scheduler, Tick
from processors.retention import sweep as retention
from processors.retention.sweep import RetentionSweeper
from processors.suppression import expiry as suppression_expiry
from processors.suppression.expiry import SuppressionExpirySweeper
from schemas.records import RecordChainDeleted
from schemas.suppression import SuppressionEntriesExpired
from tests.processors.retention.test_retention import READY, chain, new_list

LEASE_S = 1.5
EVERY_S = 0.2
# The workers decide two days on: entries kept "today" have expired by then.
LATER = timedelta(days=2)


def later() -> datetime:
    return utc_now() + LATER


def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url or "")


def read_models_wait(runtime: Runtime) -> Callable[[int, float], bool]:
    """Read-your-writes on read models another process keeps: their positions, polled."""
    projections = runtime.projections

    def wait(position: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while min(projections.position(name) for name in projections.projections) < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    return wait


def slowed(schedule: Schedule, pause_s: float) -> Schedule:
    """The schedule with a pause before each batch of effects: a sweep long enough to be
    killed half-way through."""
    if not pause_s:
        return schedule
    job = schedule.job

    def paused(tick: Tick) -> object:
        def check() -> object:
            time.sleep(pause_s)
            return tick.check()

        return job(replace(tick, check=check))

    return replace(schedule, job=paused)


def worker(settings: Settings, *, batch: int = 100, pause_s: float = 0.0) -> tuple[Runtime, list[Scheduler]]:
    """A runtime (never started) and its two schedulers (not started either)."""
    runtime = build(settings, relay=False, workers=[])
    wait = read_models_wait(runtime)
    expiry = SuppressionExpirySweeper(
        runtime.suppression_lists,
        lambda account_id, list_id, keys: (
            runtime.handlers.suppression.expire_entries(account_id, list_id, keys).position
        ),
        wait,
        clock=later,
        head=runtime.store.position,
    )
    sweeper = RetentionSweeper(runtime.store, runtime.catalogue, runtime.records, later, batch=batch)
    schedulers = [
        Scheduler(slowed(schedule, pause_s), runtime.views, lease_s=LEASE_S, clock=later)
        for schedule in (retention.scheduled(sweeper, EVERY_S), suppression_expiry.scheduled(expiry, EVERY_S))
    ]
    return runtime, schedulers


# The data swept ----------------------------------------------------------------------------


class Swept:
    """Due chains and expiring entries, stored through a runtime that keeps the read models."""

    def __init__(self, runtime: Runtime, suppression_lists: int = 2):
        self.runtime = runtime
        self.account = runtime.handlers.accounts.open_account("Acme").id
        self.contact_list = new_list(runtime, self.account, 1, "all")
        self.suppression_lists = [
            runtime.handlers.suppression.create_list(
                self.account, CreateSuppressionList(name=f"today {n}", required=True, retention_days=0)
            ).id
            for n in range(suppression_lists)
        ]
        self.chains = 0
        self.entries = 0
        assert runtime.catch_up()

    def add(self, chains: int, entries_per_list: int) -> None:
        first = self.chains
        self.runtime.store.append(
            [chain(self.contact_list, self.account, f"C{n:05d}", READY) for n in range(first, first + chains)]
        )
        self.chains += chains
        for list_id in self.suppression_lists:
            self.runtime.handlers.suppression.add_entries(
                self.account,
                list_id,
                [
                    EntryInput(kind="client_id", value=f"S{n:05d}")
                    for n in range(self.entries, self.entries + entries_per_list)
                ],
            )
        self.entries += entries_per_list
        assert self.runtime.catch_up()

    def effects(self) -> tuple[Counter[UUID], Counter[tuple[UUID, str]]]:
        """How many times each chain was deleted, and each entry expired, in the store."""
        deleted: Counter[UUID] = Counter()
        expired: Counter[tuple[UUID, str]] = Counter()
        for _, event in self.runtime.store.read(0, limit=10_000_000):
            if isinstance(event, RecordChainDeleted):
                deleted[event.originator_id] += 1
            elif isinstance(event, SuppressionEntriesExpired):
                expired.update((event.originator_id, key.value) for key in event.entries)
        return deleted, expired

    def all_swept(self) -> bool:
        deleted, expired = self.effects()
        return len(deleted) == self.chains and len(expired) == self.entries * len(self.suppression_lists)

    def assert_each_swept_once(self) -> None:
        deleted, expired = self.effects()
        assert len(deleted) == self.chains and set(deleted.values()) == {1}, "each chain deleted once"
        assert len(expired) == self.entries * len(self.suppression_lists)
        assert set(expired.values()) == {1}, "each entry expired once"


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    data_dir, database_url, pause_s = argv
    runtime, schedulers = worker(settings(Path(data_dir), database_url), pause_s=float(pause_s))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for scheduler in schedulers:
        scheduler.start()
    print("ready", flush=True)
    # Woken often: a SIGTERM the kernel hands to another thread leaves a main thread blocked
    # on a lock without a timeout unwoken, so its Python handler would never run.
    while not stop.wait(0.5):
        pass
    for scheduler in schedulers:
        scheduler.stop()
    runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
