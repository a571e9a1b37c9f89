"""The scheduler: due times, the lease it holds while it runs, and take-over, on one SQLite
file and on a real PostgreSQL, each scheduler on a connection of its own."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from processors.host.lease import LeaseLost
from processors.host.schedule import Cron, Every, Schedule, Scheduler, Tick
from projections.sql import Database
from tests.processors.host.test_lease import T0, Clock


class Recording:
    """A job that notes each tick; ``during`` runs inside the job (a pause, a take-over)."""

    def __init__(self, during: object = None) -> None:
        self.ticks: list[Tick] = []
        self.during = during

    def __call__(self, tick: Tick) -> int:
        self.ticks.append(tick)
        if callable(self.during):
            self.during()
        tick.check()  # the fence before this run's effects
        return len(self.ticks)


def test_runs_when_due_and_not_before(connections: list[Database]) -> None:
    clock = Clock()
    job = Recording()
    scheduler = Scheduler(Schedule("sweep", Every(60), job), connections[0], lease_s=30, clock=clock)

    scheduler.run_once()
    assert [t.now for t in job.ticks] == [T0], "never ran: due at once"
    assert job.ticks[0].token == 1 and scheduler.runs == 1 and scheduler.last_result == 1
    clock.advance(59)
    scheduler.run_once()
    assert len(job.ticks) == 1
    clock.advance(1)
    scheduler.run_once()
    assert [t.now for t in job.ticks] == [T0, T0 + timedelta(seconds=60)]


def test_the_next_holder_keeps_the_cadence(connections: list[Database]) -> None:
    clock = Clock()
    first = Scheduler(Schedule("sweep", Every(60), Recording()), connections[0], lease_s=30, clock=clock)
    job = Recording()
    second = Scheduler(Schedule("sweep", Every(60), job), connections[1], lease_s=30, clock=clock)
    first.run_once()
    first.on_stop()  # gives the lease back
    clock.advance(10)
    second.run_once()
    assert second.holding and job.ticks == [], "ran 10 s ago elsewhere: not due"
    clock.advance(25)
    second.run_once()  # renews
    clock.advance(24)
    second.run_once()
    assert job.ticks == [], "59 s after the last run"
    clock.advance(1)
    second.run_once()
    assert [t.now for t in job.ticks] == [T0 + timedelta(seconds=60)] and job.ticks[0].token == 2


def test_a_holder_taken_over_mid_run_stops_and_its_run_is_run_again(connections: list[Database]) -> None:
    clock = Clock()
    other_job = Recording()
    other = Scheduler(Schedule("sweep", Every(60), other_job), connections[1], lease_s=30, clock=clock)

    def pause_past_the_lease() -> None:
        clock.advance(31)
        other.run_once()  # takes the lease over, and runs what is due

    paused = Scheduler(
        Schedule("sweep", Every(60), Recording(pause_past_the_lease)), connections[0], lease_s=30, clock=clock
    )
    with pytest.raises(LeaseLost):
        paused.run_once()
    assert paused.expected(LeaseLost()), "waited out quietly by the lifecycle"
    assert not paused.holding and paused.runs == 0
    assert [t.token for t in other_job.ticks] == [2] and other.runs == 1
    paused.run_once()
    assert not paused.holding, "the other holds it"


def test_of_two_schedulers_one_runs_and_the_other_takes_over_when_it_dies(
    connections: list[Database],
) -> None:
    running = 0
    most = 0
    guard = threading.Lock()

    def job(tick: Tick) -> None:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        tick.check()
        with guard:
            running -= 1

    lease_s = 1.0
    schedulers = [
        Scheduler(Schedule("sweep", Every(0.05), job), db, lease_s=lease_s, holder=f"worker {n}")
        for n, db in enumerate(connections)
    ]
    for scheduler in schedulers:
        scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while sum(s.runs for s in schedulers) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        holders = [s for s in schedulers if s.runs]
        assert len(holders) == 1, "only the lease holder runs"
        [holder] = holders
        [standby] = [s for s in schedulers if s is not holder]

        holder.lease.release = lambda: None  # type: ignore[method-assign]  # dies: no release
        holder.stop(timeout=5)
        died = time.monotonic()
        while not standby.runs and time.monotonic() < died + 10:
            time.sleep(0.01)
        took_over = time.monotonic() - died
        assert standby.runs, "the standby took over"
        assert took_over <= lease_s + standby.retry_s + 0.5, f"took over after {took_over:.2f} s"
        assert most == 1, "never two runs at once"
    finally:
        for scheduler in schedulers:
            scheduler.stop(timeout=5)
    assert all(s.error is None for s in schedulers)


def test_cron_schedules_read_in_their_time_zone() -> None:
    weekdays_at_nine = Cron("0 9 * * 1-5", "America/New_York")
    saturday_noon_utc = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    assert weekdays_at_nine.next_after(saturday_noon_utc) == datetime(2024, 6, 3, 13, 0, tzinfo=UTC)
    assert Every(900).next_after(T0) == T0 + timedelta(minutes=15)
