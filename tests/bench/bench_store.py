"""Event store append throughput, SQLite and PostgreSQL, against a raw ``executemany``.

100,000 real settings events (10,000 accounts, each opened and then changed nine times
through the domain's own decision functions) are appended in batches of 1,000 events,
one ``EventStore.append`` per batch, into a fresh database. Beside it, in the same
database, the baseline inserts the very same rows (originator id, version, topic and the
already-encoded JSON body) into an identical table with one ``executemany`` and one
transaction per batch: what the database driver can do with no event store around it.

Our figure includes everything ``append`` does (msgspec encoding, the library's recording,
notification ids); the baseline's rows are encoded before its clock starts. Each of the
``rounds`` uses a new database, runs both in alternating order, and the best round of
each counts. Figures:

    store_sqlite_events_per_s      store_sqlite_vs_raw_ratio
    store_postgres_events_per_s    store_postgres_vs_raw_ratio
"""

from __future__ import annotations

import gc
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from dialstream.store import EventStore, store_env
from domain import account
from domain.account import Account, OpenAccount, UpdateSettings
from schemas.base import Event
from schemas.settings import (
    GeneralSettings,
    ListSettings,
    MaxAttemptsPerMinute,
    PacingSettings,
    RegionSettings,
    SecuritySettings,
)
from tests import postgres
from tests.bench.figures import Figure, Options

EVENTS = 100_000
BATCH = 1_000
EVENTS_PER_ACCOUNT = 10
RAW_TABLE = "raw_events"
NAMESPACE = UUID("5d1c8f0e-6a57-4f7e-9d0b-0b6f7f3c9a10")
START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)

Row = tuple[Any, int, str, bytes]


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# The workload ---------------------------------------------------------------------------

_ZONES = [("US", "America/New_York", "en-US"), ("GB", "Europe/London", "en-GB"),
          ("DE", "Europe/Berlin", "de-DE"), ("AU", "Australia/Sydney", "en-AU")]


def _change(state: Account, step: int, now: datetime) -> list[Event]:
    """One settings-page save, cycling through the sections an operator edits."""
    n = step + state.version
    section = step % 5
    if section == 0:
        command = UpdateSettings(pacing=PacingSettings(
            target_abandon_rate=1.0 + (n % 20) / 10,
            abandon_call_definition_seconds=2 + n % 3,
            max_attempts_per_minute=MaxAttemptsPerMinute(voice=100 + n, sms=50 + n, email=20 + n),
        ))
    elif section == 1:
        country, zone, locale = _ZONES[n % len(_ZONES)]
        command = UpdateSettings(region=RegionSettings(
            country_code=country, time_zone=zone, locale=locale, reports_time_zone=zone,
        ))
    elif section == 2:
        command = UpdateSettings(lists=ListSettings(max_split_lists=1 + n % 50))
    elif section == 3:
        command = UpdateSettings(security=SecuritySettings(
            minimum_password_length=8 + n % 8, auto_sign_out_minutes=15 + n % 45,
        ))
    else:
        command = UpdateSettings(general=GeneralSettings(
            account_name=state.settings.general.account_name,
            caller_id=f"+1555{n % 10_000_000:07d}",
            disposition_codes="SALE,NOSALE,CALLBACK,DNC",
        ))
    return account.update_settings(state, command, now=now)


def workload(total: int) -> list[list[Event]]:
    """``total`` events in batches of ``BATCH``, each account's events in version order."""
    events: list[Event] = []
    accounts = -(-total // EVENTS_PER_ACCOUNT)
    for index in range(accounts):
        account_id = uuid5(NAMESPACE, f"account-{index}")
        now = START + timedelta(seconds=index)
        history = account.open_account(
            account_id, OpenAccount(name=f"Collections desk {index:05d}"), now=now
        )
        state = account.project(None, history)
        step = 0
        while len(history) < EVENTS_PER_ACCOUNT and state is not None:
            step += 1
            change = _change(state, step, now + timedelta(minutes=step))
            history += change
            state = account.project(state, change)
        events += history
    events = events[:total]
    return [events[i:i + BATCH] for i in range(0, len(events), BATCH)]


def raw_rows(store: EventStore, batches: list[list[Event]], uuid_as_hex: bool) -> list[list[Row]]:
    """The rows the store writes, encoded by the store's own mapper, for the baseline."""
    rows = []
    for batch in batches:
        stored = [store.mapper.to_stored_event(event) for event in batch]
        rows.append([
            (s.originator_id.hex if uuid_as_hex and isinstance(s.originator_id, UUID)
             else s.originator_id,
             s.originator_version, s.topic, s.state)
            for s in stored
        ])
    return rows


# Timing ---------------------------------------------------------------------------------


def timed(action: Callable[[], None]) -> float:
    gc.collect()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@dataclass
class Result:
    ours: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)

    def figures(self, backend: str, events: int) -> list[Figure]:
        ours = events / min(self.ours)
        raw = events / min(self.raw)
        log(f"{backend}: ours {ours:,.0f} events/s (rounds: "
            + ", ".join(f"{events / t:,.0f}" for t in self.ours)
            + f"); raw executemany {raw:,.0f} rows/s (rounds: "
            + ", ".join(f"{events / t:,.0f}" for t in self.raw) + ")")
        return [
            Figure(f"store_{backend}_events_per_s", ours, "events/s"),
            Figure(f"store_{backend}_vs_raw_ratio", ours / raw, "ratio"),
        ]


