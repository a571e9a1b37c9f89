"""The records read model as the dialing queue reads it: the columns the queue's events set,
replay equal to live, and the dialable-records query (its order, rule, sort, exclusions and
daily windows) agreeing with :func:`domain.dialing_queue.next_record` chain by chain."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from dialstream.handlers import Handlers
from dialstream.store import EventStore, store_env
from dialstream.store.events import LogEntry, stored_topic
from domain import (
    campaign_group,
    campaign_template,
    contact_list,
    dialing_profile,
    dialing_queue,
    record_chain,
    selection,
    session_profile,
)
from domain.codes import RecordStatus, RecordType
from domain.record_chain import RecordChain
from projections.base import ProjectionStore
from projections.records import RecordQueries, Records, dump_rows
from projections.sql import SQLiteDatabase, connect
from schemas import registry
from schemas.base import Event
from schemas.profiles import DialingSettings, SessionSettings, SortField
from schemas.records import (
    Contact,
    Record,
    RecordChainImported,
    RecordChainReplaced,
    RecordChange,
    RecordQueueEvent,
    RecordRetrieved,
    RecordReturned,
    RecordTreated,
    RecordUpdated,
)
from tests.domain import builders

# 14:00 UTC: 10:00 in New York, 07:00 in Los Angeles, 23:00 in Tokyo.
NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())
ACCOUNT = UUID("0a000000-0000-4000-8000-000000000001")
LIST_A = UUID("0a000000-0000-4000-8000-0000000000a1")
LIST_B = UUID("0a000000-0000-4000-8000-0000000000a2")
GROUP = UUID("0a000000-0000-4000-8000-0000000000b1")
MAX = 3
HOUR = 3600


class Lists:
    """Chains applied to a records read model and folded into aggregates side by side."""

    def __init__(self, db: Any):
        self.db = db
        self.store = ProjectionStore(db, [Records()])
        self.queries = RecordQueries(db)
        self.chains: dict[UUID, RecordChain] = {}
        self.position = 0
        self.log: list[tuple[int, Event]] = []  # every event applied, for a replay

    def apply(self, events: Sequence[Event]) -> None:
        batch = []
        for event in events:
            self.position += 1
            batch.append((self.position, event))
            self.log.append((self.position, event))
            chain = record_chain.project(self.chains.get(event.originator_id), [event])
            assert chain is not None
            self.chains[event.originator_id] = chain
        self.store.apply("records", batch)

    def add(
        self,
        client_id: str,
        *records: dict[str, Any],
        list_id: UUID = LIST_A,
        custom: dict[str, str] | None = None,
    ) -> UUID:
        chain_id = record_chain.chain_id(list_id, client_id)
        self.apply(
            [
                RecordChainImported(
                    originator_id=chain_id,
                    originator_version=1,
                    timestamp=NOW - timedelta(days=1),
                    account_id=ACCOUNT,
                    list_id=list_id,
                    client_id=client_id,
                    job_id=UUID("0a000000-0000-4000-8000-0000000000d1"),
                    line=2,
                    records=[
                        _record(chain_id, n, **fields) for n, fields in enumerate(records or ({},), start=1)
                    ],
                    contact=Contact(country="US"),
                    custom=custom or {},
                )
            ]
        )
        return chain_id

    def queue_event(
        self, cls: type[RecordQueueEvent], chain_id: UUID, chain_n: int, by: UUID, **fields: Any
    ) -> None:
        chain = self.chains[chain_id]
        self.apply(
            [
                cls(
                    originator_id=chain_id,
                    originator_version=chain.version + 1,
                    timestamp=NOW,
                    account_id=ACCOUNT,
                    list_id=chain.list_id,
                    client_id=chain.client_id,
                    chain_n=chain_n,
                    record_id=record_chain.record_id(chain_id, chain_n),
                    campaign_group_id=GROUP,
                    attempt_id=by,
                    **fields,
                )
            ]
        )

    def dialable(self, lists: Sequence[UUID] = (LIST_A,), **options: Any) -> list[tuple[str, int]]:
        options.setdefault("now", NOW)
        options.setdefault("max_attempts", MAX)
        options.setdefault("limit", 1000)
        return [(c.client_id, c.chain_n) for c in self.queries.dialable(list(lists), **options)]

    def row(self, chain_id: UUID, chain_n: int) -> dict[str, Any]:
        with self.db.transaction() as cursor:
            cursor.execute(
                "SELECT record_status, dial_sched_time, call_result, call_time, attempt, "
                "campaign_group_id, attempt_id, retrieved_at FROM records WHERE chain_id = ? AND chain_n = ?",
                (str(chain_id), chain_n),
            )
            found = cursor.fetchone()
        assert found is not None
        names = ("record_status", "dial_sched_time", "call_result", "call_time", "attempt")
        return dict(zip((*names, "campaign_group_id", "attempt_id", "retrieved_at"), found, strict=True))


def _record(chain_id: UUID, chain_n: int, **fields: Any) -> Record:
    return builders.a_record(chain_id, chain_n, **{"contact_info": f"+1212555{chain_n:04d}", **fields})


@pytest.fixture
def lists(tmp_path: Path) -> Iterator[Lists]:
    db = SQLiteDatabase(f"sqlite:///{tmp_path / 'views.sqlite'}")
    yield Lists(db)
    db.close()


# The columns the queue's events set ----------------------------------------------------------


def test_retrieved_returned_and_updated_set_the_records_row(lists: Lists) -> None:
    chain = lists.add("C1", {}, {})
    attempt = uuid4()
    lists.queue_event(RecordRetrieved, chain, 1, attempt, retrieved_by="dialer-1")
    assert lists.row(chain, 1) == {
        "record_status": RecordStatus.RETRIEVED,
        "dial_sched_time": None,
        "call_result": 28,
        "call_time": None,
        "attempt": 0,
        "campaign_group_id": str(GROUP),
        "attempt_id": str(attempt),
        "retrieved_at": NOW.isoformat(),
    }
    assert [
        (r.record_id, r.attempt_id, r.retrieved_at, r.chain_n) for r in lists.queries.retrieved(GROUP)
    ] == [(record_chain.record_id(chain, 1), attempt, NOW, 1)]

    lists.queue_event(RecordReturned, chain, 1, attempt, reason="denied", dial_sched_time=EPOCH + 60)
    row = lists.row(chain, 1)
    assert (row["record_status"], row["dial_sched_time"], row["attempt_id"]) == (
        RecordStatus.READY,
        EPOCH + 60,
        None,
    )
    assert lists.queries.retrieved(GROUP) == []
    # A return without a time keeps the record's schedule.
    again = uuid4()
    lists.queue_event(RecordRetrieved, chain, 1, again)
    lists.queue_event(RecordReturned, chain, 1, again, reason="paused")
    assert lists.row(chain, 1)["dial_sched_time"] == EPOCH + 60

    last = uuid4()
    lists.queue_event(RecordRetrieved, chain, 1, last)
    lists.queue_event(
        RecordUpdated, chain, 1, last, call_result=6, call_time=EPOCH, attempt=1, record_status=3
    )
    assert lists.row(chain, 1) == {
        "record_status": RecordStatus.UPDATED,
        "dial_sched_time": EPOCH + 60,
        "call_result": 6,
        "call_time": EPOCH,
        "attempt": 1,
        "campaign_group_id": None,
        "attempt_id": None,
        "retrieved_at": None,
    }
    assert lists.row(chain, 2)["record_status"] == RecordStatus.READY  # the other record is untouched


def test_a_replaced_chain_loses_its_drawn_columns_as_the_aggregate_loses_its_retrievals(lists: Lists) -> None:
    chain = lists.add("C1")
    lists.queue_event(RecordRetrieved, chain, 1, uuid4())
    lists.apply(
        [
            RecordChainReplaced(
                originator_id=chain,
                originator_version=lists.chains[chain].version + 1,
                timestamp=NOW,
                account_id=ACCOUNT,
                list_id=LIST_A,
                client_id="C1",
                job_id=uuid4(),
                line=3,
                records=[_record(chain, 1)],
            )
        ]
    )
    assert lists.chains[chain].retrievals == {}
    row = lists.row(chain, 1)
    assert (row["record_status"], row["campaign_group_id"], row["attempt_id"]) == (
        RecordStatus.READY,
        None,
        None,
    )
    assert lists.queries.retrieved(GROUP) == []


def test_a_records_table_made_before_the_queue_gets_its_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = SQLiteDatabase(url)
    with old.transaction() as cursor:
        Records().create_tables(cursor)
        _as_before_the_queue(cursor)
    old.close()
    lists = Lists(SQLiteDatabase(url))  # creating the tables again adds them
    chain = lists.add("C1")
    attempt = uuid4()
    lists.queue_event(RecordRetrieved, chain, 1, attempt)
    assert lists.row(chain, 1)["attempt_id"] == str(attempt)


def _as_before_the_queue(cursor: Any) -> None:
    """The records table as issue 14 left it: no drawn-record columns, no queue indexes."""
    cursor.execute("DROP INDEX records_ready_due")
    cursor.execute("DROP INDEX records_drawn")
    for column in ("campaign_group_id", "attempt_id", "retrieved_at"):
        cursor.execute(f"ALTER TABLE records DROP COLUMN {column}")


# Replay equals live --------------------------------------------------------------------------


def test_replay_equals_live_through_draws_returns_finishes_and_stale(tmp_path: Path) -> None:
    store = EventStore(store_env(f"sqlite:///{tmp_path / 'events.sqlite'}"))
    try:
        handlers = Handlers(store, clock=lambda: NOW)
        live = ProjectionStore(connect(f"sqlite:///{tmp_path / 'live.sqlite'}"), [Records()])

        def follow() -> None:  # the bus: what was stored since, in small batches
            after = live.position("records")
            while batch := store.read(after=after, limit=3):
                after = live.apply("records", batch)

        account = handlers.accounts.open_account("Acme").id
        list_id = handlers.lists.create(account, contact_list.CreateContactList(name="November")).id
        dialing = handlers.profiles.create(
            dialing_profile.KIND,
            account,
            dialing_profile.CreateDialingProfile(name="Progressive", settings=DialingSettings()),
        ).id
        session = handlers.profiles.create(
            session_profile.KIND,
            account,
            session_profile.CreateSessionProfile(name="Voice", settings=SessionSettings(agent_group="Sales")),
        ).id
        template = handlers.campaigns.create_template(
            account,
            campaign_template.CreateCampaignTemplate(
                name="Renewals", dialing_profile_id=dialing, session_profile_id=session
            ),
        ).id
        group = handlers.campaigns.create_group(
            account,
            campaign_group.CreateCampaignGroup(name="Nov", template_id=template, contact_list_ids=[list_id]),
        ).id
        handlers.campaigns.transition_group(account, group, "start")
        store.append(
            [
                RecordChainImported(
                    originator_id=record_chain.chain_id(list_id, f"C{n}"),
                    originator_version=1,
                    timestamp=NOW,
                    account_id=account,
                    list_id=list_id,
                    client_id=f"C{n}",
                    job_id=uuid4(),
                    line=n + 2,
                    records=[_record(record_chain.chain_id(list_id, f"C{n}"), k) for k in (1, 2)],
                )
                for n in range(12)
            ]
        )
        follow()
        queries = RecordQueries(live.db)
        candidates = queries.dialable([list_id], now=NOW, max_attempts=MAX)
        assert len(candidates) == 12
        drawn = handlers.queue.draw(account, group, candidates, max_attempts=MAX, retrieved_by="d1")
        follow()
        assert {r.attempt_id for r in queries.retrieved(group)} == {d.attempt_id for d in drawn}
        assert queries.dialable([list_id], now=NOW, max_attempts=MAX) == []
        handlers.queue.return_records(
            account, group, [(d.record.record_id, d.attempt_id) for d in drawn[:4]], reason="paused"
        )
        for d in drawn[4:8]:
            handlers.queue.finish(account, d.record.record_id, d.attempt_id, call_result=33, call_time=EPOCH)
        handlers.attempts.make_attempt(
            drawn[8].chain, 1, attempt_id=drawn[8].attempt_id, channel="voice", campaign_group_id=group
        )
        for d in drawn[8:10]:
            handlers.queue.settle_stale(account, d.record.record_id, d.attempt_id)
        follow()

        counts = queries.queue_counts([list_id], now=NOW, max_attempts=MAX)
        assert counts == {
            "total": 24,
            # 2 still drawn, 4 finished, 1 stale, and the 4 finished chains' second records
            # closed with them (7, chain updated: the profile has no treatments)
            "ready": 24 - 2 - 4 - 1 - 4,
            "dialable_now": 4 + 1,  # returned, and returned as stale (not placed)
            "retrieved": 2,
            "updated": 4,
            "stale": 1,
            "no_call": 0,
        }
        replica = connect(f"sqlite:///{tmp_path / 'replica.sqlite'}")
        ProjectionStore(replica, [Records()]).apply("records", store.read(after=0, limit=100_000))
        assert dump_rows(replica) == dump_rows(live.db)
        # And the rows equal the aggregates, record by record.
        with live.db.transaction() as cursor:
            cursor.execute("SELECT chain_id, chain_n, record_status, attempt, attempt_id FROM records")
            rows = {(UUID(c), n): (s, a, t) for c, n, s, a, t in cursor.fetchall()}
        for chain_id, n in rows:
            chain = store.load(chain_id, record_chain.project)
            assert chain is not None
            record = next(r for r in chain.records if r.chain_n == n)
            retrieval = chain.retrievals.get(n)
            assert rows[(chain_id, n)] == (
                record.record_status,
                record.attempt,
                None if retrieval is None else str(retrieval.attempt_id),
            )
    finally:
        store.close()


# The dialable query --------------------------------------------------------------------------


def test_one_candidate_per_chain_its_next_record_in_list_client_and_chain_order(lists: Lists) -> None:
    lists.add("C3", {}, {})
    lists.add("C1", {"record_type": RecordType.NO_CALL}, {}, {})  # skipped to record 2
    lists.add("C2", {"attempt": MAX}, {"record_type": RecordType.PERSONAL_CALLBACK}, {"attempt": MAX - 1})
    lists.add("B1", list_id=LIST_B)
    lists.add("C4", {"record_status": RecordStatus.CANCELLED}, {"record_type": RecordType.CAMPAIGN_CALLBACK})
    assert lists.dialable() == [("C1", 2), ("C2", 3), ("C3", 1), ("C4", 2)]
    assert lists.dialable([LIST_B, LIST_A]) == [("B1", 1), ("C1", 2), ("C2", 3), ("C3", 1), ("C4", 2)]
    assert lists.dialable([LIST_A, LIST_B], limit=2) == [("C1", 2), ("C2", 3)]
    assert lists.dialable([LIST_A, LIST_B], limit=5)[-1] == ("B1", 1)


def test_a_chain_holding_a_record_or_waiting_for_its_next_one_offers_nothing(lists: Lists) -> None:
    held = lists.add("C1", {}, {})
    lists.queue_event(RecordRetrieved, held, 1, uuid4())
    finished = lists.add("C2", {}, {})
    attempt = uuid4()
    lists.queue_event(RecordRetrieved, finished, 1, attempt)
    lists.queue_event(
        RecordUpdated, finished, 1, attempt, call_result=6, call_time=EPOCH, attempt=1, record_status=3
    )
    lists.queue_event(  # no treatment for the result: the chain is finished, record 2 closed with it
        RecordTreated,
        finished,
        1,
        attempt,
        call_result=6,
        action=None,
        record=RecordChange(chain_n=1, record_type=2, record_status=3, dial_sched_time=None, attempt=1, call_result=6),
        others=[RecordChange(chain_n=2, record_type=2, record_status=7, dial_sched_time=None, attempt=0, call_result=28)],
        next_chain_n=None,
        reason="no treatment for busy (6): record updated; chain finished",
    )
    moved_on = lists.add("C6", {}, {})  # record 1 done, its treatment moved the chain on: record 2 next
    moved = uuid4()
    lists.queue_event(RecordRetrieved, moved_on, 1, moved)
    lists.queue_event(
        RecordUpdated, moved_on, 1, moved, call_result=6, call_time=EPOCH, attempt=1, record_status=3
    )
    lists.queue_event(
        RecordTreated,
        moved_on,
        1,
        moved,
        call_result=6,
        action="next_in_chain",
        record=RecordChange(chain_n=1, record_type=2, record_status=3, dial_sched_time=None, attempt=1, call_result=6),
        next_chain_n=2,
        reason="busy (6): sequence 1 (next_in_chain): record 2 next",
    )
    lists.add("C3", {"dial_sched_time": EPOCH + 1}, {})  # not due: record 2 waits too
    lists.add("C4", {"dial_sched_time": EPOCH}, {})  # due this second
    lists.add("C5", {"record_status": RecordStatus.STALE}, {})
    assert lists.dialable() == [("C4", 1), ("C6", 2)]
    assert lists.dialable(sort=[SortField(field="attempt")]) == [("C4", 1), ("C6", 2)]
    assert lists.dialable(now=NOW + timedelta(seconds=1)) == [("C3", 1), ("C4", 1), ("C6", 2)]


def test_daily_windows_are_checked_in_each_zone_of_the_record(lists: Lists) -> None:
    window = {"daily_from": 9 * HOUR, "daily_till": 17 * HOUR}
    lists.add("NY", {**window})  # 10:00: inside
    lists.add("LA", {**window, "time_zone": "America/Los_Angeles"})  # 07:00: outside
    lists.add("NY+LA", {**window, "second_time_zone": "America/Los_Angeles"})
    lists.add("TOKYO", {"time_zone": "Asia/Tokyo", "daily_from": 22 * HOUR, "daily_till": 2 * HOUR})
    lists.add("LA-ONLY-1", {**window, "time_zone": "America/Los_Angeles"}, {})  # the chain waits: no record 2
    assert lists.dialable() == [("NY", 1), ("TOKYO", 1)]
    assert lists.dialable(now=NOW + timedelta(hours=2)) == [
        ("LA", 1),
        ("LA-ONLY-1", 1),
        ("NY", 1),
        ("NY+LA", 1),
        ("TOKYO", 1),  # 01:00 there: still inside 22:00-02:00
    ]


def test_a_selection_rule_filters_in_sql_or_here_on_the_chains_next_record(lists: Lists) -> None:
    lists.add("C1", {"contact_info": "+13125550001"}, custom={"balance": "250"})
    lists.add("C2", {"contact_info": "+12125550002"}, custom={"balance": "90.5"})
    # The next record of C3 does not match; its record 2 does but is not next: nothing.
    lists.add(
        "C3", {"contact_info": "+12125550003"}, {"contact_info": "+13125550003"}, custom={"balance": "1000"}
    )
    in_sql = selection.parse("contact_info starts with '+1312'")
    assert in_sql.to_sql(lambda f: f) is not None
    assert lists.dialable(rule=in_sql) == [("C1", 1)]
    here = selection.parse("custom.balance > 100")
    assert here.to_sql(lambda f: f) is None
    assert lists.dialable(rule=here) == [("C1", 1), ("C3", 1)]
    both = selection.parse("custom.balance > 100 and contact_info starts with '+1212'")
    assert lists.dialable(rule=both) == [("C3", 1)]
    assert lists.dialable(rule=selection.parse("")) == [("C1", 1), ("C2", 1), ("C3", 1)]


def test_sort_fields_come_first_then_list_order_client_id_and_chain_position(lists: Lists) -> None:
    lists.add("A", {"attempt": 1}, custom={"balance": "20"})
    lists.add("B", {"attempt": 2}, custom={"balance": "100"})
    lists.add("C", {"attempt": 1}, custom={"balance": "9"})
    lists.add("D", {"attempt": 0}, custom={})  # no balance: last, whichever the direction
    lists.add("E", {"attempt": 2}, custom={"balance": "n/a"}, list_id=LIST_B)  # text after numbers
    both = [LIST_B, LIST_A]
    assert lists.dialable(both, sort=[SortField(field="attempt", descending=True)]) == [
        ("E", 1),
        ("B", 1),
        ("A", 1),
        ("C", 1),
        ("D", 1),
    ]
    assert lists.dialable(both, sort=[SortField(field="custom.balance")]) == [
        ("C", 1),
        ("A", 1),
        ("B", 1),
        ("E", 1),
        ("D", 1),
    ]
    # A name that is not a record field is a custom field (as profiles store them).
    assert lists.dialable(both, sort=[SortField(field="balance", descending=True)]) == [
        ("B", 1),
        ("A", 1),
        ("C", 1),
        ("E", 1),
        ("D", 1),
    ]
    assert lists.dialable(
        both, sort=[SortField(field="attempt"), SortField(field="balance", descending=True)]
    ) == [
        ("D", 1),
        ("A", 1),
        ("C", 1),
        ("B", 1),
        ("E", 1),
    ]
    assert lists.dialable(both, sort=[SortField(field="attempt")], limit=2) == [("D", 1), ("A", 1)]


def test_chains_the_caller_holds_are_left_out_and_the_page_still_fills(lists: Lists) -> None:
    chains = [lists.add(f"C{n:03d}") for n in range(30)]
    held = set(chains[:25])
    assert lists.dialable(limit=3, exclude_chains=held) == [("C025", 1), ("C026", 1), ("C027", 1)]
    assert lists.dialable(limit=3, exclude_chains=held, sort=[SortField(field="attempt")]) == [
        ("C025", 1),
        ("C026", 1),
        ("C027", 1),
    ]
    assert len(lists.dialable(exclude_chains=held, sort=[SortField(field="custom.x")])) == 5


def test_pages_continue_past_records_outside_their_windows(lists: Lists) -> None:
    closed = {"time_zone": "America/Los_Angeles", "daily_from": 9 * HOUR, "daily_till": 17 * HOUR}
    for n in range(450):  # first in client order, all outside their window now
        lists.add(f"A{n:04d}", closed)
    for n in range(5):
        lists.add(f"B{n}")
    assert lists.dialable(limit=4) == [(f"B{n}", 1) for n in range(4)]
    assert lists.dialable(limit=4, sort=[SortField(field="attempt")]) == [(f"B{n}", 1) for n in range(4)]


def test_queue_counts_by_status_type_and_what_is_dialable_now(lists: Lists) -> None:
    lists.add("C1", {}, {})
    lists.add("C2", {"record_type": RecordType.NO_CALL})
    lists.add("C3", {"time_zone": "America/Los_Angeles", "daily_from": 9 * HOUR})
    held = lists.add("C4")
    lists.queue_event(RecordRetrieved, held, 1, uuid4())
    lists.add("B1", {"attempt": 5}, list_id=LIST_B)
    assert lists.queries.queue_counts([LIST_A], now=NOW, max_attempts=MAX) == {
        "total": 5,
        "ready": 4,
        "dialable_now": 1,
        "retrieved": 1,
        "updated": 0,
        "stale": 0,
        "no_call": 1,
    }
    both = lists.queries.queue_counts([LIST_A, LIST_B], now=NOW)  # no cap on attempts
    assert (both["total"], both["dialable_now"]) == (6, 2)
    assert lists.queries.queue_counts([]) == dict.fromkeys(both, 0)


@pytest.mark.parametrize("seed", range(4))
def test_the_query_agrees_with_next_record_on_every_chain(lists: Lists, seed: int) -> None:
    rng = random.Random(seed)
    zones = ["America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Europe/London"]
    for n in range(150):
        records = []
        for _ in range(rng.randint(1, 4)):
            records.append(
                {
                    "record_type": rng.choice([2, 2, 2, 3, 6, 5, 7]),
                    "record_status": rng.choice([1, 1, 1, 1, 1, 2, 3, 4, 5]),
                    "attempt": rng.randint(0, MAX + 1),
                    "dial_sched_time": rng.choice([None, None, EPOCH - 60, EPOCH, EPOCH + 60]),
                    "time_zone": rng.choice(zones),
                    "second_time_zone": rng.choice([None, None, rng.choice(zones)]),
                    "daily_from": rng.choice([None, 8 * HOUR, 22 * HOUR]),
                    "daily_till": rng.choice([None, 12 * HOUR, 2 * HOUR]),
                }
            )
        lists.add(f"C{n:04d}", *records)
    expected = []
    for chain in lists.chains.values():
        record = dialing_queue.next_record(chain, now=NOW, max_attempts=MAX)
        if record is not None:
            expected.append((chain.client_id, record.chain_n))
    assert lists.dialable() == sorted(expected)
    # The sorted query reads the list's held chains once instead of chain by chain: same set.
    assert sorted(lists.dialable(sort=[SortField(field="attempt")])) == sorted(expected)
    assert sorted(lists.dialable(sort=[SortField(field="custom.x")])) == sorted(expected)
    assert 10 < len(expected) < 140  # the mix gives both answers
    assert lists.queries.queue_counts([LIST_A], now=NOW, max_attempts=MAX)["dialable_now"] == len(expected)


def test_on_postgresql_the_query_and_the_columns_behave_the_same(fresh_postgres_database: str) -> None:
    db = connect(fresh_postgres_database)
    try:
        with db.transaction() as cursor:  # a table made before the queue's columns
            Records().create_tables(cursor)
            _as_before_the_queue(cursor)
        lists = Lists(db)
        lists.add("C2", {"attempt": 2}, custom={"balance": "5"})
        lists.add("C1", {"attempt": 1}, custom={"balance": "50"})
        lists.add("B1", {"time_zone": "America/Los_Angeles", "daily_from": 9 * HOUR}, list_id=LIST_B)
        held = lists.add("C3")
        attempt = uuid4()
        lists.queue_event(RecordRetrieved, held, 1, attempt)
        assert lists.dialable([LIST_A, LIST_B]) == [("C1", 1), ("C2", 1)]
        assert lists.dialable([LIST_A], sort=[SortField(field="attempt", descending=True)]) == [
            ("C2", 1),
            ("C1", 1),
        ]
        assert lists.dialable([LIST_A], sort=[SortField(field="balance")]) == [("C2", 1), ("C1", 1)]
        assert lists.dialable([LIST_A], rule=selection.parse("attempt >= 2")) == [("C2", 1)]
        assert [r.attempt_id for r in lists.queries.retrieved(GROUP)] == [attempt]
        lists.queue_event(RecordReturned, held, 1, attempt, reason="stopped", dial_sched_time=EPOCH)
        assert lists.dialable() == [("C1", 1), ("C2", 1), ("C3", 1)]
        assert lists.queries.queue_counts([LIST_A, LIST_B], now=NOW)["dialable_now"] == 3
    finally:
        db.close()


# Personal callbacks --------------------------------------------------------------------------

AMY = UUID("0a000000-0000-4000-8000-0000000000e1")
BOB = UUID("0a000000-0000-4000-8000-0000000000e2")
GRACE_S = 900


def _personal(agent: UUID | None, due: int | None, **fields: Any) -> dict[str, Any]:
    return {"record_type": RecordType.PERSONAL_CALLBACK, "callback_agent_id": agent, "dial_sched_time": due, **fields}


def _callback_agent(lists: Lists, chain_id: UUID, chain_n: int) -> str | None:
    with lists.db.transaction() as cursor:
        cursor.execute("SELECT callback_agent_id FROM records WHERE chain_id = ? AND chain_n = ?", (str(chain_id), chain_n))
        row = cursor.fetchone()
    assert row is not None
    return row[0]


def test_a_personal_callback_is_drawn_for_its_agent_then_for_any_once_its_grace_is_over(lists: Lists) -> None:
    lists.add("AMY-DUE", _personal(AMY, EPOCH), {})
    lists.add("AMY-LATER", _personal(AMY, EPOCH + 60), {})
    lists.add("BOB-OVER", _personal(BOB, EPOCH - GRACE_S), {})
    lists.add("C1")
    ordinary = {"callback_grace_s": GRACE_S}
    # An ordinary draw: the general record and Bob's callback, its grace over; the chains
    # waiting for Amy offer nothing, their record 2 neither.
    assert lists.dialable(**ordinary) == [("BOB-OVER", 1), ("C1", 1)]
    assert lists.dialable(**ordinary, sort=[SortField(field="attempt")]) == [("BOB-OVER", 1), ("C1", 1)]
    # Draws for Amy: her callback due now; for Bob, his; for both, the longest due first.
    assert lists.dialable(for_agents=[AMY], **ordinary) == [("AMY-DUE", 1)]
    assert lists.dialable(for_agents=[BOB, AMY], **ordinary) == [("BOB-OVER", 1), ("AMY-DUE", 1)]
    assert lists.dialable(for_agents=[], **ordinary) == []
    (candidate,) = lists.queries.dialable([LIST_A], now=NOW, max_attempts=MAX, for_agents=[AMY])
    assert candidate.callback_agent_id == AMY and candidate.record_type == RecordType.PERSONAL_CALLBACK
    later = NOW + timedelta(seconds=GRACE_S + 60)
    assert lists.dialable(now=later, **ordinary) == [("AMY-DUE", 1), ("AMY-LATER", 1), ("BOB-OVER", 1), ("C1", 1)]
    assert lists.queries.personal_callbacks_due_at([LIST_A]) == EPOCH - GRACE_S
    assert lists.queries.personal_callbacks_due_at([LIST_B]) is None
    lists.add("SPENT", _personal(AMY, EPOCH - 2 * GRACE_S, attempt=MAX))  # no attempts left: not waiting
    assert lists.queries.personal_callbacks_due_at([LIST_A], max_attempts=MAX) == EPOCH - GRACE_S


@pytest.mark.parametrize("seed", range(3))
def test_the_query_agrees_with_next_record_on_personal_callbacks_for_each_agent_and_for_any(
    lists: Lists, seed: int
) -> None:
    rng = random.Random(seed)
    offsets = [None, -GRACE_S - 60, -GRACE_S, -GRACE_S + 1, -60, 0, 60]
    for n in range(150):
        records = []
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(["general", "personal", "personal", "orphan"])
            due = rng.choice(offsets)
            fields: dict[str, Any] = {
                "record_status": rng.choice([1, 1, 1, 1, 2, 3]),
                "attempt": rng.randint(0, MAX),
                "dial_sched_time": None if due is None else EPOCH + due,
            }
            if kind != "general":
                fields.update(record_type=RecordType.PERSONAL_CALLBACK, callback_agent_id=None if kind == "orphan" else rng.choice([AMY, BOB]))
            records.append(fields)
        lists.add(f"C{n:04d}", *records)

    def expected(for_agent: UUID | None) -> list[tuple[str, int]]:
        found = []
        for chain in lists.chains.values():
            record = dialing_queue.next_record(chain, now=NOW, max_attempts=MAX, grace_s=GRACE_S, for_agent=for_agent)
            if record is not None:
                found.append((chain.client_id, record.chain_n))
        return sorted(found)

    anyone = expected(None)
    assert lists.dialable(callback_grace_s=GRACE_S) == anyone
    assert sorted(lists.dialable(callback_grace_s=GRACE_S, sort=[SortField(field="attempt")])) == anyone
    assert lists.queries.queue_counts([LIST_A], now=NOW, max_attempts=MAX)["dialable_now"] == len(expected_at_zero(lists))
    for agent in (AMY, BOB):
        own = expected(agent)
        assert sorted(lists.dialable(for_agents=[agent], callback_grace_s=GRACE_S)) == own
        assert 0 < len(own) < 40
    assert sorted(lists.dialable(for_agents=[AMY, BOB])) == sorted(expected(AMY) + expected(BOB))
    assert 10 < len(anyone) < 140


def expected_at_zero(lists: Lists) -> list[tuple[str, int]]:
    """What queue_counts counts dialable now: no grace (a personal callback counts once due)."""
    return [
        (chain.client_id, record.chain_n)
        for chain in lists.chains.values()
        if (record := dialing_queue.next_record(chain, now=NOW, max_attempts=MAX)) is not None
    ]


def test_a_treatment_sets_and_clears_the_callback_agent_and_replay_equals_live(lists: Lists, tmp_path: Path) -> None:
    chain = lists.add("C1", {}, {})
    attempt = uuid4()
    lists.queue_event(RecordRetrieved, chain, 1, attempt)
    lists.queue_event(RecordUpdated, chain, 1, attempt, call_result=33, call_time=EPOCH, attempt=1, record_status=3)
    lists.queue_event(
        RecordTreated,
        chain,
        1,
        attempt,
        call_result=33,
        action="personal_callback",
        record=RecordChange(
            chain_n=1, record_type=5, record_status=1, dial_sched_time=EPOCH + 3600, attempt=1, call_result=33,
            callback_agent_id=AMY,
        ),
        next_chain_n=1,
        reason="personal callback",
    )
    assert _callback_agent(lists, chain, 1) == str(AMY)
    assert lists.chains[chain].records[0].callback_agent_id == AMY
    assert lists.dialable(now=NOW + timedelta(hours=1), for_agents=[AMY]) == [("C1", 1)]
    assert lists.dialable(now=NOW + timedelta(hours=1), callback_grace_s=GRACE_S) == []
    # Imported with its agent (a chain built so): the column holds it too.
    imported = lists.add("C2", _personal(BOB, EPOCH))
    assert _callback_agent(lists, imported, 1) == str(BOB)
    # A retry of it keeps its agent; a campaign callback made of it has none.
    again = uuid4()
    lists.queue_event(RecordRetrieved, chain, 1, again)
    lists.queue_event(RecordUpdated, chain, 1, again, call_result=7, call_time=EPOCH, attempt=2, record_status=3)
    kept = RecordChange(chain_n=1, record_type=5, record_status=1, dial_sched_time=EPOCH, attempt=2, call_result=7, callback_agent_id=AMY)
    lists.queue_event(RecordTreated, chain, 1, again, call_result=7, action="retry_in", record=kept, next_chain_n=1, reason="retry")
    assert _callback_agent(lists, chain, 1) == str(AMY)
    last = uuid4()
    lists.queue_event(RecordRetrieved, chain, 1, last, personal_callback="own_agent")
    lists.queue_event(RecordUpdated, chain, 1, last, call_result=33, call_time=EPOCH, attempt=3, record_status=3)
    made = RecordChange(chain_n=1, record_type=6, record_status=1, dial_sched_time=EPOCH, attempt=3, call_result=33)
    lists.queue_event(RecordTreated, chain, 1, last, call_result=33, action="campaign_callback", record=made, next_chain_n=1, reason="cb")
    assert _callback_agent(lists, chain, 1) is None
    assert lists.chains[chain].records[0].callback_agent_id is None
    # Replay (through the wire contract) equals live.
    replica = SQLiteDatabase(f"sqlite:///{tmp_path / 'replica.sqlite'}")
    try:
        # as the bus hands it over: each event's stored JSON (an import's read straight from it)
        wire = [LogEntry(n, stored_topic(e), registry.encode(e)) for n, e in lists.log]
        ProjectionStore(replica, [Records()]).apply_log("records", wire)
        assert dump_rows(replica) == dump_rows(lists.db)
        assert any(str(BOB) in row for row in dump_rows(replica)["records"])
    finally:
        replica.close()


def test_a_records_table_made_before_personal_callbacks_gets_its_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = SQLiteDatabase(url)
    with old.transaction() as cursor:
        Records().create_tables(cursor)
        cursor.execute("DROP INDEX records_personal")
        cursor.execute("ALTER TABLE records DROP COLUMN callback_agent_id")
    old.close()
    lists = Lists(SQLiteDatabase(url))
    chain = lists.add("C1", _personal(AMY, EPOCH))
    assert _callback_agent(lists, chain, 1) == str(AMY)
    assert lists.dialable(for_agents=[AMY]) == [("C1", 1)]


# Records given to an agent group (assign_to_group) ----------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_a_record_given_to_an_agent_group_is_drawn_only_by_its_groups_as_next_record_says(
    lists: Lists, seed: int
) -> None:
    rng = random.Random(seed)
    for n in range(150):
        records = []
        for _ in range(rng.randint(1, 3)):
            records.append(
                {
                    "record_type": rng.choice([2, 3, 6]),
                    "record_status": rng.choice([1, 1, 1, 2, 3]),
                    "attempt": rng.randint(0, MAX),
                    "callback_agent_group": rng.choice(["", "", "Retention", "Sales"]),
                }
            )
        lists.add(f"C{n:04d}", *records)

    def expected(agent_group: str) -> list[tuple[str, int]]:
        found = []
        for chain in lists.chains.values():
            record = dialing_queue.next_record(chain, now=NOW, max_attempts=MAX, agent_group=agent_group)
            if record is not None:
                found.append((chain.client_id, record.chain_n))
        return sorted(found)

    seen = {}
    for agent_group in ("", "Retention", "Sales", "Billing"):
        seen[agent_group] = expected(agent_group)
        assert lists.dialable(agent_group=agent_group) == seen[agent_group]
        assert sorted(lists.dialable(agent_group=agent_group, sort=[SortField(field="attempt")])) == seen[agent_group]
    assert seen["Billing"] == seen[""], "a group nobody assigned to draws what is anyone's"
    assert len(seen["Retention"]) > len(seen[""]) and set(seen[""]) <= set(seen["Retention"])
    assert set(seen["Retention"]) != set(seen["Sales"])


def test_an_assignment_is_set_by_its_treatment_in_the_row_and_the_chain_and_replay_equals_live(
    lists: Lists, tmp_path: Path
) -> None:
    chain = lists.add("C1", {}, {})
    attempt = uuid4()
    lists.queue_event(RecordRetrieved, chain, 1, attempt)
    lists.queue_event(RecordUpdated, chain, 1, attempt, call_result=47, call_time=EPOCH, attempt=1, record_status=3)
    given = RecordChange(
        chain_n=1, record_type=6, record_status=1, dial_sched_time=EPOCH, attempt=1, call_result=47,
        callback_agent_group="Retention",
    )
    lists.queue_event(
        RecordTreated, chain, 1, attempt, call_result=47, action="assign_to_group", record=given, next_chain_n=1,
        agent_group="Retention", reason="assigned",
    )
    assert lists.chains[chain].records[0].callback_agent_group == "Retention"
    assert lists.dialable(agent_group="Sales") == [] and lists.dialable(agent_group="Retention") == [("C1", 1)]
    replica = SQLiteDatabase(f"sqlite:///{tmp_path / 'replica.sqlite'}")
    try:
        wire = [LogEntry(n, stored_topic(e), registry.encode(e)) for n, e in lists.log]
        ProjectionStore(replica, [Records()]).apply_log("records", wire)
        assert dump_rows(replica) == dump_rows(lists.db)
    finally:
        replica.close()
