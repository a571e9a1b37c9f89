"""The dialing queue of a chain: which of its records a campaign group's dialer may draw now,
and the decisions that draw a record, give it back and record the end of its attempt.

A chain is dialled one record at a time, in chain order. Its next record
(:func:`next_record`) is found in three steps:

1. Nothing while the chain is deleted or holds a record retrieved (drawn and not yet
   returned or updated: its attempt's result not applied yet) or stale (its dialer died
   during the call: a supervisor decides). An updated record holds nothing: its treatment
   (:mod:`domain.treatments`, stored with the update) made it ready again (a retry), or
   moved the chain on to its next record, or closed the chain's waiting records.
2. Its first **candidate** in chain order: record type 2 (general), 3 (campaign
   rescheduled), 6 (campaign callback) or 5 (personal callback) with its agent, status 1
   (ready) and fewer attempts than the dialing profile's maximum. Records that are not
   candidates (no call, personal rescheduled, a personal callback of no agent, cancelled,
   out of attempts) are skipped to the next in chain order.
3. That candidate only if it is due (``dial_sched_time`` unset or passed), inside its
   own daily window (``daily_from``–``daily_till``, seconds since local midnight, in its
   time zone and in its second zone when it has one) and the draw may take it
   (:func:`may_take`). Otherwise the chain waits: a later record is never drawn ahead of an
   earlier one that is only not due yet, nor ahead of a personal callback waiting for its
   agent.

**Personal callbacks** (:func:`may_take`, ``grace_s`` the dialing profile's
``personal_callback_grace_minutes``):

=========================  ==============  ==================  =====================
record                     before due      due, within grace   due + grace passed
=========================  ==============  ==================  =====================
personal, for its agent    nobody          its agent only      any agent (its too)
any other candidate        nobody          any agent           any agent
=========================  ==============  ==================  =====================

A draw is made either for one agent (``for_agent``: the dialer reserves that ready agent
for the call before placing it, and takes only that agent's personal callbacks) or for
whichever agent of the group is free (``for_agent`` None: an ordinary draw). So a personal
callback whose agent is logged out, not ready or busy waits until its grace period is over,
then goes to the next free agent; the draw says which it was
(:attr:`~schemas.records.RecordRetrieved.personal_callback`).

**A record given to an agent group** (an assign_to_group step: ``callback_agent_group``) is
drawn only by the campaign groups of that agent group; for any other it holds its chain like a
record not due yet.

The account's calling hours, contact dates and suppression are the pre-dial gate's
(:mod:`domain.predial`), judged when the record is dialled, not when it is drawn.

Decisions (each re-checks the chain as the store has it and returns the events to store):
:func:`retrieve` draws the record :func:`next_record` names and no other; :func:`return_record`,
:func:`finish` and :func:`stale` act only for the attempt id that drew the record, so a
repeated report (a retry after a lost answer, a second sweep) stores nothing twice.

Pure: the time, attempt ids and whether a stale attempt was placed are passed in.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.aggregate import Changes
from domain.calling_windows import DAY
from domain.codes import CallResult, RecordStatus, RecordType
from domain.record_chain import RecordChain
from schemas.base import Event
from schemas.records import (
    PersonalCallbackDraw,
    Record,
    RecordRetrieved,
    RecordReturned,
    RecordUpdated,
    ReturnReason,
)

DIALABLE_TYPES: frozenset[int] = frozenset(
    {RecordType.GENERAL, RecordType.CAMPAIGN_RESCHEDULED, RecordType.CAMPAIGN_CALLBACK}
)
# A chain holding a record in one of these has nothing to draw (see the module's notes).
HOLDING_STATUSES: frozenset[int] = frozenset({RecordStatus.RETRIEVED, RecordStatus.STALE})


class Candidate(NamedTuple):
    """A record the dialable-records index offers for drawing (the read model may lag: the
    draw decides again on the chain as the store has it)."""

    record_id: UUID
    chain_id: UUID
    chain_n: int
    list_id: UUID
    client_id: str
    contact_info: str
    contact_info_type: int
    record_type: int
    attempt: int
    dial_sched_time: int | None
    time_zone: str
    second_time_zone: str | None
    callback_agent_id: UUID | None = None  # a personal callback's agent


# The rules -------------------------------------------------------------------------------


def is_candidate(record: Record, max_attempts: int) -> bool:
    """Step 2: a dialable type (or a personal callback with its agent), ready, and attempts left."""
    return (
        (record.record_type in DIALABLE_TYPES or callback_agent(record) is not None)
        and record.record_status == RecordStatus.READY
        and record.attempt < max_attempts
    )


def callback_agent(record: Record) -> UUID | None:
    """The agent whose own the record is: a personal callback's (type 5); None for any other."""
    return record.callback_agent_id if record.record_type == RecordType.PERSONAL_CALLBACK else None


