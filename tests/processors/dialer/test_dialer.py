"""The dialer on a real embedded runtime and the telephony simulator, in virtual time.

Each test reads the outcome from the event store (the source of truth), not from the dialer's
memory: every attempt's events, every record's status, every agent's trail.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dialstream.store import stored_topic_of
from domain.codes import CallResult, RecordStatus
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.telephony.simulator import CallModel, Rates, SimulatedTelephony, Timings
from schemas.agents import AgentCallConnected
from schemas.attempts import (
    CallAttemptAbandoned,
    CallAttemptAnswered,
    CallAttemptConnected,
    CallAttemptFinished,
    CallAttemptMade,
)
from schemas.base import Event
from schemas.campaigns import CampaignGroupPaced
from schemas.profiles import Pacing
from schemas.records import RecordRetrieved, RecordReturned, RecordUpdated
from tests import redis
from tests.processors.dialer.support import AGENT_GROUP, campaign, lab, new_dialer, us_records


@pytest.fixture
def private_redis() -> Iterator[redis.Server]:
    with redis.running() as server:
        yield server


def events_of(store: Any, *classes: type[Event]) -> list[Any]:
    topics = tuple(stored_topic_of(cls) for cls in classes)
    found, after = [], 0
    while batch := store.read_topics(topics, after, 5000):
        found += [event for _, event in batch]
        after = batch[-1][0]
    return found


def test_progressive_calls_every_record_once_and_ends_every_attempt_with_its_result(tmp_path: Path) -> None:
    with lab(tmp_path) as L:
        group = campaign(L, us_records(120), mode="progressive", agents=4)
        L.run(1800)
        store = L.runtime.store
        made = events_of(store, CallAttemptMade)
        finished = events_of(store, CallAttemptFinished)
        assert len(made) >= 40
        # One attempt per record (no treatments yet): nothing dialled twice.
        assert len({e.originator_id for e in made}) == len(made)
        ended = {e.attempt_id for e in finished}
        in_flight = [e for e in made if e.attempt_id not in ended]
        assert len(in_flight) <= 4  # progressive, 1 line per agent, 4 agents
        updated = events_of(store, RecordUpdated)
        assert {e.attempt_id for e in updated} == ended
        assert all(e.campaign_group_id == group for e in made)
        results = Counter(e.call_result for e in finished)
        assert results[CallResult.ANSWER] > 0 and results[CallResult.NO_ANSWER] > 0
        talked = {e.attempt_id for e in finished if e.call_result == CallResult.ANSWER}
        connected = {e.attempt_id for e in events_of(store, AgentCallConnected)}
        # Every call that ended as answered was connected to an agent; the rest are still talking.
        assert talked <= connected and connected - talked <= {e.attempt_id for e in in_flight}
        # Progressive never abandons: each live answer had its agent waiting.
        assert not events_of(store, CallAttemptAbandoned)


def test_every_attempt_trail_is_in_order(tmp_path: Path) -> None:
    with lab(tmp_path, rates=Rates(answer_person=0.5)) as L:
        campaign(L, us_records(60), mode="predictive", agents=6)
        L.run(1200)
        trail: dict[UUID, list[str]] = defaultdict(list)
        for event in events_of(
            L.runtime.store,
            CallAttemptMade,
            CallAttemptAnswered,
            CallAttemptConnected,
            CallAttemptAbandoned,
            CallAttemptFinished,
        ):
            trail[event.attempt_id].append(type(event).__name__.removeprefix("CallAttempt"))
        allowed = {
            ("Made", "Finished"),
            ("Made", "Answered", "Finished"),
            ("Made", "Answered", "Connected", "Finished"),
            ("Made", "Answered", "Abandoned", "Finished"),
        }
        complete = [tuple(t) for t in trail.values() if t[-1] == "Finished"]
        assert complete and all(t in allowed for t in complete), Counter(complete)


def test_suppressed_and_outside_window_records_are_never_dialled(tmp_path: Path) -> None:
    with lab(tmp_path) as L:
        ny = us_records(30, prefix="NY")
        la = us_records(10, zone="America/Los_Angeles", area="213", prefix="LA")  # 07:00 there: closed
        group = campaign(L, ny + la, mode="progressive", agents=3, start=False)
        dnc = L.handlers.suppression.create_list(
            L.account_id, CreateSuppressionList(name="DNC", channel="voice", required=True, retention_days=30)
        ).id
        blocked = [phone for _, phone, _ in ny[:5]]
        L.handlers.suppression.add_entries(L.account_id, dnc, [EntryInput(kind="phone", value=p) for p in blocked])
        L.settle()
        L.handlers.campaigns.transition_group(L.account_id, group, "start")
        L.run(600)
        dialled = {e.device for e in events_of(L.runtime.store, CallAttemptMade)}
        assert dialled and not dialled & set(blocked)
        assert not {phone for _, phone, _ in la} & dialled
        returned = [e for e in events_of(L.runtime.store, RecordReturned) if e.reason == "denied"]
        # The Los Angeles records went back with their next allowed time: 08:00 there.
        later = [e for e in returned if e.dial_sched_time is not None]
        assert later and all(e.dial_sched_time >= int(L.handlers.clock().timestamp()) for e in later)


def test_pause_returns_what_was_drawn_and_not_dialled(tmp_path: Path) -> None:
    with lab(tmp_path) as L:
        group = campaign(L, us_records(50), mode="progressive", agents=3)
        L.run(120)
        L.handlers.campaigns.transition_group(L.account_id, group, "pause")
        L.settle()
        L.run(900)  # the calls in flight end; nothing new is placed
        store = L.runtime.store
        made = events_of(store, CallAttemptMade)
        retrieved = events_of(store, RecordRetrieved)
        settled = {e.attempt_id for e in events_of(store, RecordUpdated)}
        settled |= {e.attempt_id for e in events_of(store, RecordReturned)}
        assert {e.attempt_id for e in retrieved} == settled  # nothing left out with the dialer
        assert len(made) < 50
        assert L.runtime.records.retrieved(group) == []


def test_records_drawn_ahead_are_gated_when_dialled_and_returned_at_pause(tmp_path: Path) -> None:
    """A busy group draws what it dials in the next seconds at once; what it has not dialled
    when paused goes back, not dialled, and nothing drawn is left out."""
    with lab(tmp_path, timings=Timings(talk_mean_s=20.0, wrap_up_mean_s=3.0)) as L:
        group = campaign(L, us_records(2_000), mode="progressive", agents=40)
        L.run(300)
        L.handlers.campaigns.transition_group(L.account_id, group, "pause")
        L.settle()
        L.run(300)
        store = L.runtime.store
        paused = [e for e in events_of(store, RecordReturned) if e.reason == "paused"]
        assert paused, "drawn ahead, not dialled, given back"
        made = {e.attempt_id for e in events_of(store, CallAttemptMade)}
        assert not made & {e.attempt_id for e in paused}
        settled = {e.attempt_id for e in events_of(store, RecordUpdated)}
        settled |= {e.attempt_id for e in events_of(store, RecordReturned)}
        assert {e.attempt_id for e in events_of(store, RecordRetrieved)} == settled
        assert L.runtime.records.retrieved(group) == []


def test_switching_predictive_to_progressive_takes_effect_at_once(tmp_path: Path) -> None:
    with lab(tmp_path) as L:
        group = campaign(L, us_records(400), mode="predictive", agents=10, pacing=Pacing(lines_per_agent=1))
        L.run(900)
        L.handlers.campaigns.switch_dialing_mode(L.account_id, group, "progressive")
        L.settle()
        L.run(60)
        paced = events_of(L.runtime.store, CampaignGroupPaced)
        assert paced and paced[-1].mode == "progressive"


def test_records_left_and_updated_statuses(tmp_path: Path) -> None:
    with lab(tmp_path) as L:
        group = campaign(L, us_records(20), mode="progressive", agents=5)
        L.run(3600)
        lists = L.runtime.catalogue.get(L.account_id, "campaign-group", group).contact_list_ids
        counts = L.runtime.records.queue_counts(list(lists))
        assert counts["updated"] + counts["stale"] == 20
        assert counts["ready"] == 0
        statuses = {row["record_status"] for row in L.runtime.records.iterate(lists[0])}
        assert statuses == {int(RecordStatus.UPDATED)}


def test_a_dead_dialers_groups_are_taken_over_and_what_it_held_is_settled(tmp_path: Path) -> None:
    """A dialer that dies (no release, its calls gone with it) is replaced once its lease runs
    out: its calls end as stale, its records drawn and dialled become stale, those drawn and
    not dialled go back to the queue; the new owner dials on and never dials a record twice."""
    with lab(tmp_path) as L:
        group = campaign(L, us_records(150), mode="predictive", agents=8)
        L.run(240)
        first = L.dialer
        in_flight = set(first.runs[group].calls)
        drawn = {d.attempt_id for d in first.runs[group].drawn}
        assert in_flight
        L.kill_dialer(group)
        clock = L.clock
        model = CallModel(2, default_rates=Rates(answer_person=0.3))
        L.telephony = SimulatedTelephony(model, clock)
        L.dialer = new_dialer(L.runtime, L.telephony, model)
        L.run(1200)
        store = L.runtime.store
        made = events_of(store, CallAttemptMade)
        assert len({e.originator_id for e in made}) == len(made)  # no record dialled twice
        stale = {e.attempt_id for e in events_of(store, RecordUpdated) if e.record_status == RecordStatus.STALE}
        assert stale == in_flight
        finished = {e.attempt_id: e.call_result for e in events_of(store, CallAttemptFinished)}
        assert all(finished[a] == CallResult.STALE for a in in_flight)
        returned = {e.attempt_id for e in events_of(store, RecordReturned) if e.reason == "stale"}
        assert drawn <= returned
        assert L.runtime.records.retrieved(group) == [] or L.dialer.runs[group].calls
        # Agents that were on the dead dialer's calls are free again and take new calls.
        connected_after = [e for e in events_of(store, CallAttemptConnected) if e.attempt_id not in in_flight]
        assert len(connected_after) > 10


def test_push_preview_dials_what_the_agent_accepts_and_returns_what_it_skips(tmp_path: Path) -> None:
    with lab(tmp_path) as L:
        group = campaign(L, us_records(10), mode="push_preview", agents=0)
        for login in ("amy", "bob"):
            L.handlers.agents.log_in(L.account_id, login, agent_group=AGENT_GROUP)
            L.handlers.agents.ready(L.account_id, login)
        L.run(2)
        offered = {row.login: row for row in L.runtime.agents.by_group(L.account_id, AGENT_GROUP)}
        assert offered["amy"].preview == "offered" and offered["bob"].preview == "offered"
        L.handlers.agents.accept_preview(L.account_id, "amy")
        L.handlers.agents.skip_preview(L.account_id, "bob")
        L.run(2)
        made = events_of(L.runtime.store, CallAttemptMade)
        assert [e.originator_id for e in made] == [offered["amy"].record_id]
        skipped = [e for e in events_of(L.runtime.store, RecordReturned) if e.reason == "skipped"]
        assert [e.attempt_id for e in skipped] == [offered["bob"].attempt_id]
        assert group in L.dialer.runs


def test_power_never_exceeds_its_calls_per_minute(tmp_path: Path) -> None:
    with lab(tmp_path) as L:
        campaign(L, us_records(400), mode="power", agents=0, pacing=Pacing(calls_per_minute=30))
        L.run(300)
        made = sorted(e.timestamp for e in events_of(L.runtime.store, CallAttemptMade))
        assert 120 <= len(made) <= 150
        for i, at in enumerate(made):
            window = [t for t in made[i:] if (t - at).total_seconds() < 60]
            assert len(window) <= 30


def test_with_redis_stopped_mid_run_no_call_is_placed(tmp_path: Path, private_redis: redis.Server) -> None:
    """The suppression index is the gate's: Redis down means no call, and the records drawn
    meanwhile go back to the queue saying why. (The account has its required do-not-call list,
    as every account does: a campaign no suppression list applies to has nothing to look up.)"""
    with lab(tmp_path, suppression_index=private_redis.url) as L:
        L.handlers.suppression.create_list(
            L.account_id, CreateSuppressionList(name="DNC", channel="voice", required=True)
        )
        campaign(L, us_records(300), mode="progressive", agents=6)
        L.run(300)
        before = len(events_of(L.runtime.store, CallAttemptMade))
        assert before > 0
        private_redis.stop()
        try:
            L.run(120)
            after = events_of(L.runtime.store, CallAttemptMade)
            assert len(after) == before
            denied = [e for e in events_of(L.runtime.store, RecordReturned) if e.reason == "denied"]
            assert denied and all("index_unavailable" in e.detail for e in denied)
        finally:
            private_redis.start()
        L.run(300)
        assert len(events_of(L.runtime.store, CallAttemptMade)) > before  # back by itself


def test_a_step_that_meets_a_concurrent_change_stores_nothing_and_is_decided_again(tmp_path: Path) -> None:
    """An agent goes "not ready" from its desktop while the dialer's step is connecting a call to
    it: the step's one transaction conflicts, nothing of it is stored or done, and the next step
    decides again — the call goes to another agent (or is abandoned), never to the agent who left."""
    with lab(tmp_path, rates=Rates(answer_person=0.7)) as L:
        campaign(L, us_records(40), mode="progressive", agents=3)
        handlers = L.handlers
        original = handlers.agents.connect_call
        raced: list[UUID] = []

        def connect_and_race(account_id: UUID, agent_id: UUID, **kwargs: Any) -> Any:
            done = original(account_id, agent_id, **kwargs)
            if not raced:  # the agent's own change, stored by another thread meanwhile
                raced.append(agent_id)
                thread = threading.Thread(target=handlers.agents.not_ready, args=(account_id, agent_id, "break"))
                thread.start()
                thread.join()
            return done

        handlers.agents.connect_call = connect_and_race  # type: ignore[method-assign]
        L.run(600)
        store = L.runtime.store
        assert raced
        agent = handlers.agents.agent(L.account_id, raced[0])
        assert agent.state == "not_ready"
        connected_to = [e.agent_id for e in events_of(store, CallAttemptConnected)]
        assert raced[0] not in connected_to  # the step that connected it was never stored
        made = {e.attempt_id for e in events_of(store, CallAttemptMade)}
        finished = [e.attempt_id for e in events_of(store, CallAttemptFinished)]
        assert len(finished) == len(set(finished))  # each attempt finished once
        in_flight = made - set(finished)
        assert len(in_flight) <= 2  # the two agents left take one call each


def test_a_group_stopped_while_its_dialer_is_dead_gets_its_records_back(tmp_path: Path) -> None:
    """Nobody runs a stopped group, but its dead dialer's drawn records are still held: the next
    dialer owns the group just long enough to settle them, then lets it go."""
    with lab(tmp_path) as L:
        group = campaign(L, us_records(60), mode="progressive", agents=5)
        L.run(60)
        assert L.runtime.records.retrieved(group)
        L.handlers.campaigns.transition_group(L.account_id, group, "stop")
        L.kill_dialer(group)
        model = CallModel(3, default_rates=Rates(answer_person=0.3))
        L.telephony = SimulatedTelephony(model, L.clock)
        L.dialer = new_dialer(L.runtime, L.telephony, model)
        L.run(180)  # its agents' wrap-ups end too
        assert L.runtime.records.retrieved(group) == []
        L.dialer.discover()
        assert group not in L.dialer.runs  # settled and let go
