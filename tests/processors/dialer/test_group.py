"""What a running group asks the pre-dial gate about each record it draws: the record's and its
contact's fields, and whether an agent is reserved before the call is placed (engage-agent-first
only), which lifts the quiet hours after an abandoned call; and the group's count of its agents by
state and of its calls by stage, kept between steps."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast, get_args
from uuid import UUID

import pytest
from msgspec import structs

from dialstream.handlers.queue import Drawn
from domain import dialing, pacing, record_chain
from domain.predial import Reason, Verdict
from domain.record_chain import RecordChain
from processors.compliance.predial import PreDialRequest
from processors.dialer.group import AGENTS_FULL_READ_S, DENIED_AGAIN_AFTER, GroupRun
from processors.dialer.ports import DialerPorts
from processors.dialer.state import HISTORY_WINDOW_S, JOURNAL, AgentView, Ages, Call, Observations, put_back
from projections.agents import AgentRow
from schemas.profiles import DialingMode, DialingSettings
from schemas.records import Contact
from tests.domain import builders

T0 = datetime(2026, 3, 10, 14, tzinfo=UTC)
ACCOUNT = UUID("0d000000-0000-4000-8000-000000000001")
GROUP = UUID("0d000000-0000-4000-8000-0000000000b1")
LIST = UUID("0d000000-0000-4000-8000-0000000000a1")
MODES = get_args(DialingMode)


def drawn() -> Drawn:
    chain_id = record_chain.chain_id(LIST, "C1")
    record = builders.a_record(chain_id, 1, contact_info="+441632960143", time_zone="Europe/London")
    chain = RecordChain(
        id=chain_id, version=1, account_id=ACCOUNT, created_on=T0, modified_on=T0,
        list_id=LIST, client_id="C1", records=[record], contact=Contact(country="GB"),
    )
    return Drawn(record=record, chain=chain, attempt_id=UUID(int=1))


@pytest.mark.parametrize("mode", MODES)
def test_engage_agent_first_and_preview_say_an_agent_is_reserved(mode: Any) -> None:
    # _request uses no port; the group's message outbox is made with the (no) channels.
    group = GroupRun(cast(DialerPorts, SimpleNamespace(channels={}, links=None)), ACCOUNT, GROUP, owner="test")
    group.dialing = structs.replace(DialingSettings(), dialing_mode=mode)
    request = group._request(drawn())
    assert isinstance(request, PreDialRequest)
    assert request.agent_reserved is (mode in dialing.ENGAGE_FIRST_MODES or dialing.is_preview(mode))
    # progressive_engage seizes an agent before dialling; a preview record is gated once its
    # agent accepted it, the agent held for it
    assert request.agent_reserved is (mode in ("progressive_engage", "preview", "push_preview"))
    assert (request.account_id, request.campaign_group_id, request.contact_info, request.country) == (
        ACCOUNT, GROUP, "+441632960143", "GB",
    )


def test_a_record_refused_without_a_time_it_may_be_called_is_due_again_later_not_at_once() -> None:
    """A suppressed number the compliance processor has not marked yet: the gate says no and
    knows no end. Given back due at once, it was drawn and refused at every step."""
    returned: list[Any] = []
    refused = Verdict(allowed=False, reasons=[Reason(code="suppressed", text="on the DNC list")])
    ports = SimpleNamespace(
        channels={},
        links=None,
        clock=lambda: T0,
        predial=SimpleNamespace(validate_many=lambda requests: [refused for _ in requests]),
        handlers=SimpleNamespace(
            queue=SimpleNamespace(return_drawn=lambda *args, **kwargs: returned.append((args, kwargs)))
        ),
    )
    group = GroupRun(cast(DialerPorts, ports), ACCOUNT, GROUP, owner="test")
    assert group._gate([drawn()], now=0.0) == [False]
    ((args, kwargs),) = returned
    (back,) = args[2]
    assert kwargs["reason"] == "denied" and back.detail == "suppressed: on the DNC list"
    assert back.dial_sched_time == int((T0 + DENIED_AGAIN_AFTER).timestamp())


def agent_row(n: int, state: str) -> AgentRow:
    return AgentRow(
        agent_id=UUID(int=n), login=f"a{n}", name=f"A{n}", agent_group="g", state=state, reason="",
        since=T0, campaign_group_id=None, record_id=None, attempt_id=None, purpose="", preview="",
        simulated=False, version=1,
    )


def test_the_agents_tally_follows_every_change_to_the_views_and_a_step_put_back() -> None:
    group = GroupRun(cast(DialerPorts, SimpleNamespace(channels={}, links=None)), ACCOUNT, GROUP, owner="test")
    group.agents = {UUID(int=n): AgentView(agent_row(n, "ready"), ready_since=0.0) for n in (1, 2, 3)}

    def counts() -> tuple[int, int, int, int]:
        tally = group._agents_now()
        return len(tally.ready), len(tally.on_call), len(tally.wrap_up), tally.logged_in

    assert counts() == (3, 0, 0, 3)
    assert group._agents_now() is group._agents_now()  # nothing changed: not counted again
    group._set_agent(UUID(int=1), "on_call", 1.0)
    assert counts() == (2, 1, 0, 3)
    group.agents[UUID(int=2)].row = agent_row(2, "wrap_up")  # the read model's row, read again
    assert counts() == (1, 1, 1, 3)
    group.agents[UUID(int=4)] = AgentView(agent_row(4, "logged_out"), ready_since=0.0)
    assert counts() == (1, 1, 1, 3)
    del group.agents[UUID(int=3)]
    assert counts() == (0, 1, 1, 2)

    # A step decided again puts the views back as they were, and the dict of them.
    saved = dict(group.agents)
    journal: dict[int, tuple[object, dict[str, object] | None]] = {}
    token = JOURNAL.set(journal)
    try:
        group._set_agent(UUID(int=1), "ready", 2.0)
        assert counts() == (1, 0, 1, 2)
    finally:
        JOURNAL.reset(token)
    put_back(journal)
    group.agents = saved
    assert counts() == (0, 1, 1, 2)


class AgentsFeed:
    """The agents read model as a dialer reads it (AgentQueries.changes): each row with the log
    position of its last change."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[int, AgentRow]] = {}
        self.position = 0
        self.reads: list[int | None] = []

    def change(self, n: int, state: str, *, agent_group: str = "g", version: int = 1) -> None:
        self.position += 1
        row = structs.replace(agent_row(n, state), agent_group=agent_group, version=version)
        self.rows[n] = (self.position, row)

    def changes(self, account_id: UUID, agent_group: str, after: int | None) -> tuple[list[AgentRow], int]:
        self.reads.append(after)
        if after is None:
            found = [row for _, row in self.rows.values() if row.agent_group == agent_group and row.state != "logged_out"]
        else:
            found = [row for at, row in self.rows.values() if at > after]
        return sorted(found, key=lambda row: row.login), max((at for at, _ in self.rows.values()), default=0)


