"""The dialing queue: the dialable-records query on a large records table, and a draw.

A records read model (SQLite, as embedded) holds 1,000,000 records: 20 lists of 50,000
chains of one record each, in four US zones, a fifth of them with a daily window, a custom
``balance`` field. The group dials one of those lists. Each figure is the best of
``rounds`` rounds of 20 calls, in milliseconds per call:

    queue_dialable_500_ms              a page of 500 candidates, chain order, fresh list
    queue_dialable_500_dialled_ms      the same after 60 % of the list's chains were updated
    queue_dialable_500_sorted_ms       sorted by a record field (attempt, descending)
    queue_dialable_500_custom_sort_ms  sorted by a custom field (read and sorted in Python)
    queue_dialable_500_python_rule_ms  with a rule on a custom field (matched in Python)
    queue_counts_ms                    queue_counts of the list
    queue_draw_200_ms                  QueueHandlers.draw of 200 candidates (SQLite event
                                       store): 200 chain loads, one transaction

``--events`` overrides the table's size (records; a quick look only).
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

from dialstream.handlers import Handlers
from dialstream.store import EventStore, store_env
from domain import (
    campaign_group,
    campaign_template,
    contact_list,
    dialing_profile,
    record_chain,
    session_profile,
)
from domain.selection import parse
from projections.base import ProjectionStore
from projections.records import COLUMNS, RecordQueries, Records
from projections.sql import SQLiteDatabase
from schemas.profiles import DialingSettings, SessionSettings, SortField
from schemas.records import Record, RecordChainImported
from tests.bench.figures import Figure, Options

RECORDS = 1_000_000
PER_LIST = 50_000
CALLS = 20
NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 12:00 in New York, 09:00 in Los Angeles
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
NAMESPACE = UUID("5d1c8f0e-6a57-4f7e-9d0b-0b6f7f3c9a11")


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def _fill(db: SQLiteDatabase, records: int) -> list[UUID]:
    lists = [record_chain.name_based_id(NAMESPACE, f"list {n}") for n in range(max(1, records // PER_LIST))]
    insert = f"INSERT INTO records ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    account = str(uuid4())
    for list_id in lists:
        rows = []
        for n in range(min(PER_LIST, records)):
            client = f"C{n:07d}"
            chain = record_chain.chain_id(list_id, client)
            windowed = n % 5 == 0
            rows.append(
                (
                    str(list_id), client, 1, str(chain), str(record_chain.record_id(chain, 1)), account,
                    f"+1212{n:07d}", 1, 2, 1, 28, n % 3, None, None,
                    9 * 3600 if windowed else None, 20 * 3600 if windowed else None,
                    ZONES[n % 4], "device", None, "", "US", "", "",
                    f'{{"balance":"{(n * 7919) % 10_000}.{n % 100:02d}"}}', NOW.isoformat(), None, n + 2,
                )
            )  # fmt: skip
        with db.transaction() as cursor:
            cursor.executemany(insert, rows)
    with db.transaction() as cursor:
        cursor.execute("ANALYZE")
    return lists


def _best(call: Callable[[], object]) -> float:
    """Milliseconds per call, the best of rounds of CALLS calls."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(CALLS):
        call()
    return (time.perf_counter() - start) * 1000 / CALLS


