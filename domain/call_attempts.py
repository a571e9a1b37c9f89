"""A record's attempts: each attempt the dialer makes to a record is an event on the record's
own stream (its id is the record's id), counted by attempt rules across lists and channels,
and so is each step of its progress.

The stream remembers, per attempt id, the steps recorded so far, so that:

- a dialer reporting a step again (a retry after a lost answer, a redelivered progress event)
  stores nothing the second time;
- steps arrive in order: placed, then answered (by a person, a machine or a fax), then
  connected to an agent *or* abandoned, and finished last; an SMS is placed, sent (the
  provider took it) and finished by its delivery report. A step out of that order is refused
  with :class:`InvalidTransition` naming the stage the attempt is in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from domain.aggregate import Aggregate, Changes, projector, touched
from domain.codes import CallResult, ContactInfoType
from domain.errors import InvalidTransition, NotFound, RuleViolation
from domain.record_chain import RecordChain
from schemas.attempts import (
    CallAttemptAbandoned,
    CallAttemptAnswered,
    CallAttemptConnected,
    CallAttemptFinished,
    CallAttemptMade,
    CallAttemptSent,
    CallAttemptWrappedUp,
)
from schemas.base import Event
from schemas.profiles import Channel

Stage = Literal["placed", "answered", "connected", "abandoned", "sent", "finished"]
ANSWERED_BY = frozenset({"person", "machine", "fax"})

# What an unanswered attempt's call result says about the line, for activity counters and
# pacing (the time a failed attempt takes). Results not listed are answers, agent outcomes
# or the dialer's own (stale, cancelled): they are no failure of the line.
Failure = Literal["busy", "no_answer", "sit", "network"]
FAILURES: dict[int, Failure] = {
    CallResult.BUSY: "busy",
    CallResult.NO_ANSWER: "no_answer",
    CallResult.DROPPED_NO_ANSWER: "no_answer",  # the dialer gave up at the ring timeout
    CallResult.SIT_DETECTED: "sit",
    CallResult.SIT_INVALID_NUMBER: "sit",
    CallResult.SIT_VACANT_CODE: "sit",
    CallResult.SIT_OPERATOR_INTERCEPT: "sit",
    CallResult.SIT_UNKNOWN_CALL_STATE: "sit",
    CallResult.SIT_NO_CIRCUIT: "sit",
    CallResult.SIT_REORDER: "sit",
    CallResult.NU_TONE: "sit",
    CallResult.GENERAL_ERROR: "network",
    CallResult.SYSTEM_ERROR: "network",
    CallResult.ALL_TRUNKS_BUSY: "network",
    CallResult.NO_DIAL_TONE: "network",
    CallResult.NO_PROGRESS: "network",
    CallResult.NO_RINGBACK_TONE: "network",
    CallResult.NO_ESTABLISHED: "network",
    CallResult.DIAL_ERROR: "network",
    CallResult.CALL_DROP_ERROR: "network",
    CallResult.SWITCH_ERROR: "network",
    CallResult.NO_FREE_PORT: "network",
}


def failure_of(call_result: int) -> Failure | None:
    """How an attempt that was never answered failed (None: the result is no line failure)."""
    return FAILURES.get(call_result)


class AttemptProgress(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt's steps so far, in order, and what its later events repeat."""

    steps: tuple[Stage, ...]
    list_id: UUID
    campaign_group_id: UUID | None
    agent_id: UUID | None = None  # the agent it was connected to
    placed_at: datetime | None = None  # when it was made: the record's call time
    chain_n: int | None = None  # the record's position in its chain (its chain id follows)
    call_result: int | None = None  # once finished
    wrapped_up: bool = False  # its agent's after-call work is over (call_attempt.wrapped_up)

    @property
    def stage(self) -> Stage:
        return self.steps[-1]


class RecordAttempts(Aggregate, frozen=True, kw_only=True):
    attempt_ids: frozenset[UUID] = frozenset()
    progress: dict[UUID, AttemptProgress] = msgspec.field(default_factory=dict)


def make_attempt(
    state: RecordAttempts | None,
    chain: RecordChain | None,
    *,
    chain_n: int,
    attempt_id: UUID,
    channel: Channel,
    campaign_group_id: UUID | None,
    now: datetime,
    caller_id: str = "",
    mode: str = "",
) -> list[Event]:
    """Record an attempt to the ``chain_n``-th record of ``chain`` on ``channel``: placed."""
    record = None if chain is None or chain.deleted else next(
        (r for r in chain.records if r.chain_n == chain_n), None
    )
    if chain is None or record is None:
        raise NotFound("record not found", field="record_id")
    email = record.contact_info_type == ContactInfoType.EMAIL
    if (channel == "email") != email:
        raise RuleViolation(
            f"the record's contact info is {'an e-mail address' if email else 'a phone number'}; "
            f"the {channel} channel {'sends to e-mail addresses' if channel == 'email' else 'needs a phone'}",
            field="channel",
        )
    if state is not None and attempt_id in state.attempt_ids:
        return []
    changes = (
        Changes.of(state, now)
        if state is not None
        else Changes(record.record_id, chain.account_id, 0, now)
    )
    changes.record(
        CallAttemptMade,
        attempt_id=attempt_id,
        list_id=chain.list_id,
        client_id=chain.client_id,
        chain_n=chain_n,
        device=record.contact_info.lower() if email else record.contact_info,  # as the gate asks
        channel=channel,
        campaign_group_id=campaign_group_id,
        caller_id=caller_id,
        mode=mode,
    )
    return changes.events


