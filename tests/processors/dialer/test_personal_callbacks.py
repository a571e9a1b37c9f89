"""Personal callbacks on the dialer, in virtual time: one is dialled for its own agent when due
(that agent reserved before the call is placed, though another is ready too); when its agent is
not ready, it waits out the profile's grace period and then goes to another agent; and like
every call it passes the pre-dial gate, which refuses one due outside calling hours and sends it
back to the next allowed time with the reasons, still its agent's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from msgspec import structs

from dialstream.store import stored_topic_of
from domain import agent, record_chain
from domain.codes import RecordStatus, RecordType
from processors.telephony.simulator import Rates
from schemas.agents import AgentReserved
from schemas.attempts import CallAttemptConnected, CallAttemptMade
from schemas.base import Event
from schemas.records import RecordRetrieved, RecordReturned
from tests.processors.dialer.support import EPOCH, Lab, campaign, chain_event, lab

# Every call answered by a person: the agent it connects to shows who took the callback.
ANSWERED = Rates(answer_person=1.0, machine=0.0, fax=0.0, busy=0.0, invalid=0.0, network_error=0.0)


def personal_callback(L: Lab, group: UUID, client_id: str, *, agent_id: UUID, due: datetime) -> UUID:
    """A chain whose record is a personal callback of ``agent_id`` due at ``due`` (New York)."""
    list_id = L.handlers.campaigns.group(L.account_id, group).contact_list_ids[0]
    imported = chain_event(L, list_id, client_id, "+12125550123", "America/New_York")
    record = structs.replace(
        imported.records[0],
        record_type=int(RecordType.PERSONAL_CALLBACK),
        dial_sched_time=int(due.timestamp()),
        callback_agent_id=agent_id,
    )
    L.runtime.store.append([structs.replace(imported, records=[record])])
    L.settle()
    return list_id


def events(L: Lab, cls: type[Event]) -> list[Event]:
    return [e for _, e in L.runtime.store.read_topics((stored_topic_of(cls),), after=0, limit=1000)]


def test_a_personal_callback_is_dialled_for_its_own_agent_when_due(tmp_path: Path) -> None:
    due = EPOCH + timedelta(seconds=5)
    with lab(tmp_path, rates=ANSWERED) as L:
        group = campaign(L, [], mode="progressive", agents=3)
        amy = agent.agent_id(L.account_id, "agent-02")  # the last to be ready: not first in line
        personal_callback(L, group, "PC1", agent_id=amy, due=due)

        L.run(20)

        (drawn,) = events(L, RecordRetrieved)
        assert isinstance(drawn, RecordRetrieved)
        assert drawn.timestamp >= due and drawn.personal_callback == "own_agent"
        reserved = [e for e in events(L, AgentReserved) if isinstance(e, AgentReserved) and e.record_id == drawn.record_id]
        assert [(e.originator_id, e.attempt_id) for e in reserved] == [(amy, drawn.attempt_id)]
        assert len(events(L, CallAttemptMade)) == 1
        connected = [e for e in events(L, CallAttemptConnected) if isinstance(e, CallAttemptConnected)]
        assert [(e.attempt_id, e.agent_id) for e in connected] == [(drawn.attempt_id, amy)]


def test_its_agent_not_ready_it_goes_to_another_agent_once_the_grace_is_over(tmp_path: Path) -> None:
    due = EPOCH - timedelta(seconds=30)  # due already; a 1-minute grace ends 30 s into the run
    with lab(tmp_path, rates=ANSWERED) as L:
        group = campaign(L, [], mode="progressive", agents=2, callback_grace_minutes=1)
        amy, bob = (agent.agent_id(L.account_id, login) for login in ("agent-00", "agent-01"))
        L.handlers.agents.not_ready(L.account_id, "agent-00", "training")
        personal_callback(L, group, "PC2", agent_id=amy, due=due)

        L.run(20)
        assert events(L, RecordRetrieved) == []  # within the grace: Bob is ready, but it is Amy's

        L.run(25)
        (drawn,) = events(L, RecordRetrieved)
        assert isinstance(drawn, RecordRetrieved)
        assert drawn.timestamp >= due + timedelta(minutes=1) and drawn.personal_callback == "any_agent"
        connected = [e for e in events(L, CallAttemptConnected) if isinstance(e, CallAttemptConnected)]
        assert [(e.attempt_id, e.agent_id) for e in connected] == [(drawn.attempt_id, bob)]


def test_a_personal_callback_outside_calling_hours_is_refused_and_rescheduled_still_its_agents(tmp_path: Path) -> None:
    due = datetime(2026, 3, 11, 2, 30, tzinfo=UTC)  # 22:30 on 10 March in New York, after 21:00
    opening = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # 08:00 on 11 March in New York
    with lab(tmp_path, epoch=datetime(2026, 3, 11, 2, 29, 50, tzinfo=UTC)) as L:
        group = campaign(L, [], mode="progressive", agents=2)
        amy = agent.agent_id(L.account_id, "agent-01")
        list_id = personal_callback(L, group, "PC3", agent_id=amy, due=due)

        L.run(30)

        (drawn,) = events(L, RecordRetrieved)
        assert isinstance(drawn, RecordRetrieved)
        assert drawn.timestamp >= due and drawn.personal_callback == "own_agent"
        assert events(L, CallAttemptMade) == []  # never dialled
        assert events(L, AgentReserved) == []  # nor its agent held: the gate comes first
        (back,) = events(L, RecordReturned)
        assert isinstance(back, RecordReturned)
        assert (back.reason, back.dial_sched_time) == ("denied", int(opening.timestamp()))
        assert "calling hours" in back.detail or "outside" in back.detail, back.detail
        chain = L.runtime.store.load(record_chain.chain_id(list_id, "PC3"), record_chain.project)
        assert chain is not None
        record = chain.records[0]
        assert (record.record_type, record.record_status, record.dial_sched_time, record.callback_agent_id) == (
            RecordType.PERSONAL_CALLBACK, RecordStatus.READY, int(opening.timestamp()), amy,
        )