def _draw_ms(directory: Path, rounds: int) -> float:
    store = EventStore(store_env(f"sqlite:///{directory / 'events.sqlite'}"))
    try:
        handlers = Handlers(store, clock=lambda: NOW)
        account = handlers.accounts.open_account("Bench").id
        profile = handlers.profiles.create(
            dialing_profile.KIND,
            account,
            dialing_profile.CreateDialingProfile(name="Progressive", settings=DialingSettings()),
        ).id
        session = handlers.profiles.create(
            session_profile.KIND,
            account,
            session_profile.CreateSessionProfile(name="Voice", settings=SessionSettings(agent_group="A")),
        ).id
        template = handlers.campaigns.create_template(
            account,
            campaign_template.CreateCampaignTemplate(
                name="T", dialing_profile_id=profile, session_profile_id=session
            ),
        ).id
        list_id = handlers.lists.create(account, contact_list.CreateContactList(name="L")).id
        group = handlers.campaigns.create_group(
            account,
            campaign_group.CreateCampaignGroup(name="G", template_id=template, contact_list_ids=[list_id]),
        ).id
        handlers.campaigns.transition_group(account, group, "start")
        views = SQLiteDatabase(f"sqlite:///{directory / 'draw-views.sqlite'}")
        projections = ProjectionStore(views, [Records()])
        chains = 200 * rounds
        events = []
        for n in range(chains):
            chain = record_chain.chain_id(list_id, f"C{n:06d}")
            events.append(
                RecordChainImported(
                    originator_id=chain, originator_version=1, timestamp=NOW, account_id=account,
                    list_id=list_id, client_id=f"C{n:06d}", job_id=uuid4(), line=n + 2,
                    records=[
                        Record(record_id=record_chain.record_id(chain, 1), chain_n=1, contact_info=f"+1312{n:07d}",
                               contact_info_type=1, time_zone="America/Chicago", time_zone_rule="device")
                    ],
                )
            )  # fmt: skip
        store.append(events)
        projections.apply("records", store.read(0, limit=chains + 100))
        queries = RecordQueries(views)
        best = float("inf")
        for _ in range(rounds):
            candidates = queries.dialable([list_id], now=NOW, max_attempts=10, limit=200)
            start = time.perf_counter()
            drawn = handlers.queue.draw(account, group, candidates, max_attempts=10)
            best = min(best, (time.perf_counter() - start) * 1000)
            assert len(drawn) == 200
            projections.apply("records", store.read(projections.position("records"), limit=1000))
        views.close()
        return best
    finally:
        store.close()


def run(options: Options) -> list[Figure]:
    records = options.events or RECORDS
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        directory = Path(tmp)
        db = SQLiteDatabase(f"sqlite:///{directory / 'views.sqlite'}")
        ProjectionStore(db, [Records()])
        log(f"filling a records table of {records:,} records")
        lists = _fill(db, records)
        queries = RecordQueries(db)
        target = [lists[len(lists) // 2]]

        def page(**extra: object) -> Callable[[], object]:
            def call() -> object:
                found = queries.dialable(target, now=NOW, max_attempts=10, limit=500, **extra)  # type: ignore[arg-type]
                assert len(found) == 500, len(found)
                return found

            return call

        figures: dict[str, float] = {}
        cases: dict[str, Callable[[], object]] = {
            "queue_dialable_500_ms": page(),
            "queue_dialable_500_sorted_ms": page(sort=[SortField(field="attempt", descending=True)]),
            "queue_dialable_500_custom_sort_ms": page(sort=[SortField(field="balance", descending=True)]),
            "queue_dialable_500_python_rule_ms": page(rule=parse("custom.balance > 5000")),
            "queue_counts_ms": lambda: queries.queue_counts(target, now=NOW, max_attempts=10),
        }
        for _ in range(options.rounds):
            for name, call in cases.items():
                figures[name] = min(figures.get(name, float("inf")), _best(call))
        log("updating 60 % of the list's chains")
        with db.transaction() as cursor:
            cursor.execute(
                "UPDATE records SET record_status = 3 WHERE list_id = ? AND client_id < ?",
                (str(target[0]), f"C{int(min(PER_LIST, records) * 0.6):07d}"),
            )
        dialled = page()
        for _ in range(options.rounds):
            figures["queue_dialable_500_dialled_ms"] = min(
                figures.get("queue_dialable_500_dialled_ms", float("inf")), _best(dialled)
            )
        db.close()
        log("drawing 200 candidates through the handlers")
        figures["queue_draw_200_ms"] = _draw_ms(directory, options.rounds)
    order = [
        "queue_dialable_500_ms",
        "queue_dialable_500_dialled_ms",
        "queue_dialable_500_sorted_ms",
        "queue_dialable_500_custom_sort_ms",
        "queue_dialable_500_python_rule_ms",
        "queue_counts_ms",
        "queue_draw_200_ms",
    ]
    return [Figure(name, figures[name], "ms") for name in order]


if __name__ == "__main__":  # python -m tests.bench.bench_queue [records]
    for figure in run(Options(rounds=3, events=int(sys.argv[1]) if len(sys.argv) > 1 else None)):
        print(figure.line(), flush=True)