def _progress(state: RecordAttempts | None, attempt_id: UUID) -> tuple[RecordAttempts, AttemptProgress]:
    progress = None if state is None else state.progress.get(attempt_id)
    if state is None or progress is None:
        raise NotFound(f"attempt {attempt_id} was not placed on this record", field="attempt_id")
    return state, progress


def _refuse(attempt_id: UUID, progress: AttemptProgress, step: str) -> InvalidTransition:
    return InvalidTransition(
        f"attempt {attempt_id} is {progress.stage} ({' → '.join(progress.steps)}); it cannot be {step} now",
        field="attempt_id",
    )


def _not_negative(**durations: int) -> None:
    for name, value in durations.items():
        if value < 0:
            raise RuleViolation(f"{name} must not be negative (got {value})", field=name)


def answered(
    state: RecordAttempts | None, *, attempt_id: UUID, answered_by: str, ring_ms: int, now: datetime
) -> list[Event]:
    """The called party answered a placed attempt (reported again: nothing)."""
    state, progress = _progress(state, attempt_id)
    if "answered" in progress.steps:
        return []
    if answered_by not in ANSWERED_BY:
        raise RuleViolation(
            f"answered_by must be one of {', '.join(sorted(ANSWERED_BY))} (got {answered_by!r})",
            field="answered_by",
        )
    _not_negative(ring_ms=ring_ms)
    if progress.stage != "placed":
        raise _refuse(attempt_id, progress, "answered")
    changes = Changes.of(state, now)
    changes.record(
        CallAttemptAnswered,
        attempt_id=attempt_id,
        campaign_group_id=progress.campaign_group_id,
        list_id=progress.list_id,
        answered_by=answered_by,  # checked above
        ring_ms=ring_ms,
    )
    return changes.events


def connected(
    state: RecordAttempts | None, *, attempt_id: UUID, agent_id: UUID, wait_ms: int, now: datetime
) -> list[Event]:
    """An answered attempt reached an agent (reported again: nothing)."""
    return _after_answer(state, attempt_id, "connected", CallAttemptConnected, now, wait_ms=wait_ms, agent_id=agent_id)


def abandoned(
    state: RecordAttempts | None, *, attempt_id: UUID, wait_ms: int, message_played: bool, now: datetime
) -> list[Event]:
    """An answered attempt that no agent took in time (reported again: nothing)."""
    return _after_answer(
        state, attempt_id, "abandoned", CallAttemptAbandoned, now, wait_ms=wait_ms, message_played=message_played
    )


def _after_answer(
    state: RecordAttempts | None,
    attempt_id: UUID,
    step: str,
    event_class: type[CallAttemptConnected] | type[CallAttemptAbandoned],
    now: datetime,
    *,
    wait_ms: int,
    **fields: object,
) -> list[Event]:
    """What follows a live answer, once: connected to an agent, or abandoned."""
    state, progress = _progress(state, attempt_id)
    if step in progress.steps:
        return []
    _not_negative(wait_ms=wait_ms)
    if progress.stage != "answered":
        raise _refuse(attempt_id, progress, step)
    changes = Changes.of(state, now)
    changes.record(
        event_class,
        attempt_id=attempt_id,
        campaign_group_id=progress.campaign_group_id,
        list_id=progress.list_id,
        wait_ms=wait_ms,
        **fields,
    )
    return changes.events


def sent(state: RecordAttempts | None, *, attempt_id: UUID, message_id: str, now: datetime) -> list[Event]:
    """The channel's provider took a placed attempt's message as ``message_id`` (reported
    again: nothing)."""
    state, progress = _progress(state, attempt_id)
    if "sent" in progress.steps:
        return []
    if not message_id:
        raise RuleViolation("a sent message needs the provider's message id", field="message_id")
    if progress.stage != "placed":
        raise _refuse(attempt_id, progress, "sent")
    changes = Changes.of(state, now)
    changes.record(
        CallAttemptSent,
        attempt_id=attempt_id,
        campaign_group_id=progress.campaign_group_id,
        list_id=progress.list_id,
        message_id=message_id,
    )
    return changes.events


