"""A record's attempts: what is recorded, once per attempt id, on the record's own stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain import call_attempts, record_chain
from domain.call_attempts import RecordAttempts
from domain.codes import CallResult
from domain.errors import InvalidTransition, NotFound, RuleViolation
from domain.record_chain import RecordChain
from schemas.attempts import (
    CallAttemptAbandoned,
    CallAttemptAnswered,
    CallAttemptConnected,
    CallAttemptFinished,
    CallAttemptMade,
)
from schemas.profiles import Channel
from schemas.records import Record

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
ACCOUNT = UUID("0a000000-0000-4000-8000-000000000001")
LIST = UUID("0a000000-0000-4000-8000-0000000000a1")
GROUP = UUID("0a000000-0000-4000-8000-0000000000b1")
ATTEMPT = UUID("0a000000-0000-4000-8000-0000000000c1")
CHAIN = record_chain.chain_id(LIST, "C1")


def a_chain(*, deleted: bool = False) -> RecordChain:
    return RecordChain(
        id=CHAIN, version=1, account_id=ACCOUNT, created_on=NOW, modified_on=NOW, list_id=LIST, client_id="C1",
        records=[
            Record(record_id=record_chain.record_id(CHAIN, 1), chain_n=1, contact_info="+12125550111",
                   contact_info_type=1, time_zone="America/New_York", time_zone_rule="device"),
            Record(record_id=record_chain.record_id(CHAIN, 2), chain_n=2, contact_info="Jane@Example.com",
                   contact_info_type=10, time_zone="America/New_York", time_zone_rule="default"),
        ],
        deleted=deleted,
    )


def made(
    state: RecordAttempts | None = None,
    chain: RecordChain | None = None,
    chain_n: int = 1,
    attempt_id: UUID = ATTEMPT,
    channel: Channel = "voice",
    group: UUID | None = GROUP,
    **more: str,
) -> list[Any]:
    return call_attempts.make_attempt(
        state, a_chain() if chain is None else chain, chain_n=chain_n, attempt_id=attempt_id,
        channel=channel, campaign_group_id=group, now=NOW, **more,
    )


def test_an_attempt_is_an_event_on_the_records_stream() -> None:
    (event,) = made()
    assert isinstance(event, CallAttemptMade)
    assert (event.originator_id, event.originator_version) == (record_chain.record_id(CHAIN, 1), 1)
    assert (event.list_id, event.client_id, event.chain_n, event.device) == (LIST, "C1", 1, "+12125550111")
    assert (event.channel, event.campaign_group_id, event.attempt_id, event.timestamp) == ("voice", GROUP, ATTEMPT, NOW)


def test_the_same_attempt_id_is_stored_once_and_the_next_follows_it() -> None:
    state = call_attempts.project(None, made())
    assert made(state) == []
    (second,) = made(state, attempt_id=UUID(int=5))
    assert second.originator_version == 2
    state = call_attempts.project(state, [second])
    assert state is not None and state.attempt_ids == {ATTEMPT, UUID(int=5)}


def test_an_email_record_is_attempted_on_the_email_channel_with_its_address_lowercased() -> None:
    (event,) = made(chain_n=2, channel="email")
    assert event.device == "jane@example.com"


@pytest.mark.parametrize(("chain_n", "channel"), [(1, "email"), (2, "voice"), (2, "sms")])
def test_the_channel_must_fit_the_device(chain_n: int, channel: Channel) -> None:
    with pytest.raises(RuleViolation) as refused:
        made(chain_n=chain_n, channel=channel)
    assert refused.value.field == "channel"


@pytest.mark.parametrize("chain", [None, "deleted", "short"])
def test_a_missing_record_is_not_found(chain: str | None) -> None:
    found = {
        None: None,
        "deleted": a_chain(deleted=True),
        "short": msgspec.structs.replace(a_chain(), records=a_chain().records[:1]),
    }[chain]
    with pytest.raises(NotFound):
        call_attempts.make_attempt(
            None, found, chain_n=2, attempt_id=ATTEMPT, channel="voice", campaign_group_id=None, now=NOW
        )


def test_the_caller_id_and_the_mode_are_recorded_when_given() -> None:
    (event,) = made(caller_id="+13125550100", mode="predictive")
    assert (event.caller_id, event.mode) == ("+13125550100", "predictive")
    (plain,) = made()
    assert (plain.caller_id, plain.mode) == ("", "")


# The attempt's progress -----------------------------------------------------------------

AGENT = UUID("0a000000-0000-4000-8000-0000000000d1")
LATER = NOW + timedelta(seconds=12)


def placed() -> RecordAttempts:
    state = call_attempts.project(None, made())
    assert state is not None
    return state


def step(
    state: RecordAttempts | None, name: str, attempt_id: UUID = ATTEMPT, **fields: Any
) -> tuple[RecordAttempts, list[Any]]:
    """Decide one step of the attempt; return the new state and the events decided."""
    every: dict[str, dict[str, Any]] = {
        "answered": dict(answered_by="person", ring_ms=11_000),
        "connected": dict(agent_id=AGENT, wait_ms=400),
        "abandoned": dict(wait_ms=2_000, message_played=True),
        "finished": dict(call_result=CallResult.ANSWER, ring_ms=11_000, talk_ms=95_000),
    }
    defaults = every[name]
    decide = getattr(call_attempts, name)
    events = decide(state, attempt_id=attempt_id, now=LATER, **{**defaults, **fields})
    after = call_attempts.project(state, events)
    assert after is not None
    return after, events


def test_a_live_answer_connected_and_finished_is_three_events_in_order() -> None:
    state, (answered,) = step(placed(), "answered")
    state, (connected,) = step(state, "connected")
    state, (finished,) = step(state, "finished", agent_id=None)
    assert isinstance(answered, CallAttemptAnswered) and answered.answered_by == "person"
    assert isinstance(connected, CallAttemptConnected) and connected.agent_id == AGENT
    assert isinstance(finished, CallAttemptFinished)
    assert [e.originator_version for e in (answered, connected, finished)] == [2, 3, 4]
    assert all(e.campaign_group_id == GROUP and e.list_id == LIST and e.timestamp == LATER
               for e in (answered, connected, finished))
    assert finished.agent_id == AGENT, "the agent it was connected to, when the report names none"
    assert finished.call_result == 33 and finished.talk_ms == 95_000
    assert state.progress[ATTEMPT].steps == ("placed", "answered", "connected", "finished")


def test_an_abandoned_live_answer_and_an_unanswered_attempt_finish_too() -> None:
    state, (abandoned_event,) = step(step(placed(), "answered")[0], "abandoned")
    assert isinstance(abandoned_event, CallAttemptAbandoned) and abandoned_event.message_played
    state, (end,) = step(state, "finished", call_result=CallResult.ABANDONED, talk_ms=0)
    assert end.agent_id is None and state.progress[ATTEMPT].stage == "finished"

    state, (busy,) = step(placed(), "finished", call_result=CallResult.BUSY, ring_ms=3_000, talk_ms=0)
    assert busy.call_result == 6 and state.progress[ATTEMPT].steps == ("placed", "finished")


@pytest.mark.parametrize("name", ["answered", "connected", "abandoned", "finished"])
def test_a_step_reported_again_stores_nothing(name: str) -> None:
    state = placed()
    path = {"answered": ["answered"], "connected": ["answered", "connected"],
            "abandoned": ["answered", "abandoned"], "finished": ["answered", "connected", "finished"]}[name]
    for earlier in path:
        state, events = step(state, earlier)
        assert len(events) == 1
    _, again = step(state, name)
    assert again == []
    if name != "finished":  # a step passed already is a repeat later on too
        state, _ = step(state, "finished")
        assert step(state, name)[1] == []


@pytest.mark.parametrize(
    ("path", "name", "stage"),
    [
        ([], "connected", "placed"),
        ([], "abandoned", "placed"),
        (["finished"], "answered", "finished"),
        (["answered", "abandoned"], "connected", "abandoned"),
        (["answered", "connected"], "abandoned", "connected"),
        (["answered", "finished"], "connected", "finished"),
    ],
)
def test_a_step_out_of_order_is_refused_naming_the_stage(path: list[str], name: str, stage: str) -> None:
    state = placed()
    for earlier in path:
        state, _ = step(state, earlier)
    with pytest.raises(InvalidTransition) as refused:
        step(state, name)
    assert f"is {stage}" in refused.value.detail and refused.value.field == "attempt_id"


def test_a_step_of_an_attempt_never_placed_is_not_found() -> None:
    with pytest.raises(NotFound):
        step(None, "answered")
    with pytest.raises(NotFound) as missing:
        step(placed(), "finished", attempt_id=UUID(int=9))
    assert missing.value.field == "attempt_id"


@pytest.mark.parametrize(
    ("name", "fields", "field"),
    [
        ("answered", dict(answered_by="robot"), "answered_by"),
        ("answered", dict(ring_ms=-1), "ring_ms"),
        ("finished", dict(call_result=999), "call_result"),
        ("finished", dict(talk_ms=-5), "talk_ms"),
    ],
)
def test_bad_reports_are_refused(name: str, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        step(placed(), name, **fields)
    assert refused.value.field == field


def test_each_attempt_of_a_record_has_its_own_progress() -> None:
    first = placed()
    state = call_attempts.project(first, made(first, attempt_id=UUID(int=5)))
    assert state is not None
    state, _ = step(state, "finished", call_result=CallResult.NO_ANSWER, talk_ms=0)
    state, (answered,) = step(state, "answered", attempt_id=UUID(int=5), answered_by="machine")
    assert answered.originator_version == 4 and answered.answered_by == "machine"
    assert state.progress[ATTEMPT].stage == "finished" and state.progress[UUID(int=5)].stage == "answered"


def test_failures_are_classified_by_call_result() -> None:
    assert call_attempts.failure_of(CallResult.BUSY) == "busy"
    assert call_attempts.failure_of(CallResult.NO_ANSWER) == "no_answer"
    assert call_attempts.failure_of(CallResult.SIT_INVALID_NUMBER) == "sit"
    assert call_attempts.failure_of(CallResult.NO_DIAL_TONE) == "network"
    assert call_attempts.failure_of(CallResult.ANSWER) is None
