"""The one scheduler for periodic work (sweeps, and later callbacks and list-automation jobs).

A feature declares its schedule beside itself (Netflix dispatch's ``<feature>/scheduled.py``
idea): a :class:`Schedule` is a name, a :class:`Trigger` (:class:`Every` N seconds, or a
:class:`Cron` string in a time zone) and a job, called with a :class:`Tick`. See
``processors.retention.sweep.scheduled`` and ``processors.suppression.expiry.scheduled``.

Input: the schedule, the shared database (:class:`projections.sql.Database`: the read
models', which every process of a deployment shares) and a clock.
Output: what the job writes (through the service layer), and one row per schedule in
``schedule_runs``: when its last completed run started, by which lease tenure.
State: the schedule's :class:`~processors.host.lease.Lease` and its ``schedule_runs`` row,
both in the shared database; nothing in memory needs to survive a restart.
Delivery guarantee: of N processes hosting one schedule, only the lease holder runs it, and
it renews the lease while the job runs; a holder that dies (SIGKILL: no release) is replaced
within ``lease_s + retry_s``, and the new holder runs at once what was due, so a run cut short
is run again (at least once per due time: jobs decide again on the store, so a second run
has no second effect). A holder taken over must not go on writing: the job calls
``tick.check()`` before each batch of effects, which renews the lease or raises
:class:`~processors.host.lease.LeaseLost`; the run's record is fenced by its token.
Run: hosted on :class:`processors.host.lifecycle.Hosted` (start, stop, health, back-off) by
the runtime for ``dialstream up``, ``dialstream worker retention`` and ``dialstream worker
suppression-expiry``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dialstream.clock import utc_now
from processors.host.lease import Lease, LeaseLost, create_table
from processors.host.lifecycle import Hosted
from projections.sql import Database

log = logging.getLogger(__name__)

RUNS_TABLE = """
CREATE TABLE IF NOT EXISTS schedule_runs (
    name TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    token BIGINT NOT NULL
)
"""
# A run is recorded only over the record of an earlier or the same tenure: a holder that was
# taken over (a smaller token) cannot move the schedule of the one that replaced it.
_RECORD_RUN = """
INSERT INTO schedule_runs (name, started_at, finished_at, token) VALUES (?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET
    started_at = excluded.started_at, finished_at = excluded.finished_at, token = excluded.token
WHERE schedule_runs.token <= excluded.token
"""


class Trigger(Protocol):
    def next_after(self, last: datetime) -> datetime:
        """When the run after one that started at ``last`` is due."""
        ...


@dataclass(frozen=True)
class Every:
    seconds: float

    def next_after(self, last: datetime) -> datetime:
        return last + timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class Cron:
    """A 5-field cron string read in ``zone`` (list automation's schedules)."""

    expression: str
    zone: str = "UTC"

    def next_after(self, last: datetime) -> datetime:
        from croniter import croniter

        local = last.astimezone(ZoneInfo(self.zone))
        following: datetime = croniter(self.expression, local).get_next(datetime)
        return following.astimezone(UTC)


@dataclass(frozen=True)
class Tick:
    """One run of a job: the time it decides at, and its lease."""

    now: datetime
    token: int  # the lease's fencing token, for effects written in the shared database
    check: Callable[[], object]  # before each batch of effects: raises LeaseLost once taken over
    stopping: Callable[[], bool]  # True once the process is stopping: end the run early


class Job(Protocol):
    def __call__(self, tick: Tick) -> object: ...


@dataclass(frozen=True)
class Schedule:
    name: str  # also the lease's name: one holder per name across every process
    trigger: Trigger
    job: Job


class Scheduler(Hosted):
    """Hosts one schedule: holds its lease, runs its job when due, renews while it runs."""

    def __init__(
        self,
        schedule: Schedule,
        db: Database,
        *,
        lease_s: float = 30.0,
        retry_s: float | None = None,
        clock: Callable[[], datetime] = utc_now,
        holder: str | None = None,
    ):
        super().__init__(name=schedule.name)
        self.schedule = schedule
        self.db = db
        self.clock = clock
        self.lease = Lease(db, schedule.name, duration_s=lease_s, holder=holder, clock=clock)
        # Renew three times per lease, so one slow renewal does not lose it; a standby asks
        # as often, so it takes over within lease_s + retry_s of the holder's last renewal.
        self.renew_s = lease_s / 3
        self.retry_s = self.renew_s if retry_s is None else retry_s
        self.runs = 0  # runs completed by this process
        self.last_result: object = None
        create_table(db, RUNS_TABLE)

    @property
    def holding(self) -> bool:
        return self.lease.token is not None

    # The lifecycle -----------------------------------------------------------------------

    def run_once(self) -> None:
        if not self.holding:
            if self.lease.acquire() is None:
                return  # another process holds it; idle() asks again
            log.info("%s: lease taken by %s (token %s)", self.name, self.lease.holder, self.lease.token)
        elif not self.lease.renew():
            return
        started = self.clock()
        if self.due_at() > started:
            return
        self._run(started)

    def idle(self) -> None:
        if not self.holding:
            self.sleep(self.retry_s)
            return
        try:
            until_due = (self.due_at() - self.clock()).total_seconds()
        except Exception:  # the database is away: the next round finds out and backs off
            until_due = self.retry_s
        self.sleep(max(0.0, min(self.renew_s, until_due)))

    def expected(self, error: Exception) -> bool:
        return isinstance(error, LeaseLost)

    def on_stop(self) -> None:
        self.lease.release()

    # Runs --------------------------------------------------------------------------------

    def due_at(self) -> datetime:
        """When the next run is due (now, if the schedule never completed a run)."""
        with self.db.transaction() as cursor:
            cursor.execute("SELECT started_at FROM schedule_runs WHERE name = ?", (self.name,))
            row = cursor.fetchone()
        if row is None:
            return datetime.min.replace(tzinfo=UTC)
        return self.schedule.trigger.next_after(datetime.fromtimestamp(int(row[0]) / 1000, UTC))

    def _run(self, started: datetime) -> None:
        token = self.lease.token
        assert token is not None
        keeper = _LeaseKeeper(self.lease, self.renew_s, f"{self.name}-lease")
        keeper.start()
        try:
            self.last_result = self.schedule.job(
                Tick(now=started, token=token, check=self.lease.check, stopping=lambda: self.stopping)
            )
        finally:
            keeper.stop()
        if self.stopping:
            return  # cut short: not a completed run, the next holder runs it again
        self.lease.check()
        with self.db.transaction() as cursor:
            cursor.execute(_RECORD_RUN, (self.name, _ms(started), _ms(self.clock()), token))
        self.runs += 1
        log.debug("%s: ran (%s)", self.name, self.last_result)


class _LeaseKeeper(Hosted):
    """Renews a lease while a job runs; once it is lost, the job's next check raises."""

    def __init__(self, lease: Lease, every_s: float, name: str):
        super().__init__(name=name)
        self.lease = lease
        self.interval_s = every_s

    def run_once(self) -> None:
        if not self.lease.renew():
            self.stop()


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)
