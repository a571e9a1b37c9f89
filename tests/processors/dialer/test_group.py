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
from processors.dialer.group import DENIED_AGAIN_AFTER, GroupRun
from processors.dialer.ports import DialerPorts
from processors.dialer.state import JOURNAL, AgentView, Ages, Call
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
    journal: dict[int, tuple[object, dict[str, object]]] = {}
    token = JOURNAL.set(journal)
    try:
        group._set_agent(UUID(int=1), "ready", 2.0)
        assert counts() == (1, 0, 1, 2)
    finally:
        JOURNAL.reset(token)
    for changed, fields in journal.values():
        changed.__dict__.clear()
        changed.__dict__.update(fields)
    group.agents = saved
    assert counts() == (0, 1, 1, 2)


def test_a_read_of_the_agents_gives_each_view_its_own_row_as_the_rows_move() -> None:
    """The refresh finds an unchanged row's view by its place in the last read: a login sorted
    in before the others, one logged out and gone, one changed, must each reach their own view."""
    rows: list[AgentRow] = [agent_row(n, "ready") for n in (2, 4, 6)]
    ports = SimpleNamespace(
        channels={},
        links=None,
        simulated_agents=None,
        agents=SimpleNamespace(by_group=lambda account_id, group: list(rows)),
    )
    group = GroupRun(cast(DialerPorts, ports), ACCOUNT, GROUP, owner="test")
    group.session = SimpleNamespace(agent_group="g")  # type: ignore[assignment]

    def read(now: float) -> dict[int, tuple[str, float]]:
        group.agents_read_at = -1e9
        group._refresh_agents(now)
        assert all(view.row.agent_id == agent_id for agent_id, view in group.agents.items())
        return {agent_id.int: (view.state, view.ready_since) for agent_id, view in group.agents.items()}

    assert read(1.0) == {2: ("ready", 1.0), 4: ("ready", 1.0), 6: ("ready", 1.0)}
    rows.insert(0, agent_row(1, "not_ready"))  # "a1" sorts first: every row moves one place on
    rows[2] = agent_row(4, "not_ready")
    assert read(2.0) == {1: ("not_ready", 2.0), 2: ("ready", 1.0), 4: ("not_ready", 1.0), 6: ("ready", 1.0)}
    del rows[1]  # a2 is gone
    rows[1] = agent_row(4, "ready")
    assert read(3.0) == {1: ("not_ready", 2.0), 4: ("ready", 3.0), 6: ("ready", 1.0)}
    assert read(4.0) == {1: ("not_ready", 2.0), 4: ("ready", 3.0), 6: ("ready", 1.0)}


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