def test_the_agents_are_read_in_full_then_only_as_they_change() -> None:
    """After one read of every agent of the group, a look reads only the agents changed since: a
    new one is added, a changed one takes its row, one gone from the group or logged out goes.
    Everything is read again now and then, and after a step decided again."""
    feed = AgentsFeed()
    for n in (2, 4, 6):
        feed.change(n, "ready")
    ports = SimpleNamespace(channels={}, links=None, simulated_agents=None, agents=feed)
    group = GroupRun(cast(DialerPorts, ports), ACCOUNT, GROUP, owner="test")
    group.session = SimpleNamespace(agent_group="g")  # type: ignore[assignment]

    def read(now: float) -> dict[int, tuple[str, float]]:
        group.agents_read_at = -1e9
        group._refresh_agents(now)
        assert all(view.row.agent_id == agent_id for agent_id, view in group.agents.items())
        return {agent_id.int: (view.state, view.ready_since) for agent_id, view in group.agents.items()}

    assert read(1.0) == {2: ("ready", 1.0), 4: ("ready", 1.0), 6: ("ready", 1.0)}
    unchanged = group.agents[UUID(int=6)]
    feed.change(1, "not_ready")
    feed.change(4, "not_ready")
    assert read(2.0) == {1: ("not_ready", 2.0), 2: ("ready", 1.0), 4: ("not_ready", 1.0), 6: ("ready", 1.0)}
    assert feed.reads == [None, 3], "the second look asks for what changed after the first"
    feed.change(2, "logged_out")
    feed.change(6, "ready", agent_group="other")
    feed.change(4, "ready")
    assert read(3.0) == {1: ("not_ready", 2.0), 4: ("ready", 3.0)}
    assert unchanged is not group.agents.get(UUID(int=6))

    # What this dialer did itself stands until the read model shows it.
    group._set_agent(UUID(int=4), "on_call", 4.0)
    feed.change(1, "ready")
    assert read(4.0) == {1: ("ready", 4.0), 4: ("on_call", 3.0)}
    feed.change(4, "on_call", version=2)
    assert read(5.0)[4] == ("on_call", 3.0) and group.agents[UUID(int=4)].local_state is None

    # A change the feed never showed (a Kafka read model applying out of log order) is seen at
    # the next full read; so is everything after a step decided again.
    del feed.rows[1]
    assert read(5.5) == {1: ("ready", 4.0), 4: ("on_call", 3.0)}
    assert read(5.0 + AGENTS_FULL_READ_S) == {4: ("on_call", 3.0)}
    assert feed.reads[-1] is None
    group._restore(group._snapshot())
    read(16.0)
    assert feed.reads[-1] is None


