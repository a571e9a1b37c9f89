"""A chain: the records of one customer (one client id) in one contact list.

The chain's id is derived from (list, client id): storing a second chain for the same
client id in the same list is a version conflict in the event store, so a list can never
hold a client id twice, whatever runs at the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from hashlib import sha1
from typing import Any, Literal, NamedTuple
from uuid import UUID

from msgspec import Struct, field, structs

from domain.aggregate import Aggregate, Changes, projector, touched
from domain.codes import RecordStatus, RecordType
from schemas.base import Event
from schemas.imports import AppendType
from schemas.records import (
    Contact,
    Record,
    RecordChainDeleted,
    RecordChainImported,
    RecordChainReplaced,
    RecordChainRestored,
    RecordChainSuppressed,
    RecordRetrieved,
    RecordReturned,
    RecordTreated,
    RecordUpdated,
    Suppression,
)

DELETED_TOPIC_PREFIX = RecordChainDeleted.tag() + "/"


def chain_id(list_id: UUID, client_id: str) -> UUID:
    return name_based_id(list_id, f"client:{client_id}")


# Chains hold at most this many records (one per contact column of a row).
MAX_CHAIN_LENGTH = 64


def record_id(chain: UUID, chain_n: int) -> UUID:
    """The id of the ``chain_n``-th record of a chain: the chain's id with ``chain_n``
    XORed into its last bits.

    Reversible, so a record is found from its id alone through the event store's index
    of chain ids (:func:`chain_candidates`), with no index of record ids to maintain on
    millions of imported records. Version and variant bits are untouched; two chains'
    records could only collide if the chain ids (SHA-1 derived) agreed on 122 - 6 bits.
    """
    if not 1 <= chain_n <= MAX_CHAIN_LENGTH:
        raise ValueError(f"chain position {chain_n} is outside 1-{MAX_CHAIN_LENGTH}")
    return UUID(int=chain.int ^ chain_n)


def chain_of(record: UUID, chain_n: int) -> UUID:
    """The chain of the record with id ``record`` at position ``chain_n`` (see :func:`record_id`)."""
    return record_id(record, chain_n)  # XOR undoes itself


def chain_candidates(record: UUID) -> dict[UUID, int]:
    """Every (chain id -> position) a record id can come from; the one that exists is it."""
    return {UUID(int=record.int ^ n): n for n in range(1, MAX_CHAIN_LENGTH + 1)}


_VERSION_5 = 5 << 76
_VARIANT_RFC_4122 = 0x8000 << 48
_VERSION_AND_VARIANT_BITS = (0xF000 << 64) | (0xC000 << 48)


def name_based_id(namespace: UUID, name: str) -> UUID:
    """``uuid.uuid5(namespace, name)``, at 60% of its cost.

    An import derives three ids per row (a chain and its records); the standard function
    imports hashlib and builds the UUID from bytes on every call. Same algorithm, same
    ids: SHA-1 of namespace + name, version and variant bits set (RFC 4122).
    """
    digest = sha1(namespace.bytes + name.encode()).digest()
    number = int.from_bytes(digest[:16])
    return UUID(int=(number & ~_VERSION_AND_VARIANT_BITS) | _VERSION_5 | _VARIANT_RFC_4122)


class Retrieval(Struct, frozen=True, kw_only=True):
    """A record drawn by a campaign group's dialer and not yet returned or updated."""

    campaign_group_id: UUID
    attempt_id: UUID
    retrieved_at: datetime


class RecordChain(Aggregate, frozen=True, kw_only=True):
    list_id: UUID
    client_id: str
    records: list[Record]
    contact: Contact = Contact()
    custom: dict[str, str] = field(default_factory=dict)
    deleted: bool = False
    # The suppression entries matching its records now, and the record types they replaced.
    suppressions: list[Suppression] = field(default_factory=list)
    previous_types: dict[int, int] = field(default_factory=dict)
    # The records drawn now (chain position -> by whom), see domain.dialing_queue. An import
    # that replaces the chain replaces its records and drops these with them.
    retrievals: dict[int, Retrieval] = field(default_factory=dict)


class ChainDraft(Struct, frozen=True, kw_only=True, tag="draft", array_like=True):
    """A row read, validated and zoned: what a chain will hold if the row is accepted."""

    line: int
    client_id: str
    chain_id: UUID
    records: list[Record]
    contact: Contact
    custom: dict[str, str]
    dropped: list[tuple[str, str]] = []  # (column, reason) of invalid numbers left out


class Rejection(Struct, frozen=True, kw_only=True, tag="rejection", array_like=True):
    line: int
    reason: str
    field: str = ""
    raw: str = ""


class Head(NamedTuple):
    """What the store knows of an existing chain: its version and whether it is deleted."""

    version: int
    live: bool

    @classmethod
    def of(cls, version: int, stored_topic: str) -> Head:
        return cls(version, not stored_topic.startswith(DELETED_TOPIC_PREFIX))


Outcome = Literal["imported", "updated", "ignored"]


def outcome(append_type: AppendType, head: Head | None) -> Outcome:
    """What a row does to the list, given the chain already stored for its client id.

    Only one client id per list, whatever the append type: "append and update" lets the
    later row overwrite the chain; every other type keeps the first and ignores the rest.
    """
    if head is None or not head.live:
        return "imported"
    return "updated" if append_type == "append_and_update" else "ignored"


