"""A record's audit trail, from the event store: its fields, its treatments and every attempt.

:func:`record_trail` answers, for a record found by :func:`dialstream.queries.records.locate`,
what the record is now and how it got there (:class:`RecordTrail`):

- its calling-list fields, as the chain's events leave them;
- ``treatments``: the steps its treatment plan applied (``Record.treatments``);
- ``attempts``: each attempt, from the record's own ``call-attempts`` stream (made, answered,
  connected or abandoned, finished) joined by attempt id with what the dialing queue did to the
  record for it on the chain's stream (drawn, returned, updated, treated and why). An attempt
  drawn and given back undialled has only its queue steps; one reported without a draw only
  its progress;
- ``history``: what else changed the record: its chain imported, replaced or deleted, the record
  suppressed or restored, or changed by a treatment of another record of its chain.

Both streams are read whole, in order, and the fields are folded from the same chain events
as the trail, so the answer is one consistent reading. Codes come with their names (the
lower-case names selection rules accept); instants are UTC, ISO 8601.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Protocol
from uuid import UUID

import msgspec

from dialstream.queries.dialability import utc_iso
from dialstream.queries.records import Located, Stored
from dialstream.store import EventStore
from domain import contact_list, record_chain
from domain.codes import CallResult, ContactInfoType, RecordStatus, RecordType
from domain.contact_list import ContactList
from domain.record_chain import RecordChain
from projections.catalogue import CONTACT_LIST, CatalogueQueries
from schemas.attempts import (
    CallAttemptAbandoned,
    CallAttemptAnswered,
    CallAttemptConnected,
    CallAttemptFinished,
    CallAttemptMade,
)
from schemas.base import Event
from schemas.profiles import Channel
from schemas.records import (
    Record,
    RecordChainDeleted,
    RecordChainImported,
    RecordChainReplaced,
    RecordChainRestored,
    RecordChainSuppressed,
    RecordQueueEvent,
    RecordRetrieved,
    RecordReturned,
    RecordTreated,
    RecordUpdated,
    Suppression,
    TreatmentStep,
)


class TrailTreatmentStep(msgspec.Struct, frozen=True, kw_only=True):
    """One treatment applied to the record after a call result."""

    call_result: int
    call_result_name: str | None
    action: str
    at: str
    sequence: int  # the plan step's sequence number (0: written before sequences were kept)
    applied: int  # how many times in a row this sequence number has now been applied
    disposition_code: str | None
    dial_sched_time: str | None  # the dial the step scheduled


# What happened on the call, from the record's call-attempts stream.


class TrailAnswered(msgspec.Struct, frozen=True, kw_only=True):
    at: str
    answered_by: str  # person, machine or fax
    ring_ms: int


class TrailConnected(msgspec.Struct, frozen=True, kw_only=True):
    at: str
    agent_id: UUID
    wait_ms: int  # from the answer


class TrailAbandoned(msgspec.Struct, frozen=True, kw_only=True):
    at: str
    wait_ms: int
    message_played: bool


class TrailFinished(msgspec.Struct, frozen=True, kw_only=True):
    at: str
    call_result: int
    call_result_name: str | None
    ring_ms: int
    talk_ms: int
    agent_id: UUID | None


# What the dialing queue did to the record for an attempt, from the chain's stream.


class _QueueStep(msgspec.Struct, frozen=True, kw_only=True, tag_field="event"):
    at: str


class TrailDrawn(_QueueStep, frozen=True, kw_only=True, tag="record.retrieved"):
    retrieved_by: str


class TrailReturned(_QueueStep, frozen=True, kw_only=True, tag="record.returned"):
    reason: str  # paused, stopped, stale, denied, skipped or unused
    dial_sched_time: str | None
    detail: str


class TrailUpdated(_QueueStep, frozen=True, kw_only=True, tag="record.updated"):
    call_result: int
    call_result_name: str | None
    call_time: str | None
    attempt: int
    record_status: int
    record_status_name: str | None


class TrailTreated(_QueueStep, frozen=True, kw_only=True, tag="record.treated"):
    call_result: int
    call_result_name: str | None
    disposition_code: str | None
    action: str | None  # None: no step applied (the reason says why)
    reason: str
    record_type: int
    record_type_name: str | None
    record_status: int
    record_status_name: str | None
    dial_sched_time: str | None
    next_chain_n: int | None  # the chain's record dialled next (None: the chain is finished)
    agent_group: str
    step: TrailTreatmentStep | None


class TrailAttempt(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt on the record: the call, and what the dialing queue did for it."""

    attempt_id: UUID
    campaign_group_id: UUID | None
    channel: Channel | None  # null (with device, caller_id, mode) when it was never made
    device: str | None
    caller_id: str | None
    mode: str | None
    made_at: str | None  # null: drawn and given back without a call
    answered: TrailAnswered | None
    connected: TrailConnected | None
    abandoned: TrailAbandoned | None
    finished: TrailFinished | None
    record_events: list[TrailDrawn | TrailReturned | TrailUpdated | TrailTreated]


