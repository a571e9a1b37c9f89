"""Retention and suppression expiry on the scheduler, two workers on one database (one SQLite
file, a real PostgreSQL), each on connections of its own: every due chain is deleted once and
every entry expired once (counted in the store), the standby takes over within the lease
when the holder dies (SIGKILL, for the workers in processes of their own), and a holder
taken over writes nothing more."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialstream.bootstrap import Runtime, build
from processors.host.lease import Lease, LeaseLost
from processors.host.schedule import Job, Tick
from processors.retention.sweep import RetentionSweeper
from processors.suppression.expiry import SuppressionExpirySweeper
from tests.processors.host.sweep_workers import LEASE_S, Swept, later, read_models_wait, settings, worker
from tests.processors.host.test_lease import Clock

ROOT = Path(__file__).resolve().parents[3]
TAKE_OVER_S = LEASE_S + LEASE_S / 3  # lease_s + retry_s


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return ""  # the default: events.sqlite and views.sqlite in the data directory
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture
def main(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    """The test's process: stores the data and keeps the read models (no sweeps of its own)."""
    runtime = build(settings(tmp_path, database_url), workers=[])
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


def wait_for(condition: object, timeout: float, what: str) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    assert callable(condition)
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)
    return time.monotonic() - started


def test_two_workers_sweep_everything_once_and_the_standby_takes_over(
    main: Runtime, tmp_path: Path, database_url: str
) -> None:
    swept = Swept(main)
    swept.add(chains=300, entries_per_list=200)
    first, first_schedulers = worker(settings(tmp_path, database_url))
    second, second_schedulers = worker(settings(tmp_path, database_url))
    try:
        for scheduler in first_schedulers:
            scheduler.start()
        wait_for(lambda: all(s.holding for s in first_schedulers), 10, "the first worker holds both leases")
        for scheduler in second_schedulers:
            scheduler.start()
        wait_for(swept.all_swept, 30, "everything swept")
        swept.assert_each_swept_once()
        assert all(s.runs == 0 and not s.holding for s in second_schedulers), "the standby ran nothing"

        for scheduler in first_schedulers:  # dies: its leases are not given back
            scheduler.lease.release = lambda: None  # type: ignore[method-assign]
            scheduler.stop(timeout=10)
        swept.add(chains=100, entries_per_list=100)
        took_over = wait_for(
            lambda: all(s.holding for s in second_schedulers),
            TAKE_OVER_S + 2,
            "the standby holds both leases",
        )
        assert took_over <= TAKE_OVER_S + 0.5
        wait_for(swept.all_swept, 30, "the rest swept by the standby")
        swept.assert_each_swept_once()
        assert all(s.error is None for s in second_schedulers)
    finally:
        for scheduler in first_schedulers + second_schedulers:
            scheduler.stop(timeout=10)
        first.stop()
        second.stop()


def _holders(main: Runtime) -> dict[str, str]:
    with main.views.transaction() as cursor:
        cursor.execute("SELECT name, holder FROM leases")
        return {name: holder for name, holder in cursor.fetchall()}


def _held_by(main: Runtime, pid: int) -> bool:
    holders = _holders(main)
    return len(holders) == 2 and all(f":{pid}:" in holder for holder in holders.values())