def chain_event(
    draft: ChainDraft,
    *,
    result: Outcome,
    chain: UUID,
    version: int,
    list_id: UUID,
    account_id: UUID,
    job_id: UUID,
    now: datetime,
) -> Event:
    event_class = RecordChainImported if result == "imported" else RecordChainReplaced
    return event_class(
        originator_id=chain,
        originator_version=version + 1,
        timestamp=now,
        account_id=account_id,
        list_id=list_id,
        client_id=draft.client_id,
        job_id=job_id,
        line=draft.line,
        records=draft.records,
        contact=draft.contact,
        custom=draft.custom,
    )


def deletion(
    chain: UUID,
    *,
    version: int,
    list_id: UUID,
    client_id: str,
    account_id: UUID,
    reason: Literal["flush", "retention"],
    job_id: UUID | None,
    detail: str,
    now: datetime,
) -> RecordChainDeleted:
    return RecordChainDeleted(
        originator_id=chain,
        originator_version=version + 1,
        timestamp=now,
        account_id=account_id,
        list_id=list_id,
        client_id=client_id,
        reason=reason,
        job_id=job_id,
        detail=detail,
    )


def evolve(state: RecordChain | None, event: Event) -> RecordChain | None:
    if isinstance(event, RecordChainImported | RecordChainReplaced):
        return RecordChain(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=state.created_on if state is not None else event.timestamp,
            modified_on=event.timestamp,
            list_id=event.list_id,
            client_id=event.client_id,
            records=event.records,
            contact=event.contact,
            custom=event.custom,
        )
    if state is None:
        return None
    match event:
        case RecordChainDeleted():
            return touched(state, event, deleted=True)
        case RecordChainSuppressed():
            records = [
                structs.replace(r, record_type=RecordType.NO_CALL) if r.chain_n in event.previous_types else r
                for r in state.records
            ]
            previous = {**state.previous_types, **event.previous_types}
            return touched(
                state, event, records=records, suppressions=event.suppressions, previous_types=previous
            )
        case RecordChainRestored():
            types = event.record_types
            records = [
                structs.replace(r, record_type=types[r.chain_n]) if r.chain_n in types else r
                for r in state.records
            ]
            return touched(
                state,
                event,
                records=records,
                suppressions=[m for m in state.suppressions if m.chain_n not in types],
                previous_types={n: t for n, t in state.previous_types.items() if n not in types},
            )
        case RecordRetrieved():
            retrieval = Retrieval(
                campaign_group_id=event.campaign_group_id,
                attempt_id=event.attempt_id,
                retrieved_at=event.timestamp,
            )
            return touched(
                state,
                event,
                records=_with_record(state.records, event.chain_n, record_status=int(RecordStatus.RETRIEVED)),
                retrievals={**state.retrievals, event.chain_n: retrieval},
            )
        case RecordReturned():
            changes: dict[str, Any] = {"record_status": int(RecordStatus.READY)}
            if event.dial_sched_time is not None:
                changes["dial_sched_time"] = event.dial_sched_time
            return touched(
                state,
                event,
                records=_with_record(state.records, event.chain_n, **changes),
                retrievals={n: r for n, r in state.retrievals.items() if n != event.chain_n},
            )
        case RecordUpdated():
            records = _with_record(
                state.records,
                event.chain_n,
                call_result=event.call_result,
                call_time=event.call_time,
                attempt=event.attempt,
                record_status=event.record_status,
            )
            return touched(
                state,
                event,
                records=records,
                retrievals={n: r for n, r in state.retrievals.items() if n != event.chain_n},
            )
        case RecordTreated():
            changed = {change.chain_n: change for change in (event.record, *event.others)}
            records = []
            for record in state.records:
                change = changed.get(record.chain_n)
                if change is not None:
                    history = record.treatments
                    if record.chain_n == event.chain_n and event.step is not None:
                        history = [*history, event.step]
                    record = structs.replace(
                        record,
                        record_type=change.record_type,
                        record_status=change.record_status,
                        dial_sched_time=change.dial_sched_time,
                        call_result=change.call_result,
                        callback_agent_id=change.callback_agent_id,
                        callback_agent_group=change.callback_agent_group,
                        treatments=history,
                    )
                records.append(record)
            return touched(state, event, records=records)
    return touched(state, event)


def _with_record(records: list[Record], chain_n: int, **changes: Any) -> list[Record]:
    return [structs.replace(r, **changes) if r.chain_n == chain_n else r for r in records]


def suppression_changes(state: RecordChain, matches: Sequence[Suppression], *, now: datetime) -> list[Event]:
    """Bring a chain's suppressions to ``matches`` (every entry matching its records now).

    Records that gain their first match become "no call", keeping their type to restore;
    records that lose their last match get it back. No event when nothing changed.
    """
    if state.deleted:
        return []
    matches = sorted(set(matches), key=_suppression_order)
    if matches == sorted(state.suppressions, key=_suppression_order):
        return []
    matched = {m.chain_n for m in matches}
    changes = Changes.of(state, now)
    newly = {
        r.chain_n: r.record_type
        for r in state.records
        if r.chain_n in matched and r.chain_n not in state.previous_types
    }
    released = {n: t for n, t in state.previous_types.items() if n not in matched}
    if released:
        changes.record(
            RecordChainRestored, list_id=state.list_id, client_id=state.client_id, record_types=released
        )
    if matches:
        changes.record(
            RecordChainSuppressed,
            list_id=state.list_id,
            client_id=state.client_id,
            suppressions=matches,
            previous_types=newly,
        )
    return changes.events


def _suppression_order(match: Suppression) -> tuple[int, str, str, str]:
    return (match.chain_n, str(match.suppression_list_id), match.kind, match.value)


project = projector(evolve)