# What else changed the record, from the chain's stream.


class _ChainStep(msgspec.Struct, frozen=True, kw_only=True, tag_field="event"):
    at: str


class TrailImported(_ChainStep, frozen=True, kw_only=True, tag="record_chain.imported"):
    job_id: UUID
    line: int


class TrailReplaced(_ChainStep, frozen=True, kw_only=True, tag="record_chain.replaced"):
    job_id: UUID
    line: int


class TrailDeleted(_ChainStep, frozen=True, kw_only=True, tag="record_chain.deleted"):
    reason: str  # flush or retention
    job_id: UUID | None
    detail: str


class TrailSuppressed(_ChainStep, frozen=True, kw_only=True, tag="record_chain.suppressed"):
    previous_record_type: int | None  # null: it was no call already
    matches: list[Suppression]


class TrailRestored(_ChainStep, frozen=True, kw_only=True, tag="record_chain.restored"):
    record_type: int
    record_type_name: str | None


class TrailChainTreated(_ChainStep, frozen=True, kw_only=True, tag="record.treated"):
    """A treatment of another record of the chain that changed this one."""

    treated_chain_n: int
    attempt_id: UUID
    call_result: int
    call_result_name: str | None
    action: str | None
    reason: str
    record_type: int
    record_type_name: str | None
    record_status: int
    record_status_name: str | None
    dial_sched_time: str | None


HistoryStep = TrailImported | TrailReplaced | TrailDeleted | TrailSuppressed | TrailRestored | TrailChainTreated


class RecordTrail(msgspec.Struct, frozen=True, kw_only=True):
    """A record now, and every event that made it so."""

    record_id: UUID
    list_id: UUID
    list_name: str | None
    chain_id: UUID
    client_id: str
    chain_n: int
    contact_info: str
    contact_info_type: int
    contact_info_type_name: str | None
    record_type: int
    record_type_name: str | None
    record_status: int
    record_status_name: str | None
    call_result: int
    call_result_name: str | None
    attempt: int
    dial_sched_time: str | None
    call_time: str | None
    daily_from: int | None  # seconds since local midnight
    daily_till: int | None
    time_zone: str
    time_zone_rule: str
    second_time_zone: str | None
    treatments: list[TrailTreatmentStep]
    attempts: list[TrailAttempt]
    history: list[HistoryStep]


class Sources(Stored, Protocol):
    """What the answer reads (the process's runtime has them)."""

    @property
    def catalogue(self) -> CatalogueQueries: ...


def record_trail(sources: Sources, account_id: UUID, located: Located) -> RecordTrail:
    """The trail of a record :func:`~dialstream.queries.records.locate` found."""
    store = sources.store
    chain_events = _stream(store, located.chain.id)
    chain, record = _now(located, chain_events)
    attempts = _Attempts()
    history: list[HistoryStep] = []
    for event in chain_events:
        if isinstance(event, RecordQueueEvent) and event.chain_n == record.chain_n:
            attempts.queue_step(event)
        elif (step := _history_step(event, record.chain_n)) is not None:
            history.append(step)
    for event in _stream(store, record.record_id):
        if event.account_id == account_id:
            attempts.progress(event)
    return RecordTrail(
        record_id=record.record_id,
        list_id=chain.list_id,
        list_name=_list_name(sources, account_id, chain.list_id),
        chain_id=chain.id,
        client_id=chain.client_id,
        chain_n=record.chain_n,
        contact_info=record.contact_info,
        contact_info_type=record.contact_info_type,
        contact_info_type_name=code_name(ContactInfoType, record.contact_info_type),
        record_type=record.record_type,
        record_type_name=code_name(RecordType, record.record_type),
        record_status=record.record_status,
        record_status_name=code_name(RecordStatus, record.record_status),
        call_result=record.call_result,
        call_result_name=code_name(CallResult, record.call_result),
        attempt=record.attempt,
        dial_sched_time=epoch_iso(record.dial_sched_time),
        call_time=epoch_iso(record.call_time),
        daily_from=record.daily_from,
        daily_till=record.daily_till,
        time_zone=record.time_zone,
        time_zone_rule=record.time_zone_rule,
        second_time_zone=record.second_time_zone,
        treatments=[_treatment_step(step) for step in record.treatments],
        attempts=attempts.views(),
        history=history,
    )