def may_take(record: Record, agent_id: UUID | None, *, now: datetime, grace_s: int, agent_group: str = "") -> bool:
    """Whether a draw at ``now`` for agent ``agent_id`` (None: for whichever agent is free)
    of a campaign group of ``agent_group`` may take the record, once due: a personal callback
    only for its own agent until its grace period (``grace_s`` seconds after it fell due) is
    over, then for any agent; a record given to an agent group (assign_to_group) only by that
    agent group's campaign groups; any other record for any agent (see the module's notes)."""
    if not is_due(record, now):
        return False
    if record.callback_agent_group and record.callback_agent_group != agent_group:
        return False
    owner = callback_agent(record)
    return owner is None or agent_id == owner or grace_over(record, now, grace_s)


def grace_over(record: Record, now: datetime, grace_s: int) -> bool:
    """Whether ``grace_s`` seconds have passed since the record fell due."""
    return (record.dial_sched_time or 0) + grace_s <= now.timestamp()


def holds(chain: RecordChain) -> bool:
    """Whether the chain holds a record retrieved, updated or stale (step 1)."""
    return bool(chain.retrievals) or any(r.record_status in HOLDING_STATUSES for r in chain.records)


def first_candidate(chain: RecordChain, max_attempts: int) -> Record | None:
    """The chain's first candidate in chain order (None: none, or the chain holds a record)."""
    if chain.deleted or holds(chain):
        return None
    for record in sorted(chain.records, key=_chain_order):
        if is_candidate(record, max_attempts):
            return record
    return None


def next_record(
    chain: RecordChain,
    *,
    now: datetime,
    max_attempts: int,
    grace_s: int = 0,
    for_agent: UUID | None = None,
    agent_group: str = "",
) -> Record | None:
    """The record of the chain a dialer may draw at ``now`` (aware), or None: for whichever
    agent is free, or with ``for_agent`` only that agent's own personal callback (see
    :func:`may_take`; ``grace_s``: the personal callbacks' grace period; ``agent_group``: the
    drawing campaign group's)."""
    record = first_candidate(chain, max_attempts)
    if record is None or not may_take(record, for_agent, now=now, grace_s=grace_s, agent_group=agent_group):
        return None
    if for_agent is not None and callback_agent(record) != for_agent:
        return None
    if not inside_daily_window(record, now):
        return None
    return record


def is_due(record: Record, now: datetime) -> bool:
    return record.dial_sched_time is None or record.dial_sched_time <= now.timestamp()


def inside_daily_window(record: Record, now: datetime) -> bool:
    """Whether ``now`` reads inside the record's daily window in each of its zones."""
    if record.daily_from is None and record.daily_till is None:
        return True
    zones = [record.time_zone]
    if record.second_time_zone is not None and record.second_time_zone != record.time_zone:
        zones.append(record.second_time_zone)
    for zone in zones:
        seconds = local_seconds(zone, now)
        if seconds is None or not daily_allows(record.daily_from, record.daily_till, seconds):
            return False
    return True


def local_seconds(zone: str, now: datetime) -> int | None:
    """Seconds since local midnight at ``now`` in ``zone`` (None: a zone this system lacks,
    which allows nothing: fail closed)."""
    try:
        local = now.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return local.hour * 3600 + local.minute * 60 + local.second


def daily_allows(daily_from: int | None, daily_till: int | None, seconds: int) -> bool:
    """Whether a local time (seconds since midnight) is inside ``[daily_from, daily_till)``.

    As :mod:`domain.calling_windows` reads a record's window: an unset bound does not bound;
    ``daily_till`` before ``daily_from`` is a window across midnight; equal bounds are an
    empty window (never: fail closed rather than guess "all day")."""
    start = 0 if daily_from is None else daily_from
    end = DAY if daily_till is None else daily_till
    if start < end:
        return start <= seconds < end
    if start == end:
        return False
    return seconds >= start or seconds < end


def _chain_order(record: Record) -> int:
    return record.chain_n


# Decisions -------------------------------------------------------------------------------