def _start(tmp_path: Path, database_url: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.processors.host.sweep_workers", str(tmp_path), database_url, "0.2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready", "the worker did not start"
    return process


def test_a_worker_killed_mid_sweep_is_replaced_and_nothing_is_doubled(
    main: Runtime, tmp_path: Path, database_url: str
) -> None:
    swept = Swept(main, suppression_lists=10)
    processes: list[subprocess.Popen[str]] = []
    try:
        # Both workers start before there is anything to sweep: on PostgreSQL, a process's
        # CREATE ... IF NOT EXISTS of the read models can deadlock with the projections
        # applying writes (an issue of the read models' start, not of the lease).
        holder = _start(tmp_path, database_url)
        processes.append(holder)
        wait_for(lambda: _held_by(main, holder.pid), 20, "the first worker holds both leases")
        standby = _start(tmp_path, database_url)
        processes.append(standby)
        # Ten batches of effects in each sweep, 0.2 s apart: both sweeps are half-way through
        # when the first of each is stored, whichever started first.
        swept.add(chains=1000, entries_per_list=50)
        wait_for(lambda: all(len(done) for done in swept.effects()), 20, "the first deletions and expiries")
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        killed = time.monotonic()
        deleted, expired = swept.effects()
        assert 0 < len(deleted) < 1000 and 0 < len(expired) < 500, "killed half-way through both sweeps"

        wait_for(lambda: _held_by(main, standby.pid), TAKE_OVER_S + 5, "the standby holds both leases")
        took_over = time.monotonic() - killed
        # From its last renewal, at most lease_s + retry_s; process scheduling on a busy machine aside.
        assert took_over <= TAKE_OVER_S + 1.5, f"took over after {took_over:.2f} s"
        wait_for(swept.all_swept, 60, "everything swept")
        swept.add(chains=50, entries_per_list=50)
        wait_for(swept.all_swept, 30, "new work swept by the standby")
        swept.assert_each_swept_once()
        assert main.catch_up()
        assert main.records.counts(swept.contact_list) == (0, 0)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(20)
    assert standby.returncode == 0, "stopped cleanly on SIGTERM"


def test_a_holder_taken_over_mid_sweep_writes_nothing_more(
    main: Runtime, tmp_path: Path, database_url: str
) -> None:
    swept = Swept(main)
    swept.add(chains=5, entries_per_list=3)  # 3 entries in each of two lists
    paused, _ = worker(settings(tmp_path, database_url))
    other, _ = worker(settings(tmp_path, database_url))
    try:
        _taken_over_after_one_batch(
            "retention",
            RetentionSweeper(paused.store, paused.catalogue, paused.records, batch=1),
            RetentionSweeper(other.store, other.catalogue, other.records),
            paused,
            other,
        )
        deleted, _ = swept.effects()
        assert sum(deleted.values()) == 5 and set(deleted.values()) == {1}
        _taken_over_after_one_batch("suppression-expiry", _expiry(paused), _expiry(other), paused, other)
        _, expired = swept.effects()
        assert len(expired) == 6 and set(expired.values()) == {1}
    finally:
        paused.stop()
        other.stop()


def _taken_over_after_one_batch(
    name: str, paused_sweep: Job, other_sweep: Job, paused: Runtime, other: Runtime
) -> None:
    """``paused`` holds the lease, writes one batch, pauses past its lease, is taken over by
    ``other``: its sweep raises LeaseLost at the next batch, having written that one only."""
    clock = Clock()
    paused_lease = Lease(paused.views, name, duration_s=30, holder="paused", clock=clock)
    other_lease = Lease(other.views, name, duration_s=30, holder="other", clock=clock)
    assert paused_lease.acquire() is not None
    store_before = paused.store.position()
    checks = 0

    def fence() -> int:
        nonlocal checks
        checks += 1
        if checks == 2:
            clock.advance(31)
            assert other_lease.acquire() is not None
        return paused_lease.check()

    with pytest.raises(LeaseLost):
        paused_sweep(Tick(now=later(), token=1, check=fence, stopping=lambda: False))
    assert checks == 2
    written = paused.store.read(store_before, limit=100)
    assert len(written) == 1, "one batch (one chain, one list's entries), then nothing more"
    other_sweep(Tick(now=later(), token=2, check=other_lease.check, stopping=lambda: False))


def _expiry(runtime: Runtime) -> SuppressionExpirySweeper:
    return SuppressionExpirySweeper(
        runtime.suppression_lists,
        lambda account_id, list_id, keys: (
            runtime.handlers.suppression.expire_entries(account_id, list_id, keys).position
        ),
        read_models_wait(runtime),
        head=runtime.store.position,
    )