def code_name(enum: type[IntEnum], code: int) -> str | None:
    """A calling-list code's name as selection rules write it (``busy``); None for a number
    the format does not define."""
    try:
        return enum(code).name.lower()
    except ValueError:
        return None


def epoch_iso(seconds: int | None) -> str | None:
    """UTC epoch seconds as UTC, ISO 8601 with ``Z``."""
    return None if seconds is None else utc_iso(datetime.fromtimestamp(seconds, UTC))


def _stream(store: EventStore, stream_id: UUID) -> list[Event]:
    """A stream's events, in order."""
    return [event for event in store.events.get(stream_id) if isinstance(event, Event)]


def _now(located: Located, events: list[Event]) -> tuple[RecordChain, Record]:
    """The chain and the record as the events read say (what ``locate`` found when a change
    stored between the two readings took the record away)."""
    chain = record_chain.project(None, events)
    if isinstance(chain, RecordChain) and not chain.deleted:
        record = next((r for r in chain.records if r.chain_n == located.record.chain_n), None)
        if record is not None and record.record_id == located.record.record_id:
            return chain, record
    return located.chain, located.record


def _list_name(sources: Sources, account_id: UUID, list_id: UUID) -> str | None:
    """From the catalogue, else the store (a list created a moment ago)."""
    found: ContactList | None = sources.catalogue.get(account_id, CONTACT_LIST, list_id)
    if found is None:
        stored = sources.store.load(list_id, contact_list.project)
        if isinstance(stored, ContactList) and stored.account_id == account_id:
            found = stored
    return None if found is None else found.name


def _at(event: Event) -> str:
    return utc_iso(event.timestamp) or ""


def _treatment_step(step: TreatmentStep) -> TrailTreatmentStep:
    return TrailTreatmentStep(
        call_result=step.call_result,
        call_result_name=code_name(CallResult, step.call_result),
        action=step.action,
        at=epoch_iso(step.at) or "",
        sequence=step.sequence,
        applied=step.applied,
        disposition_code=step.disposition_code,
        dial_sched_time=epoch_iso(step.dial_sched_time),
    )


@dataclass
class _Attempt:
    """One attempt's events, gathered from both streams."""

    attempt_id: UUID
    first_at: datetime
    made: CallAttemptMade | None = None
    answered: TrailAnswered | None = None
    connected: TrailConnected | None = None
    abandoned: TrailAbandoned | None = None
    finished: TrailFinished | None = None
    group_id: UUID | None = None
    queue: list[TrailDrawn | TrailReturned | TrailUpdated | TrailTreated] = field(default_factory=list)

    def view(self) -> TrailAttempt:
        made = self.made
        return TrailAttempt(
            attempt_id=self.attempt_id,
            campaign_group_id=made.campaign_group_id if made is not None else self.group_id,
            channel=None if made is None else made.channel,
            device=None if made is None else made.device,
            caller_id=None if made is None else made.caller_id,
            mode=None if made is None else made.mode,
            made_at=None if made is None else _at(made),
            answered=self.answered,
            connected=self.connected,
            abandoned=self.abandoned,
            finished=self.finished,
            record_events=self.queue,
        )