def retrieve(
    chain: RecordChain,
    chain_n: int,
    *,
    campaign_group_id: UUID,
    attempt_id: UUID,
    retrieved_by: str = "",
    now: datetime,
    max_attempts: int,
    grace_s: int = 0,
    for_agent: UUID | None = None,
    agent_group: str = "",
) -> list[Event]:
    """Draw the ``chain_n``-th record for the group's attempt ``attempt_id`` (``for_agent``:
    a personal callback for its own agent; ``agent_group``: the group's); no event unless it is
    the record :func:`next_record` names at ``now``."""
    record = next_record(
        chain, now=now, max_attempts=max_attempts, grace_s=grace_s, for_agent=for_agent, agent_group=agent_group
    )
    if record is None or record.chain_n != chain_n:
        return []
    personal: PersonalCallbackDraw = ""
    if callback_agent(record) is not None:
        personal = "own_agent" if for_agent is not None else "any_agent"
    changes = Changes.of(chain, now)
    changes.record(
        RecordRetrieved,
        **_names(chain, record, campaign_group_id, attempt_id),
        retrieved_by=retrieved_by,
        personal_callback=personal,
    )
    return changes.events


def drawn_by(chain: RecordChain, chain_n: int, attempt_id: UUID) -> Record | None:
    """The record, if attempt ``attempt_id`` drew it and it is still drawn."""
    retrieval = chain.retrievals.get(chain_n)
    if chain.deleted or retrieval is None or retrieval.attempt_id != attempt_id:
        return None
    return next((r for r in chain.records if r.chain_n == chain_n), None)


def return_record(
    chain: RecordChain,
    chain_n: int,
    *,
    attempt_id: UUID,
    reason: ReturnReason,
    dial_sched_time: int | None = None,
    detail: str = "",
    now: datetime,
) -> list[Event]:
    """Give back a record that attempt ``attempt_id`` drew and did not dial: ready again (at
    ``dial_sched_time``, epoch seconds, when given). No event for any other attempt id."""
    record = drawn_by(chain, chain_n, attempt_id)
    if record is None:
        return []
    changes = Changes.of(chain, now)
    changes.record(
        RecordReturned,
        **_names(chain, record, chain.retrievals[chain_n].campaign_group_id, attempt_id),
        reason=reason,
        dial_sched_time=dial_sched_time,
        detail=detail,
    )
    return changes.events


def finish(
    chain: RecordChain,
    chain_n: int,
    *,
    attempt_id: UUID,
    call_result: int,
    call_time: int | None,
    now: datetime,
) -> list[Event]:
    """Record the end of attempt ``attempt_id`` on the record it drew: its call result, the
    call's time (epoch seconds), one more attempt, status 3 (updated). No event for any
    other attempt id, nor a second time."""
    return _updated(chain, chain_n, attempt_id, call_result, call_time, RecordStatus.UPDATED, now)


def stale(chain: RecordChain, chain_n: int, *, attempt_id: UUID, placed: bool, now: datetime) -> list[Event]:
    """Settle a record that attempt ``attempt_id`` drew and whose dialer died.

    Not placed (no call attempt recorded): returned, ready to be drawn again. Placed: its end
    is unknown, so it is updated with status 4 (stale) and call result 46 (stale), the
    attempt counted, its call time the time it was drawn: never dialled twice for one draw.
    """
    record = drawn_by(chain, chain_n, attempt_id)
    if record is None:
        return []
    if not placed:
        return return_record(chain, chain_n, attempt_id=attempt_id, reason="stale", now=now)
    drawn_at = int(chain.retrievals[chain_n].retrieved_at.timestamp())
    return _updated(chain, chain_n, attempt_id, CallResult.STALE, drawn_at, RecordStatus.STALE, now)


def _updated(
    chain: RecordChain,
    chain_n: int,
    attempt_id: UUID,
    call_result: int,
    call_time: int | None,
    status: int,
    now: datetime,
) -> list[Event]:
    record = drawn_by(chain, chain_n, attempt_id)
    if record is None:
        return []
    changes = Changes.of(chain, now)
    changes.record(
        RecordUpdated,
        **_names(chain, record, chain.retrievals[chain_n].campaign_group_id, attempt_id),
        call_result=int(call_result),
        call_time=call_time,
        attempt=record.attempt + 1,
        record_status=int(status),
    )
    return changes.events


def _names(
    chain: RecordChain, record: Record, campaign_group_id: UUID, attempt_id: UUID
) -> dict[str, object]:
    return {
        "list_id": chain.list_id,
        "client_id": chain.client_id,
        "chain_n": record.chain_n,
        "record_id": record.record_id,
        "campaign_group_id": campaign_group_id,
        "attempt_id": attempt_id,
    }
