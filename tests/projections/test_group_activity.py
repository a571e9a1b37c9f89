"""The group_activity read model: counters, calls in flight, abandon windows, dial rate and the
last pacing of a group, from attempts recorded through the handlers; a replay of the log (and an
interleaving of the record streams, as Kafka partitions give) leaves the rows the live one has."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from dialstream.handlers import Handlers
from dialstream.store import EventStore
from domain import record_chain
from domain.codes import CallResult
from domain.record_chain import RecordChain
from projections.base import ProjectionStore
from projections.group_activity import (
    ActivityCounts,
    GroupActivity,
    GroupActivityQueries,
    InFlight,
    dump_rows,
)
from projections.sql import SQLiteDatabase, connect
from schemas.campaigns import CampaignGroupPaced
from schemas.records import RecordReturned
from tests.domain import builders
from tests.projections.interleave import apply_streams_last_first

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
ACCOUNT = UUID("0b000000-0000-4000-8000-000000000001")
GROUP = UUID("0b000000-0000-4000-8000-0000000000b1")
OTHER_GROUP = UUID("0b000000-0000-4000-8000-0000000000b2")
L1 = UUID("0b000000-0000-4000-8000-0000000000a1")
L2 = UUID("0b000000-0000-4000-8000-0000000000a2")
AGENT = UUID("0b000000-0000-4000-8000-0000000000d1")
NAME = "group_activity"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def a_chain(list_id: UUID, size: int) -> RecordChain:
    chain_id = record_chain.chain_id(list_id, "C1")
    return RecordChain(
        id=chain_id,
        version=1,
        account_id=ACCOUNT,
        created_on=T0,
        modified_on=T0,
        list_id=list_id,
        client_id="C1",
        records=[
            builders.a_record(chain_id, n, contact_info=f"+1212555{n:04d}")
            for n in range(1, size + 1)
        ],
    )


class Calls:
    """Attempts of GROUP reported through the handlers at chosen instants; the live read model
    applies what is stored after every report."""

    def __init__(self, store: EventStore, live: ProjectionStore):
        self.clock = Clock()
        self.handlers = Handlers(store, clock=self.clock)
        self.attempts = self.handlers.attempts
        self.store, self.live = store, live
        self.chains = {L1: a_chain(L1, 8), L2: a_chain(L2, 6)}
        self.where: dict[UUID, UUID] = {}  # attempt -> record
        self.n = 0

    def at(self, seconds: float) -> Calls:
        self.clock.now = T0 + timedelta(seconds=seconds)
        return self

    def settle(self) -> None:
        self.live.apply(NAME, self.store.read(self.live.position(NAME), 10_000))

    def place(self, seconds: float, list_id: UUID, chain_n: int, group: UUID | None = GROUP) -> UUID:
        self.n += 1
        attempt_id = UUID(int=self.n)
        self.at(seconds)
        self.attempts.make_attempt(
            self.chains[list_id],
            chain_n,
            attempt_id=attempt_id,
            channel="voice",
            campaign_group_id=group,
            caller_id="+13125550100",
            mode="predictive",
        )
        self.where[attempt_id] = record_chain.record_id(self.chains[list_id].id, chain_n)
        self.settle()
        return attempt_id

    def answer(self, seconds: float, attempt: UUID, by: str = "person", ring_ms: int = 10_000) -> None:
        self.at(seconds).attempts.answered(
            ACCOUNT, self.where[attempt], attempt, answered_by=by, ring_ms=ring_ms
        )
        self.settle()

    def connect(self, seconds: float, attempt: UUID) -> None:
        self.at(seconds).attempts.connected(
            ACCOUNT, self.where[attempt], attempt, agent_id=AGENT, wait_ms=400
        )
        self.settle()

    def abandon(self, seconds: float, attempt: UUID) -> None:
        self.at(seconds).attempts.abandoned(
            ACCOUNT, self.where[attempt], attempt, wait_ms=2_000, message_played=True
        )
        self.settle()

    def finish(
        self, seconds: float, attempt: UUID, result: CallResult, ring_ms: int = 0, talk_ms: int = 0
    ) -> None:
        self.at(seconds).attempts.finished(
            ACCOUNT, self.where[attempt], attempt, call_result=result, ring_ms=ring_ms, talk_ms=talk_ms
        )
        self.settle()

    def pace(self, seconds: float, version: int, mode: str, ratio: float) -> None:
        self.store.append(
            [
                CampaignGroupPaced(
                    originator_id=GROUP,
                    originator_version=version,
                    timestamp=T0 + timedelta(seconds=seconds),
                    account_id=ACCOUNT,
                    mode=mode,
                    ratio=ratio,
                    reason=f"{mode} at {ratio}",
                )
            ]
        )
        self.settle()

    def deny(self, seconds: float, list_id: UUID, detail: str) -> None:
        """A draw of GROUP the pre-dial gate denied, returned with ``detail``."""
        self.n += 1
        chain = UUID(int=10_000 + self.n)
        self.store.append(
            [
                RecordReturned(
                    originator_id=chain,
                    originator_version=1,
                    timestamp=T0 + timedelta(seconds=seconds),
                    account_id=ACCOUNT,
                    list_id=list_id,
                    client_id=f"D{self.n}",
                    chain_n=1,
                    record_id=record_chain.record_id(chain, 1),
                    campaign_group_id=GROUP,
                    attempt_id=UUID(int=20_000 + self.n),
                    reason="denied",
                    detail=detail,
                )
            ]
        )
        self.settle()


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteDatabase]:
    db = connect(f"sqlite:///{tmp_path / 'views.sqlite'}")
    assert isinstance(db, SQLiteDatabase)
    yield db
    db.close()


@pytest.fixture
def calls(store: EventStore, views: SQLiteDatabase) -> Calls:
    return Calls(store, ProjectionStore(views, [GroupActivity()]))


def a_minute_of_calls(calls: Calls) -> dict[str, UUID]:
    """Ten attempts of GROUP in the minute from T0 (and one outside any group)."""
    ids = {}
    ids["talked"] = calls.place(0, L1, 1)
    ids["busy"] = calls.place(1, L1, 2)
    ids["abandoned"] = calls.place(2, L2, 1)
    ids["machine"] = calls.place(3, L2, 2)
    ids["no_answer"] = calls.place(4, L1, 3)
    ids["invalid"] = calls.place(5, L1, 4)
    ids["fax"] = calls.place(6, L2, 3)
    ids["ringing"] = calls.place(7, L1, 5)
    ids["waiting"] = calls.place(8, L1, 6)
    ids["connected"] = calls.place(9, L2, 4)
    calls.place(9, L2, 5, group=None)  # reported through the API without a group: not the group's

    calls.finish(4, ids["busy"], CallResult.BUSY, ring_ms=3_000)
    calls.finish(7, ids["invalid"], CallResult.SIT_INVALID_NUMBER, ring_ms=2_000)
    calls.answer(8, ids["machine"], by="machine", ring_ms=5_000)
    calls.answer(10, ids["talked"], ring_ms=10_000)
    calls.answer(10, ids["talked"], ring_ms=10_000)  # reported twice: counted once
    calls.connect(10.4, ids["talked"])
    calls.answer(12, ids["abandoned"], ring_ms=10_000)
    calls.answer(12, ids["fax"], by="fax", ring_ms=6_000)
    calls.abandon(14, ids["abandoned"])
    calls.finish(15, ids["machine"], CallResult.ANSWERING_MACHINE, ring_ms=5_000)
    calls.finish(20, ids["abandoned"], CallResult.ABANDONED, ring_ms=10_000)
    calls.answer(20, ids["waiting"], ring_ms=12_000)
    calls.answer(21, ids["connected"], ring_ms=8_000)
    calls.connect(21.5, ids["connected"])
    calls.finish(29, ids["no_answer"], CallResult.NO_ANSWER, ring_ms=25_000)
    calls.finish(30, ids["no_answer"], CallResult.NO_ANSWER, ring_ms=25_000)  # twice: once
    # The line dropped mid-talk: a network error, but no failed attempt (it was answered).
    calls.finish(40, ids["talked"], CallResult.CALL_DROP_ERROR, ring_ms=10_000, talk_ms=30_000)
    return ids


def test_counters_of_a_group_and_of_its_lists(calls: Calls) -> None:
    a_minute_of_calls(calls)
    activity = GroupActivityQueries(calls.live.db)

    totals = activity.counts(GROUP, T0 - timedelta(hours=1))
    assert totals == ActivityCounts(
        attempts=10,
        live=4,
        machine=1,
        fax=1,
        busy=1,
        no_answer=1,
        sit=1,
        network=0,
        connects=2,
        abandons=1,
        finished=6,
        ring_live_ms=40_000,
        failed_ms=30_000,
        talks=1,
        talk_ms=30_000,
    )
    assert totals.failed == 3 and totals.mean_ring_to_live_s == 10.0 and totals.mean_talk_s == 30.0
    by_list = activity.counts_by_list(GROUP, T0 - timedelta(hours=1))
    assert (by_list[L1].attempts, by_list[L1].live, by_list[L1].busy, by_list[L1].connects) == (6, 2, 1, 1)
    assert (by_list[L2].attempts, by_list[L2].abandons, by_list[L2].machine, by_list[L2].fax) == (4, 1, 1, 1)
    assert activity.counts(GROUP, T0 + timedelta(minutes=1)) == ActivityCounts()
    assert activity.counts(OTHER_GROUP, T0 - timedelta(hours=1)) == ActivityCounts()


def test_calls_in_flight_by_stage(calls: Calls) -> None:
    ids = a_minute_of_calls(calls)
    activity = GroupActivityQueries(calls.live.db)

    assert activity.in_flight(GROUP) == InFlight(ringing=1, waiting=1, connected=1, machine=1)
    assert activity.in_flight(GROUP).lines == 4
    flying = {call.attempt_id: call for call in activity.calls_in_flight(GROUP)}
    assert {
        ids[k]: s
        for k, s in [
            ("ringing", "placed"),
            ("waiting", "answered"),
            ("connected", "connected"),
            ("fax", "machine"),
        ]
    } == {a: c.stage for a, c in flying.items()}
    waiting = flying[ids["waiting"]]
    assert waiting.since == T0 + timedelta(seconds=20) and waiting.list_id == L1
    assert waiting.record_id == calls.where[ids["waiting"]]

    calls.abandon(23, ids["waiting"])
    assert activity.in_flight(GROUP) == InFlight(ringing=1, connected=1, machine=1, abandoned=1)
    calls.finish(25, ids["waiting"], CallResult.ABANDONED, ring_ms=12_000)
    assert activity.in_flight(GROUP).lines == 3


def test_abandon_windows_roll_over(calls: Calls) -> None:
    ids = a_minute_of_calls(calls)
    activity = GroupActivityQueries(calls.live.db)

    windows = activity.abandon_windows(GROUP, T0 + timedelta(minutes=1))
    assert (windows.day.abandoned, windows.day.live_answered) == (1, 4)
    assert windows.month == windows.day and windows.day.rate == 25.0
    # The next day: a busier hour, two abandons of 20 live answers.
    base = 24 * 3600 - 600
    for n in range(20):
        attempt = calls.place(base + n, L1 if n % 2 else L2, 7 if n % 2 else 6)
        calls.answer(base + n + 5, attempt)
        if n < 2:
            calls.abandon(base + n + 7, attempt)
        calls.finish(base + n + 30, attempt, CallResult.ABANDONED if n < 2 else CallResult.ANSWER)
    # At T0 + 24 h the first minute is still in (it starts exactly 24 hours before).
    at_day = activity.abandon_windows(GROUP, T0 + timedelta(hours=24))
    assert (at_day.day.abandoned, at_day.day.live_answered) == (3, 24)
    after = activity.abandon_windows(GROUP, T0 + timedelta(hours=24, minutes=1))
    assert (after.day.abandoned, after.day.live_answered) == (2, 20)
    assert (after.month.abandoned, after.month.live_answered) == (3, 24)
    assert after.binding == "30d" and after.month.rate == 12.5
    in_30_days = activity.abandon_windows(GROUP, T0 + timedelta(days=30))
    assert (in_30_days.month.abandoned, in_30_days.month.live_answered) == (3, 24)
    past = activity.abandon_windows(GROUP, T0 + timedelta(days=30, hours=1))
    assert (past.month.abandoned, past.month.live_answered) == (2, 20) and past.day.live_answered == 0
    assert ids  # the first minute's attempts


def test_attempts_since_gives_the_dial_rate(calls: Calls) -> None:
    a_minute_of_calls(calls)
    activity = GroupActivityQueries(calls.live.db)

    assert activity.attempts_since(GROUP, T0 + timedelta(seconds=5)) == 5  # placed at 5, 6, 7, 8, 9 s
    assert activity.attempts_since(GROUP, T0 + timedelta(seconds=5.5)) == 5  # to the second
    assert activity.attempts_since(GROUP, T0 - timedelta(minutes=1)) == 10
    assert activity.attempts_since(OTHER_GROUP, T0) == 0
    # Two hours on, the seconds of the first minute are gone; older questions use the minutes.
    calls.place(2 * 3600, L1, 8)
    assert activity.attempts_since(GROUP, T0 + timedelta(hours=2) - timedelta(seconds=60)) == 1
    assert activity.attempts_since(GROUP, T0 + timedelta(seconds=5)) == 11
    assert activity.attempts_since(GROUP, T0 - timedelta(minutes=1)) == 11


def test_the_last_pacing_of_a_group(calls: Calls) -> None:
    activity = GroupActivityQueries(calls.live.db)
    assert activity.pacing(GROUP) is None
    calls.pace(0, 1, "predictive", 1.8)
    calls.pace(20, 2, "progressive", 1.0)
    paced = activity.pacing(GROUP)
    assert paced is not None
    assert (paced.mode, paced.ratio, paced.reason, paced.at) == (
        "progressive",
        1.0,
        "progressive at 1.0",
        T0 + timedelta(seconds=20),
    )


def test_a_replay_and_an_interleaving_of_the_streams_equal_the_live_rows(
    calls: Calls, tmp_path: Path
) -> None:
    ids = a_minute_of_calls(calls)
    calls.pace(30, 1, "predictive", 1.6)
    calls.place(2 * 3600, L1, 8)  # moves the kept seconds past the first minute
    calls.abandon(23, ids["waiting"])
    calls.deny(24, L1, "suppressed: on the DNC list; outside_hours: 07:00 there")
    live = dump_rows(calls.live.db)
    assert all(live.values()), "the scenario fills every table"

    replica = connect(f"sqlite:///{tmp_path / 'replica.sqlite'}")
    rebuilt = ProjectionStore(replica, [GroupActivity()])
    log = calls.store.read(0, 10_000)
    rebuilt.apply(NAME, log)
    assert dump_rows(replica) == live
    assert rebuilt.apply(NAME, log) == log[-1][0] and dump_rows(replica) == live, "nothing applied twice"

    # Kafka: each stream stays in order, the streams interleave any way.
    shuffled = connect(f"sqlite:///{tmp_path / 'shuffled.sqlite'}")
    apply_streams_last_first(shuffled, GroupActivity(), log)
    assert dump_rows(shuffled) == live


def test_batches_of_any_size_leave_the_rows_applying_one_event_at_a_time_leaves(
    calls: Calls, tmp_path: Path
) -> None:
    """Applied together, a batch's events are followed in memory (a call placed, answered and
    finished in one batch; the kept seconds moving on within one): the rows must be the live
    ones, which applied each event alone."""
    rng = random.Random(7)
    ids = a_minute_of_calls(calls)
    calls.deny(24, L1, "suppressed: on the DNC list; outside_hours: 07:00 there")
    for n in range(40):  # calls of an afternoon, the kept hour of seconds moving past its start
        at = 60 + n * 400 + rng.randrange(30)
        attempt = calls.place(at, L1 if n % 3 else L2, 1 + n % 6)
        outcome = rng.choice(["talked", "abandoned", "busy", "machine", "ringing"])
        if outcome in ("talked", "abandoned", "machine"):
            calls.answer(at + 8, attempt, by="machine" if outcome == "machine" else "person")
        if outcome == "talked":
            calls.connect(at + 9, attempt)
        elif outcome == "abandoned":
            calls.abandon(at + 10, attempt)
        if outcome != "ringing":
            calls.finish(at + 60, attempt, CallResult.BUSY if outcome == "busy" else CallResult.ANSWER, ring_ms=8_000)
    calls.finish(20_000, ids["ringing"], CallResult.NO_ANSWER, ring_ms=30_000)
    live = dump_rows(calls.live.db)
    log = calls.store.read(0, 10_000)

    for size in (2, 3, 7, 50):
        replica = connect(f"sqlite:///{tmp_path / f'batches-of-{size}.sqlite'}")
        rebuilt = ProjectionStore(replica, [GroupActivity()])
        for first in range(0, len(log), size):
            rebuilt.apply(NAME, log[first : first + size])
        assert dump_rows(replica) == live, f"batches of {size}"
        replica.close()


@pytest.mark.integration
def test_on_postgresql_the_answers_are_the_same(
    store: EventStore, views: SQLiteDatabase, fresh_postgres_database: str
) -> None:
    postgres = connect(fresh_postgres_database)
    try:
        on_postgres = Calls(store, ProjectionStore(postgres, [GroupActivity()]))
        ids = a_minute_of_calls(on_postgres)
        on_postgres.pace(30, 1, "predictive", 1.6)
        on_postgres.place(2 * 3600, L1, 8)
        on_postgres.abandon(23, ids["waiting"])
        on_sqlite = ProjectionStore(views, [GroupActivity()])
        on_sqlite.apply(NAME, store.read(0, 10_000))
        answers = [GroupActivityQueries(db) for db in (postgres, views)]

        def ask(activity: GroupActivityQueries) -> tuple[object, ...]:
            return (
                activity.counts(GROUP, T0 - timedelta(hours=1)),
                activity.counts_by_list(GROUP, T0 - timedelta(hours=1), T0 + timedelta(minutes=1)),
                activity.in_flight(GROUP),
                activity.calls_in_flight(GROUP),
                activity.abandon_windows(GROUP, T0 + timedelta(minutes=1)),
                activity.abandon_windows(GROUP, T0 + timedelta(hours=24, minutes=1)),
                activity.attempts_since(GROUP, T0 + timedelta(hours=2) - timedelta(seconds=60)),
                activity.attempts_since(GROUP, T0 + timedelta(seconds=5)),
                activity.pacing(GROUP),
            )

        on_pg, on_lite = (ask(activity) for activity in answers)
        assert on_pg == on_lite
        assert on_pg[2] == InFlight(ringing=2, connected=1, machine=1, abandoned=1)  # one placed at 2 h
        assert on_pg[6:8] == (1, 11)
    finally:
        postgres.close()


def test_the_gates_denials_count_per_reason_code(calls: Calls) -> None:
    calls.deny(1, L1, "suppressed: on the DNC list")
    calls.deny(2, L2, "suppressed: on the DNC list; outside_hours: 07:00 there")
    calls.deny(3, L1, "index_unavailable: Redis did not answer")
    activity = GroupActivityQueries(calls.live.db)
    assert activity.gate_denials(ACCOUNT) == {
        (GROUP, "suppressed"): 2,
        (GROUP, "outside_hours"): 1,
        (GROUP, "index_unavailable"): 1,
    }
    assert activity.gate_denials(UUID(int=1)) == {}