class _Attempts:
    """The record's attempts by id, in the order they first appear."""

    def __init__(self) -> None:
        self.by_id: dict[UUID, _Attempt] = {}

    def _of(self, attempt_id: UUID, event: Event) -> _Attempt:
        attempt = self.by_id.get(attempt_id)
        if attempt is None:
            attempt = self.by_id[attempt_id] = _Attempt(attempt_id, event.timestamp)
        attempt.first_at = min(attempt.first_at, event.timestamp)
        return attempt

    def queue_step(self, event: RecordQueueEvent) -> None:
        step = _queue_step(event)
        if step is None:
            return
        attempt = self._of(event.attempt_id, event)
        attempt.group_id = attempt.group_id or event.campaign_group_id
        attempt.queue.append(step)

    def progress(self, event: Event) -> None:
        match event:
            case CallAttemptMade():
                self._of(event.attempt_id, event).made = event
            case CallAttemptAnswered():
                self._of(event.attempt_id, event).answered = TrailAnswered(
                    at=_at(event), answered_by=event.answered_by, ring_ms=event.ring_ms
                )
            case CallAttemptConnected():
                self._of(event.attempt_id, event).connected = TrailConnected(
                    at=_at(event), agent_id=event.agent_id, wait_ms=event.wait_ms
                )
            case CallAttemptAbandoned():
                self._of(event.attempt_id, event).abandoned = TrailAbandoned(
                    at=_at(event), wait_ms=event.wait_ms, message_played=event.message_played
                )
            case CallAttemptFinished():
                self._of(event.attempt_id, event).finished = TrailFinished(
                    at=_at(event),
                    call_result=event.call_result,
                    call_result_name=code_name(CallResult, event.call_result),
                    ring_ms=event.ring_ms,
                    talk_ms=event.talk_ms,
                    agent_id=event.agent_id,
                )

    def views(self) -> list[TrailAttempt]:
        # Stable: attempts that first appear at the same instant keep their reading order.
        ordered = sorted(self.by_id.values(), key=lambda attempt: attempt.first_at)
        return [attempt.view() for attempt in ordered]


def _queue_step(event: RecordQueueEvent) -> TrailDrawn | TrailReturned | TrailUpdated | TrailTreated | None:
    match event:
        case RecordRetrieved():
            return TrailDrawn(at=_at(event), retrieved_by=event.retrieved_by)
        case RecordReturned():
            return TrailReturned(
                at=_at(event),
                reason=event.reason,
                dial_sched_time=epoch_iso(event.dial_sched_time),
                detail=event.detail,
            )
        case RecordUpdated():
            return TrailUpdated(
                at=_at(event),
                call_result=event.call_result,
                call_result_name=code_name(CallResult, event.call_result),
                call_time=epoch_iso(event.call_time),
                attempt=event.attempt,
                record_status=event.record_status,
                record_status_name=code_name(RecordStatus, event.record_status),
            )
        case RecordTreated():
            change = event.record
            return TrailTreated(
                at=_at(event),
                call_result=event.call_result,
                call_result_name=code_name(CallResult, event.call_result),
                disposition_code=event.disposition_code,
                action=event.action,
                reason=event.reason,
                record_type=change.record_type,
                record_type_name=code_name(RecordType, change.record_type),
                record_status=change.record_status,
                record_status_name=code_name(RecordStatus, change.record_status),
                dial_sched_time=epoch_iso(change.dial_sched_time),
                next_chain_n=event.next_chain_n,
                agent_group=event.agent_group,
                step=None if event.step is None else _treatment_step(event.step),
            )
    return None


def _history_step(event: Event, chain_n: int) -> HistoryStep | None:
    """What a chain event did to the ``chain_n``-th record outside its own attempts (None:
    nothing)."""
    match event:
        case RecordChainImported() | RecordChainReplaced():
            if not any(r.chain_n == chain_n for r in event.records):
                return None  # a row with fewer devices: this position was not in it
            kind = TrailImported if isinstance(event, RecordChainImported) else TrailReplaced
            return kind(at=_at(event), job_id=event.job_id, line=event.line)
        case RecordChainDeleted():
            return TrailDeleted(at=_at(event), reason=event.reason, job_id=event.job_id, detail=event.detail)
        case RecordChainSuppressed():
            matches = [m for m in event.suppressions if m.chain_n == chain_n]
            if not matches and chain_n not in event.previous_types:
                return None
            return TrailSuppressed(
                at=_at(event), previous_record_type=event.previous_types.get(chain_n), matches=matches
            )
        case RecordChainRestored():
            if chain_n not in event.record_types:
                return None
            restored = event.record_types[chain_n]
            return TrailRestored(
                at=_at(event), record_type=restored, record_type_name=code_name(RecordType, restored)
            )
        case RecordTreated():
            change = next((c for c in event.others if c.chain_n == chain_n), None)
            if change is None:
                return None
            return TrailChainTreated(
                at=_at(event),
                treated_chain_n=event.chain_n,
                attempt_id=event.attempt_id,
                call_result=event.call_result,
                call_result_name=code_name(CallResult, event.call_result),
                action=event.action,
                reason=event.reason,
                record_type=change.record_type,
                record_type_name=code_name(RecordType, change.record_type),
                record_status=change.record_status,
                record_status_name=code_name(RecordStatus, change.record_status),
                dial_sched_time=epoch_iso(change.dial_sched_time),
            )
    return None