def test_the_calls_tally_follows_every_change_to_the_calls() -> None:
    group = GroupRun(cast(DialerPorts, SimpleNamespace(channels={}, links=None)), ACCOUNT, GROUP, owner="test")

    def stages() -> tuple[list[float], list[UUID], int, set[int]]:
        tally = group._calls_now()
        return tally.dialing, [call.attempt_id for call in tally.waiting], tally.connected, tally.agents

    assert stages() == ([], [], 0, set())
    first = Call(UUID(int=11), drawn(), placed_at=1.0)
    group.calls[first.attempt_id] = first
    assert stages() == ([1.0], [], 0, set())
    second = Call(UUID(int=12), drawn(), placed_at=2.0, agent_id=UUID(int=7))  # an agent reserved first
    group.calls[second.attempt_id] = second
    assert stages() == ([1.0, 2.0], [], 0, {7})
    second.stage, second.answered_at = "waiting", 3.0
    first.stage, first.answered_at = "waiting", 2.5
    assert stages() == ([], [UUID(int=11), UUID(int=12)], 0, {7})  # the longest waiting first
    first.stage, first.agent_id = "connected", UUID(int=8)
    assert stages() == ([], [UUID(int=12)], 1, {7, 8})
    del group.calls[second.attempt_id]
    assert stages() == ([], [], 1, {8})


def test_the_agents_times_on_a_call_are_worked_out_when_read() -> None:
    """The pacing gets the seconds since each agent's state began as a sequence worked out when
    read: the same numbers, with an unknown start or one after the instant taken as none."""
    since: list[float | None] = [100.0, None, 130.5, 200.0]
    ages = Ages(since, 150.0)
    expected = [50.0, 0.0, 19.5, 0.0]
    assert len(ages) == 4 and list(ages) == expected and ages[2] == 19.5 and ages[1:3] == [0.0, 19.5]
    assert [ages[n] for n in range(-4, 0)] == expected
    situation = pacing.Situation(ready=1, on_call=ages, wrap_up=Ages([], 150.0))
    assert situation.active == 5 and situation.lines_in_use == 4


def test_the_pacing_history_is_worked_out_again_only_when_a_sample_comes_or_leaves() -> None:
    observed, seed = Observations(), pacing.History()
    first = observed.history(seed)
    assert observed.history(seed) is first
    observed.outcome(10.0, True, 4.0)
    assert observed.history(seed) is first, "a step's samples count once the step is stored"
    observed.commit()
    stored = observed.history(seed)
    assert (stored.attempts, stored.live, stored.ring_live.mean) == (1, 1, 4.0)
    observed.outcome(11.0, False, 20.0)
    observed.discard()
    observed.commit()
    assert observed.history(seed) is stored, "a step decided again added nothing"
    other = pacing.History(attempts=50, live=10)
    assert observed.history(other) is other, "a cold history of fewer attempts than the seed: the seed's"
    observed.trim(10.0 + HISTORY_WINDOW_S + 1)
    assert observed.history(seed).attempts == 0, "the sample left the window"


def test_the_next_timer_is_the_earliest_waiting_calls_deadline_counted_or_not() -> None:
    """next_due reads the deadlines off the calls when their count is out of date, without
    counting them (the next step's progress would), and off the count when it is kept."""
    group = GroupRun(cast(DialerPorts, SimpleNamespace(channels={}, links=None)), ACCOUNT, GROUP, owner="test")
    first = Call(UUID(int=11), drawn(), placed_at=1.0)
    second = Call(UUID(int=12), drawn(), placed_at=2.0)
    group.calls = {first.attempt_id: first, second.attempt_id: second}
    assert group.next_due() is None
    second.stage, second.answered_at, second.deadline = "waiting", 3.0, 5.0
    assert group.call_tally.kept(group.calls) is None
    assert group.next_due() == 5.0
    assert group.call_tally.kept(group.calls) is None, "not counted for the timer"
    tally = group._calls_now()
    assert group.call_tally.kept(group.calls) is tally
    first.stage, first.answered_at, first.deadline = "waiting", 3.5, 4.0
    assert group.next_due() == 4.0


def test_the_free_agents_follow_the_agents_the_calls_and_the_offers() -> None:
    """Kept between asks while nothing changed; a call taking an agent, an agent's change or an
    offer shows at the next ask."""
    group = GroupRun(cast(DialerPorts, SimpleNamespace(channels={}, links=None)), ACCOUNT, GROUP, owner="test")
    group.agents = {UUID(int=n): AgentView(agent_row(n, "ready"), ready_since=float(n)) for n in (1, 2, 3)}

    def free() -> list[int]:
        return [agent.agent_id.int for agent in group._ready_agents()]

    assert free() == [1, 2, 3]
    assert group._ready_agents() is group._ready_agents(), "nothing changed: kept"
    call = Call(UUID(int=11), drawn(), placed_at=1.0, agent_id=UUID(int=2))
    group.calls[call.attempt_id] = call
    assert free() == [1, 3]
    group._set_agent(UUID(int=3), "on_call", 2.0)
    assert free() == [1]
    group.offers[UUID(int=1)] = drawn()
    assert free() == []
    del group.offers[UUID(int=1)]
    del group.calls[call.attempt_id]
    assert free() == [1, 2]
