"""Record retention: when a contact list's chains are due for deletion, and which of them.

A list's ``settings.retention`` (:class:`schemas.lists.Retention`) says how long records stay
after their import and which chains retention may delete. Retention decides per **chain**
(the aggregate; a chain leaves its list whole, as one ``record_chain.deleted`` event):

- **Due** (:func:`due`): ``days`` None is permanent (never due). ``0`` ("today") is due once
  the account's local date (its region time zone) is later than the local date of the
  import, i.e. from the first local midnight after the import. ``N`` days is due once
  ``now >= imported_at + N × 24 h`` (elapsed time, not calendar days).
- The **import time** of a chain is the time of its last ``imported`` or ``replaced``
  event: an "append and update" import that overwrites a chain starts its retention again.
- **In scope** (:func:`in_scope`), given the chain's records:

  - ``completed``: every record is done (:func:`is_done`): its record type is *no call*
    (never to be dialled), or its status is *updated* or *cancelled* (returned by the
    dialer, or cancelled) while its type is *general*, *unknown* or *no record type* — a
    record that is updated but rescheduled or waiting for a callback (types 3–6) is not done;
  - ``not_in_progress``: no record is *retrieved* (out with the dialer right now);
  - ``all``: every chain;
  - ``selection``: every record of the chain matches the list's selection rule (a chain is
    deleted whole, so a chain with one record outside the rule stays).

Everything here is pure: no clock, store or read model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from domain import record_chain
from domain.codes import RecordStatus, RecordType
from domain.record_chain import RecordChain
from domain.selection import Rule
from schemas.base import Event
from schemas.lists import Retention, RetentionScope
from schemas.records import RecordChainImported, RecordChainReplaced

# Record types whose records are finished once updated or cancelled: not rescheduled, not callbacks.
FINISHED_TYPES: frozenset[int] = frozenset(
    {RecordType.NO_RECORD_TYPE, RecordType.UNKNOWN, RecordType.GENERAL}
)
FINAL_STATUSES: frozenset[int] = frozenset({RecordStatus.UPDATED, RecordStatus.CANCELLED})

SCOPE_WORDS: dict[str, str] = {
    "completed": "completed",
    "not_in_progress": "not in progress",
    "all": "all",
    "selection": "selection",
}


def is_done(record: Mapping[str, Any]) -> bool:
    """The record will not be dialled again (see the module's ``completed`` scope)."""
    record_type = record["record_type"]
    if record_type == RecordType.NO_CALL:
        return True
    return record["record_status"] in FINAL_STATUSES and record_type in FINISHED_TYPES


def due(retention: Retention, *, imported_at: datetime, now: datetime, zone: ZoneInfo) -> bool:
    """Whether a chain imported at ``imported_at`` has outlived the list's retention at ``now``.

    ``zone`` is the account's time zone: "today" ends at its local midnight. Both times must
    be timezone-aware.
    """
    if retention.days is None:
        return False
    if retention.days == 0:
        return now.astimezone(zone).date() > imported_at.astimezone(zone).date()
    # In UTC: arithmetic on a zoned datetime would count wall-clock days, not elapsed time.
    return now.astimezone(UTC) >= imported_at.astimezone(UTC) + timedelta(days=retention.days)


def in_scope(scope: RetentionScope, records: Sequence[Mapping[str, Any]], rule: Rule | None) -> bool:
    """Whether retention may delete a chain with these records (mappings with the record
    field names, ``custom`` included, as the ``records`` read model gives them).

    ``rule`` is the list's parsed selection rule; it is needed (and only read) for the
    ``selection`` scope. A chain without records is in every scope.
    """
    if scope == "completed":
        return all(is_done(r) for r in records)
    if scope == "not_in_progress":
        return all(r["record_status"] != RecordStatus.RETRIEVED for r in records)
    if scope == "all":
        return True
    if scope == "selection":
        if rule is None:
            raise ValueError("retention by selection needs a selection rule")
        return all(rule.matches(r) for r in records)
    raise ValueError(f"unknown retention scope {scope!r}")


def expired(
    retention: Retention,
    rule: Rule | None,
    *,
    records: Sequence[Mapping[str, Any]],
    imported_at: datetime,
    now: datetime,
    zone: ZoneInfo,
) -> bool:
    """Both: the chain is due and in the retention's scope."""
    return due(retention, imported_at=imported_at, now=now, zone=zone) and in_scope(
        retention.scope, records, rule
    )


def describe(retention: Retention) -> str:
    """The deletion event's ``detail``: ``retention 30 days, completed``."""
    if retention.days is None:
        period = "permanent"
    elif retention.days == 0:
        period = "today"
    else:
        period = f"{retention.days} day{'s' if retention.days != 1 else ''}"
    scope = SCOPE_WORDS.get(retention.scope, retention.scope)
    if retention.scope == "selection":
        scope = f"selection: {retention.selection_rule.strip()}"
    return f"retention {period}, {scope}"


# The stored chain, for deciding again on the event store's state -------------------------


class StoredChain(NamedTuple):
    """A chain as the event store has it, with the time of its last import."""

    chain: RecordChain
    imported_at: datetime


def evolve(state: StoredChain | None, event: Event) -> StoredChain | None:
    chain = record_chain.evolve(state.chain if state is not None else None, event)
    if chain is None:
        return None
    if isinstance(event, RecordChainImported | RecordChainReplaced) or state is None:
        return StoredChain(chain, event.timestamp)
    return StoredChain(chain, state.imported_at)


def project(state: StoredChain | None, events: Iterable[Any]) -> StoredChain | None:
    """The repository's projector: ``store.load(chain_id, retention.project)``."""
    for event in events:
        state = evolve(state, event)
    return state


def records_of(stored: StoredChain) -> list[dict[str, Any]]:
    """The chain's records as the ``records`` read model holds them (the field names a
    selection rule reads, ``imported_at`` as ISO 8601 text)."""
    chain = stored.chain
    contact = chain.contact
    imported_at = stored.imported_at.isoformat()
    return [
        {
            "list_id": str(chain.list_id),
            "client_id": chain.client_id,
            "chain_n": r.chain_n,
            "chain_id": str(chain.id),
            "record_id": str(r.record_id),
            "account_id": str(chain.account_id),
            "contact_info": r.contact_info,
            "contact_info_type": r.contact_info_type,
            "record_type": r.record_type,
            "record_status": r.record_status,
            "call_result": r.call_result,
            "attempt": r.attempt,
            "dial_sched_time": r.dial_sched_time,
            "call_time": r.call_time,
            "daily_from": r.daily_from,
            "daily_till": r.daily_till,
            "time_zone": r.time_zone,
            "time_zone_rule": r.time_zone_rule,
            "second_time_zone": r.second_time_zone,
            "postal_code": contact.postal_code,
            "country": contact.country,
            "state": contact.state,
            "contact_time_zone": contact.time_zone,
            "custom": chain.custom,
            "imported_at": imported_at,
        }
        for r in chain.records
    ]
