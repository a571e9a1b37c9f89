"""A simulated campaign day, and what must hold at its end.

A predictive group of simulated agents dials chains of one to three devices (home, business,
mobile) in four US zones from 19:00 New York time, the 21:00 close passing in three of them;
5 % of the numbers are on the account's required do-not-call list; the profile treats busy
(retry in 30 minutes, +5, twice, then the next device), no answer (next device after 10
minutes) and answering machine (next device). The dialer and the call results processor run
on a real embedded runtime in virtual time. At the end (:func:`check`):

- **every record's state is explained by its treatments**: each attempt's end was treated
  (``record.updated`` and ``record.treated`` of one attempt, except stale ones); a record
  retried was not dialled again before its step's due time; a chain moved on only by a
  next-in-chain step, to a later device, and not before that step's due time; no record of a
  finished chain was dialled after it finished; no record was dialled more than the profile's
  maximum attempts;
- **the gate held**: no call to a suppressed number, none outside 08:00-21:00 in its zone;
- **replay equals live**: the ``records`` read model rebuilt from the log equals the live one.

:func:`outcome` is the day as a value to compare (every call, every record's end): the same
day run in lockstep (:meth:`Lab.run_in_lockstep`) on the embedded host and on Kafka gives one.

Used by ``tests/processors/results/test_campaign_day.py`` (a small day) and ``make bench
ONLY=day`` (10,000 records).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from msgspec import structs

from dialstream.store import EventStore, stored_topic_of
from domain import record_chain
from domain.codes import CallResult
from domain.suppression_list import CreateSuppressionList, EntryInput
from domain.treatments import NEXT_IN_CHAIN
from processors.telephony.simulator import Rates, Timings
from projections.base import ProjectionStore
from projections.records import Records, dump_rows
from projections.sql import connect
from schemas.attempts import CallAttemptFinished, CallAttemptMade
from schemas.profiles import Filtering, Treatment
from schemas.records import Contact, Record, RecordChainImported, RecordTreated, RecordUpdated
from tests.processors.dialer.support import Lab, campaign, lab

EVENING = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)  # 19:00 New York, 16:00 Los Angeles
ZONES = (("America/New_York", "212"), ("America/Chicago", "312"), ("America/Los_Angeles", "213"), ("Pacific/Honolulu", "808"))
MAX_ATTEMPTS = 4
PLAN = [
    Treatment(call_result=CallResult.BUSY, sequence=1, action="retry_in", retry_count=2, interval_minutes=30, increment_minutes=5),
    Treatment(call_result=CallResult.BUSY, sequence=2, action="next_in_chain"),
    Treatment(call_result=CallResult.NO_ANSWER, sequence=1, action="next_in_chain_after", interval_minutes=10),
    Treatment(call_result=CallResult.ANSWERING_MACHINE, sequence=1, action="next_in_chain"),
]


@dataclass
class Day:
    chains: int
    zone_of: dict[str, str] = field(default_factory=dict)
    suppressed: set[str] = field(default_factory=set)
    list_id: UUID | None = None


def plan_day(lab: Lab, chains: int, *, agents: int) -> Day:
    """Import ``chains`` chains (1-3 devices), block every 20th number, start the group."""
    day = Day(chains)
    events: list[RecordChainImported] = []
    numbers = 0
    per_area: dict[str, int] = defaultdict(int)
    group = campaign(
        lab, [], mode="predictive", agents=agents, treatments=PLAN, filtering=Filtering(max_attempts=MAX_ATTEMPTS), start=False
    )
    list_id = day.list_id = lab.handlers.campaigns.group(lab.account_id, group).contact_list_ids[0]
    for n in range(chains):
        zone, area = ZONES[n % len(ZONES)]
        chain_id = record_chain.chain_id(list_id, f"D{n:05d}")
        records = []
        for k in range(1, 1 + 1 + n % 3):
            phone = f"+1{area}555{per_area[area]:04d}"  # unique up to 10,000 numbers a zone
            per_area[area] += 1
            numbers += 1
            day.zone_of[phone] = zone
            if numbers % 20 == 0:
                day.suppressed.add(phone)
            records.append(
                Record(
                    record_id=record_chain.record_id(chain_id, k),
                    chain_n=k,
                    contact_info=phone,
                    contact_info_type=1 if k == 1 else (2 if k == 2 else 4),
                    time_zone=zone,
                    time_zone_rule="device",
                )
            )
        events.append(
            RecordChainImported(
                originator_id=chain_id,
                originator_version=1,
                timestamp=lab.handlers.clock(),
                account_id=lab.account_id,
                list_id=list_id,
                client_id=f"D{n:05d}",
                job_id=uuid4(),
                line=n + 2,
                records=records,
                contact=Contact(country="US"),
            )
        )
    for start in range(0, len(events), 2000):
        lab.runtime.store.append(events[start : start + 2000])
    dnc = lab.handlers.suppression.create_list(
        lab.account_id, CreateSuppressionList(name="DNC", channel="voice", required=True)
    ).id
    blocked = sorted(day.suppressed)
    for start in range(0, len(blocked), 1000):
        lab.handlers.suppression.add_entries(lab.account_id, dnc, [EntryInput(kind="phone", value=p) for p in blocked[start : start + 1000]])
    lab.settle()
    lab.handlers.campaigns.transition_group(lab.account_id, group, "start")
    lab.settle()
    return day


def check(lab: Lab, day: Day, replica_dir: Path) -> dict[str, int]:
    """Every rule of the module's docstring; the day's counts."""
    store = lab.runtime.store
    made = events_of(store, CallAttemptMade)
    updated = events_of(store, RecordUpdated)
    treated = events_of(store, RecordTreated)
    stale = {e.attempt_id for e in updated if e.call_result == CallResult.STALE}
    assert {e.attempt_id for e in updated} - stale == {e.attempt_id for e in treated}, "an update without its treatment"

    # The gate held.
    to_suppressed = [e.device for e in made if e.device in day.suppressed]
    outside = [e.device for e in made if not _inside(e.timestamp, day.zone_of[e.device])]
    assert not to_suppressed, f"called while suppressed: {to_suppressed[:5]}"
    assert not outside, f"called outside the window: {outside[:5]}"

    # The treatments explain every dial.
    dials: dict[tuple[str, int], list[datetime]] = defaultdict(list)
    for e in made:
        dials[(e.client_id, e.chain_n)].append(e.timestamp)
    for times in dials.values():
        assert len(times) <= MAX_ATTEMPTS, "dialled past the maximum attempts"
    by_chain: dict[str, list[Any]] = defaultdict(list)
    for e in treated:
        by_chain[e.client_id].append(e)
    for client_id, steps in by_chain.items():
        for step in steps:
            key = (client_id, step.chain_n)
            later_same = [t for t in dials[key] if t > step.timestamp]
            if step.next_chain_n == step.chain_n and step.record.dial_sched_time is not None:  # retried
                assert all(_epoch(t) >= step.record.dial_sched_time for t in later_same), f"{key} retried early"
            elif step.next_chain_n is None:  # the chain finished: nothing of it dialled again
                after = [t for (c, _), ts in dials.items() if c == client_id for t in ts if t > step.timestamp]
                assert not after, f"chain {client_id} dialled after it finished"
            else:  # moved on: to a later device, by a next-in-chain step, not before it was due
                assert step.action in NEXT_IN_CHAIN and step.next_chain_n > step.chain_n, step
                assert not later_same, f"{key} dialled again after its chain moved on"
                due = step.step.dial_sched_time if step.step is not None else None
                nxt = [t for t in dials[(client_id, step.next_chain_n)] if t > step.timestamp]
                if due is not None:
                    assert all(_epoch(t) >= due for t in nxt), f"{client_id} moved on early"

    # Replay equals live.
    assert lab.runtime.wait_for_head(30)
    replica = connect(f"sqlite:///{replica_dir / 'replica.sqlite'}")
    projections = ProjectionStore(replica, [Records()])
    after = 0
    while batch := store.read(after=after, limit=20_000):
        projections.apply("records", batch)
        after = batch[-1][0]
    assert dump_rows(replica) == dump_rows(lab.runtime.views), "replay differs from live"
    moved = sum(1 for e in treated if e.next_chain_n not in (None, e.chain_n))
    retried = sum(1 for e in treated if e.next_chain_n == e.chain_n)
    return {"calls": len(made), "treated": len(treated), "retried": retried, "moved_on": moved, "stale": len(stale)}


def outcome(lab: Lab, day: Day) -> dict[str, Any]:
    """The day as a value: every call in the order placed (when, which chain's record, how it
    ended) and every record's end (type, status, result, attempts, due and call times, its
    treatment history), without ids (each run makes its own)."""
    store = lab.runtime.store
    assert day.list_id is not None
    records = {}
    for n in range(day.chains):
        chain = store.load(record_chain.chain_id(day.list_id, f"D{n:05d}"), record_chain.project)
        assert chain is not None
        for r in chain.records:
            records[(chain.client_id, r.chain_n)] = (
                r.record_type, r.record_status, r.call_result, r.attempt, r.dial_sched_time, r.call_time,
                [structs.astuple(step) for step in r.treatments],
            )
    ends = {e.attempt_id: (e.timestamp, e.call_result) for e in events_of(store, CallAttemptFinished)}
    calls = [(e.timestamp, e.client_id, e.chain_n, ends.get(e.attempt_id)) for e in events_of(store, CallAttemptMade)]
    return {"calls": calls, "records": records}


LOCKSTEP_ACCOUNT = UUID("0d0d0d0d-0000-4000-8000-00000000da75")  # one id: the same agent ids


def lockstep_day(path: Path, chains: int, *, agents: int, hours: float, **host: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The day over ``chains`` chains, every processor and read model caught up before each
    dialer round (``host``: ``kafka=<bootstrap>`` for a broker): its :func:`outcome` and the
    counts of :func:`check`, which it passed."""
    with lab(
        path / "data",
        seed=5,
        rates=Rates(answer_person=0.3),
        timings=Timings(talk_mean_s=60.0),
        epoch=EVENING,
        account_id=LOCKSTEP_ACCOUNT,
        **host,  # type: ignore[arg-type]
    ) as L:
        day = plan_day(L, chains, agents=agents)
        L.run_in_lockstep(hours * 3600.0)
        return outcome(L, day), check(L, day, path)


def _inside(at: datetime, zone: str) -> bool:
    return 8 <= at.astimezone(ZoneInfo(zone)).hour < 21


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def events_of(store: EventStore, event_class: type) -> list[Any]:
    topics, after, found = (stored_topic_of(event_class),), 0, []
    while batch := store.read_topics(topics, after, 10_000):
        found += [event for _, event in batch]
        after = batch[-1][0]
    return found