def append_all(store: EventStore, batches: list[list[Event]]) -> Callable[[], None]:
    def run() -> None:
        for batch in batches:
            store.append(batch)
    return run


def run_round(
    result: Result, round_no: int, ours: Callable[[], None], raw: Callable[[], None]
) -> None:
    order = [("ours", ours), ("raw", raw)]
    if round_no % 2:
        order.reverse()
    for name, action in order:
        seconds = timed(action)
        getattr(result, name).append(seconds)
        log(f"  round {round_no + 1} {name}: {seconds:.3f} s")


def check(count: int, expected: int, what: str) -> None:
    if count != expected:
        raise RuntimeError(f"{what}: {count} rows stored, expected {expected}")


# SQLite ---------------------------------------------------------------------------------


def bench_sqlite(batches: list[list[Event]], total: int, rounds: int) -> list[Figure]:
    result = Result()
    for round_no in range(rounds):
        with tempfile.TemporaryDirectory(prefix="dialstream-bench-") as directory:
            url = f"sqlite:///{Path(directory) / 'events.db'}"
            store = EventStore(store_env(url))
            recorder = store.recorder
            assert isinstance(recorder, SQLiteApplicationRecorder)
            SQLiteApplicationRecorder(recorder.datastore, RAW_TABLE).create_table()
            rows = raw_rows(store, batches, uuid_as_hex=True)
            # The same connection settings as the library's: autocommit, WAL, explicit BEGIN.
            conn = sqlite3.connect(
                sqlite_file(url), isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.execute("PRAGMA journal_mode=WAL")
            try:
                run_round(result, round_no, append_all(store, batches), raw_sqlite(conn, rows))
                check(store.position(), total, "sqlite store")
                check(conn.execute(f"SELECT COUNT(*) FROM {RAW_TABLE}").fetchone()[0], total,
                      "sqlite raw")
            finally:
                conn.close()
                store.close()
    return result.figures("sqlite", total)


def sqlite_file(url: str) -> str:
    return url[len("sqlite:///"):]


def raw_sqlite(conn: sqlite3.Connection, rows: list[list[Row]]) -> Callable[[], None]:
    insert = (f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
              "VALUES (?, ?, ?, ?)")

    def run() -> None:
        for batch in rows:
            conn.execute("BEGIN")
            conn.executemany(insert, batch)
            conn.execute("COMMIT")

    return run


# PostgreSQL -----------------------------------------------------------------------------


def bench_postgres(batches: list[list[Event]], total: int, rounds: int) -> list[Figure]:
    result = Result()
    log("starting PostgreSQL with compose/postgres.sh")
    with postgres.running() as server:
        for round_no in range(rounds):
            with postgres.fresh_database(server, prefix="dialstream_bench") as url:
                store = EventStore(store_env(url))
                recorder = store.recorder
                assert isinstance(recorder, PostgresApplicationRecorder)
                PostgresApplicationRecorder(recorder.datastore, events_table_name=RAW_TABLE) \
                    .create_table()
                rows = raw_rows(store, batches, uuid_as_hex=False)
                conn = psycopg.connect(url, autocommit=True)
                try:
                    run_round(result, round_no, append_all(store, batches),
                              raw_postgres(conn, rows))
                    check(store.position(), total, "postgres store")
                    counted = conn.execute(f"SELECT COUNT(*) FROM {RAW_TABLE}").fetchone()
                    check(counted[0] if counted else 0, total, "postgres raw")
                finally:
                    conn.close()
                    store.close()
    return result.figures("postgres", total)


def raw_postgres(conn: psycopg.Connection[Any], rows: list[list[Row]]) -> Callable[[], None]:
    insert = (f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
              "VALUES (%s, %s, %s, %s)")

    def run() -> None:
        for batch in rows:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(insert, batch)

    return run


# The group ------------------------------------------------------------------------------


def run(options: Options) -> Iterator[Figure]:
    total = options.events or EVENTS
    started = time.perf_counter()
    batches = workload(total)
    log(f"store: {total:,} events in {len(batches)} batches of {BATCH:,} "
        f"(built in {time.perf_counter() - started:.1f} s), best of {options.rounds} rounds")
    yield from bench_sqlite(batches, total, options.rounds)
    yield from bench_postgres(batches, total, options.rounds)
