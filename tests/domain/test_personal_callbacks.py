"""Personal callbacks in the dialing queue: who may take one at a given moment (its own agent
until its grace period is over, then any agent), the chain waiting for it, the draw for its
agent or for any, and the fold of the treatment that makes one (replayed from the wire)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from msgspec import structs

from domain import dialing_queue, treatments
from domain.codes import CallResult, RecordStatus, RecordType
from domain.record_chain import RecordChain
from schemas.profiles import Treatment
from schemas.records import Record, RecordRetrieved, RecordTreated
from tests.domain.test_dialing_queue import (
    ATTEMPT,
    GROUP,
    MAX,
    NOW,
    a_chain,
    a_record,
    record_of,
    then,
)

AMY = UUID("0a000000-0000-4000-8000-0000000000e1")  # the agent who agreed the callback
BOB = UUID("0a000000-0000-4000-8000-0000000000e2")  # another agent of the group
GRACE_S = 15 * 60
DUE = int(NOW.timestamp())


def personal(chain_n: int = 1, *, due: int = DUE, agent: UUID | None = AMY, **fields: object) -> Record:
    return a_record(
        chain_n, record_type=RecordType.PERSONAL_CALLBACK, dial_sched_time=due, callback_agent_id=agent, **fields
    )


def at(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


# The rule ----------------------------------------------------------------------------------------

# (moment relative to due, the draw's agent (None: an ordinary draw, whichever agent is free), may take)
RULE = [
    pytest.param(-60, AMY, False, id="before due: not for its agent"),
    pytest.param(-60, BOB, False, id="before due: not for another"),
    pytest.param(-60, None, False, id="before due: not for any"),
    pytest.param(0, AMY, True, id="due: for its agent"),
    pytest.param(0, BOB, False, id="due: not for another"),
    pytest.param(0, None, False, id="due: not for any"),
    pytest.param(GRACE_S - 1, AMY, True, id="last second of grace: for its agent"),
    pytest.param(GRACE_S - 1, BOB, False, id="last second of grace: not for another"),
    pytest.param(GRACE_S - 1, None, False, id="last second of grace: not for any"),
    pytest.param(GRACE_S, AMY, True, id="grace over: for its agent"),
    pytest.param(GRACE_S, BOB, True, id="grace over: for another"),
    pytest.param(GRACE_S, None, True, id="grace over: for any"),
]


@pytest.mark.parametrize(("offset", "agent", "allowed"), RULE)
def test_who_may_take_a_personal_callback(offset: int, agent: UUID | None, allowed: bool) -> None:
    assert dialing_queue.may_take(personal(), agent, now=at(offset), grace_s=GRACE_S) is allowed


@pytest.mark.parametrize(
    ("record", "offset", "allowed"),
    [
        pytest.param(a_record(1, dial_sched_time=DUE), 0, True, id="general record: anyone once due"),
        pytest.param(a_record(1, dial_sched_time=DUE), -1, False, id="general record: nobody before"),
        pytest.param(
            a_record(1, record_type=RecordType.CAMPAIGN_CALLBACK, dial_sched_time=DUE), 0, True,
            id="campaign callback: anyone once due",
        ),
        pytest.param(personal(agent=None), 0, True, id="type 5 of no agent: no agent to wait for"),
    ],
)
def test_any_other_record_is_anyones_once_due(record: Record, offset: int, allowed: bool) -> None:
    assert dialing_queue.may_take(record, BOB, now=at(offset), grace_s=GRACE_S) is allowed
    assert dialing_queue.may_take(record, None, now=at(offset), grace_s=GRACE_S) is allowed


def test_a_zero_grace_offers_it_to_any_agent_as_soon_as_it_is_due() -> None:
    assert dialing_queue.may_take(personal(), None, now=at(0), grace_s=0)
    assert not dialing_queue.may_take(personal(), None, now=at(-1), grace_s=0)


# The dialer's draws: its agent logged in and ready (a draw for it) or not (ordinary draws only).
# (moment, its agent ready, drawn for)
DRAWS = [
    pytest.param(-60, True, None, id="before due, its agent ready: nobody"),
    pytest.param(0, True, "own_agent", id="due, its agent ready: its agent"),
    pytest.param(0, False, None, id="due, its agent logged out: nobody yet"),
    pytest.param(GRACE_S - 1, False, None, id="within grace, its agent not ready: nobody yet"),
    pytest.param(GRACE_S, False, "any_agent", id="grace over, its agent logged out: any agent"),
    pytest.param(GRACE_S, True, "own_agent", id="grace over, its agent ready: its agent first"),
]


@pytest.mark.parametrize(("offset", "own_ready", "drawn_for"), DRAWS)
def test_the_draws_of_a_dialer_for_its_ready_agents_then_for_any(
    offset: int, own_ready: bool, drawn_for: str | None
) -> None:
    """The dialer first draws for each ready agent (``for_agent``), then ordinary draws."""
    chain = a_chain(personal(), a_record(2))
    ready = [BOB, AMY] if own_ready else [BOB]
    got = None
    for agent in [*ready, None]:
        events = dialing_queue.retrieve(
            chain, 1, campaign_group_id=GROUP, attempt_id=ATTEMPT, now=at(offset), max_attempts=MAX,
            grace_s=GRACE_S, for_agent=agent,
        )
        if events:
            (event,) = events
            assert isinstance(event, RecordRetrieved)
            got = event.personal_callback
            assert (agent == AMY) == (got == "own_agent")
            break
    assert got == drawn_for


def test_the_chain_waits_for_its_personal_callback() -> None:
    """Record 2 is not drawn ahead of record 1 while record 1 waits for its agent (nor when
    not due), as it waits for a campaign callback."""
    chain = a_chain(personal(), a_record(2))
    for offset in (-60, 0, GRACE_S - 1):
        assert dialing_queue.next_record(chain, now=at(offset), max_attempts=MAX, grace_s=GRACE_S) is None
    assert dialing_queue.next_record(chain, now=at(GRACE_S), max_attempts=MAX, grace_s=GRACE_S) == record_of(chain, 1)
    own = dialing_queue.next_record(chain, now=at(0), max_attempts=MAX, grace_s=GRACE_S, for_agent=AMY)
    assert own == record_of(chain, 1)


def test_a_draw_for_an_agent_takes_only_that_agents_callback() -> None:
    general = a_chain(a_record(1), a_record(2))
    assert dialing_queue.next_record(general, now=NOW, max_attempts=MAX, for_agent=AMY) is None
    bobs = a_chain(personal(agent=BOB))
    assert dialing_queue.next_record(bobs, now=NOW, max_attempts=MAX, grace_s=GRACE_S, for_agent=AMY) is None


def test_out_of_attempts_or_no_agent_the_personal_callback_is_skipped() -> None:
    spent = a_chain(personal(attempt=MAX), a_record(2))
    assert dialing_queue.next_record(spent, now=NOW, max_attempts=MAX, grace_s=GRACE_S) == record_of(spent, 2)
    orphan = a_chain(personal(agent=None), a_record(2))  # imported as type 5 with no agent: as before
    assert dialing_queue.next_record(orphan, now=NOW, max_attempts=MAX, grace_s=GRACE_S) == record_of(orphan, 2)


# The treatment and its fold ------------------------------------------------------------------------


def _treated(
    chain: RecordChain, outcome: treatments.Outcome, now: datetime, plan: Sequence[Treatment] = ()
) -> RecordChain:
    drawn_events = dialing_queue.retrieve(chain, 1, campaign_group_id=GROUP, attempt_id=ATTEMPT, now=now, max_attempts=MAX)
    drawn = then(chain, drawn_events)
    events = treatments.treat(
        drawn, 1, outcome, attempt_id=ATTEMPT, call_time=DUE, plan=list(plan), max_attempts=MAX, now=now
    )
    assert events and isinstance(events[-1], RecordTreated)
    return then(drawn, events)  # through the wire contract: replay reads what live wrote


def test_a_personal_callback_agreed_at_wrap_up_is_its_agents_due_at_the_local_time() -> None:
    chain = a_chain(a_record(1), a_record(2))
    # 10:00 in New York on 11 March = 14:00 UTC
    outcome = treatments.Outcome(
        call_result=CallResult.ANSWER, callback_at=datetime(2026, 3, 11, 10, 0), callback_agent_id=AMY
    )
    after = _treated(chain, outcome, NOW)
    first = record_of(after, 1)
    due = DUE + 24 * 3600
    assert (first.record_type, first.record_status, first.dial_sched_time, first.callback_agent_id) == (
        RecordType.PERSONAL_CALLBACK, RecordStatus.READY, due, AMY,
    )
    assert first.treatments[-1].action == "personal_callback"
    assert record_of(after, 2).record_status == RecordStatus.READY  # waits behind it
    assert dialing_queue.next_record(after, now=at(24 * 3600), max_attempts=MAX, grace_s=GRACE_S) is None
    assert dialing_queue.next_record(after, now=at(24 * 3600), max_attempts=MAX, grace_s=GRACE_S, for_agent=AMY) == first


def test_a_retry_keeps_the_callback_its_agents_and_a_campaign_callback_has_no_agent() -> None:
    chain = a_chain(personal(), a_record(2))
    plan = [Treatment(call_result=CallResult.NO_ANSWER, action="retry_in", interval_minutes=30)]
    retried = _treated(chain, treatments.Outcome(call_result=CallResult.NO_ANSWER), at(GRACE_S), plan)
    first = record_of(retried, 1)
    assert (first.record_type, first.callback_agent_id, first.record_status) == (
        RecordType.PERSONAL_CALLBACK, AMY, RecordStatus.READY,
    )
    campaign = treatments.Outcome(call_result=CallResult.ANSWER, callback_at=datetime(2026, 3, 11, 10, 0))
    again = structs.replace(first, dial_sched_time=DUE)
    chain = a_chain(again, a_record(2))
    made = record_of(_treated(chain, campaign, at(0)), 1)
    assert (made.record_type, made.callback_agent_id) == (RecordType.CAMPAIGN_CALLBACK, None)