def finished(
    state: RecordAttempts | None,
    *,
    attempt_id: UUID,
    call_result: int,
    ring_ms: int,
    talk_ms: int,
    agent_id: UUID | None = None,
    detail: str = "",
    now: datetime,
) -> list[Event]:
    """The attempt ended with ``call_result`` (reported again: nothing). The agent defaults
    to the one it was connected to."""
    state, progress = _progress(state, attempt_id)
    if progress.stage == "finished":
        return []
    try:
        result = CallResult(call_result)
    except ValueError:
        raise RuleViolation(f"{call_result} is not a call result code", field="call_result") from None
    _not_negative(ring_ms=ring_ms, talk_ms=talk_ms)
    changes = Changes.of(state, now)
    changes.record(
        CallAttemptFinished,
        attempt_id=attempt_id,
        campaign_group_id=progress.campaign_group_id,
        list_id=progress.list_id,
        call_result=int(result),
        ring_ms=ring_ms,
        talk_ms=talk_ms,
        agent_id=agent_id if agent_id is not None else progress.agent_id,
        call_time=int(progress.placed_at.timestamp()) if progress.placed_at is not None else None,
        chain_n=progress.chain_n,
        detail=detail,
    )
    return changes.events


def wrapped_up(
    state: RecordAttempts | None,
    *,
    attempt_id: UUID,
    agent_id: UUID,
    disposition_code: str | None,
    callback_at: datetime | None = None,
    callback_personal: bool = False,
    now: datetime,
) -> list[Event]:
    """The agent connected to a finished attempt finished (or left) its after-call work, with
    the disposition it gave and the callback it agreed (local time in the contact's zone;
    ``callback_personal``: the agent's own), if any (reported again: nothing)."""
    if callback_at is not None and callback_at.tzinfo is not None:
        raise RuleViolation("a callback's time is wall-clock time in the contact's zone, without an offset", field="callback.at")
    state, progress = _progress(state, attempt_id)
    if progress.wrapped_up:
        return []
    if progress.stage != "finished" or progress.call_result is None:
        raise _refuse(attempt_id, progress, "wrapped up")
    changes = Changes.of(state, now)
    changes.record(
        CallAttemptWrappedUp,
        attempt_id=attempt_id,
        campaign_group_id=progress.campaign_group_id,
        list_id=progress.list_id,
        agent_id=agent_id,
        disposition_code=disposition_code,
        call_result=progress.call_result,
        call_time=int(progress.placed_at.timestamp()) if progress.placed_at is not None else None,
        chain_n=progress.chain_n,
        callback_at=callback_at,
        callback_personal=callback_at is not None and callback_personal,
    )
    return changes.events


def awaits_wrap_up(state: RecordAttempts | None, attempt_id: UUID, agent_busy_with: UUID | None) -> bool:
    """Whether a finished attempt's result waits for its agent's disposition: the attempt was
    connected to an agent who is still on it or wrapping it up (``agent_busy_with``: the attempt
    the agent holds now), or whose wrap-up is stored already (its own event applies it)."""
    progress = None if state is None else state.progress.get(attempt_id)
    if progress is None or progress.agent_id is None:
        return False
    return progress.wrapped_up or agent_busy_with == attempt_id


_STEP: dict[type[Event], Stage] = {
    CallAttemptAnswered: "answered",
    CallAttemptConnected: "connected",
    CallAttemptAbandoned: "abandoned",
    CallAttemptSent: "sent",
    CallAttemptFinished: "finished",
}
Progressed = CallAttemptAnswered | CallAttemptConnected | CallAttemptAbandoned | CallAttemptSent | CallAttemptFinished


def evolve(state: RecordAttempts | None, event: Event) -> RecordAttempts | None:
    if isinstance(event, CallAttemptMade):
        placed = AttemptProgress(
            steps=("placed",),
            list_id=event.list_id,
            campaign_group_id=event.campaign_group_id,
            placed_at=event.timestamp,
            chain_n=event.chain_n,
        )
        if state is None:
            return RecordAttempts(
                id=event.originator_id,
                version=event.originator_version,
                account_id=event.account_id,
                created_on=event.timestamp,
                modified_on=event.timestamp,
                attempt_ids=frozenset({event.attempt_id}),
                progress={event.attempt_id: placed},
            )
        return touched(
            state,
            event,
            attempt_ids=state.attempt_ids | {event.attempt_id},
            progress={**state.progress, event.attempt_id: placed},
        )
    if state is not None and isinstance(event, CallAttemptWrappedUp):
        progress = state.progress.get(event.attempt_id)
        if progress is None:
            return touched(state, event)
        wrapped = msgspec.structs.replace(progress, wrapped_up=True)
        return touched(state, event, progress={**state.progress, event.attempt_id: wrapped})
    if state is None or not isinstance(event, Progressed):
        return state
    progress = state.progress.get(event.attempt_id)
    if progress is None:  # never decided so: a step of an attempt this stream did not place
        return touched(state, event)
    agent_id = event.agent_id if isinstance(event, CallAttemptConnected) else progress.agent_id
    result = event.call_result if isinstance(event, CallAttemptFinished) else progress.call_result
    moved = msgspec.structs.replace(
        progress, steps=(*progress.steps, _STEP[type(event)]), agent_id=agent_id, call_result=result
    )
    return touched(state, event, progress={**state.progress, event.attempt_id: moved})


project = projector(evolve)
