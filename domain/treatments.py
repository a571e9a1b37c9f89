"""Treatments: what the end of an attempt does to its record and to the record's chain.

:func:`decide` takes the record as its chain holds it once the attempt's end is recorded
(:func:`domain.dialing_queue.finish`: the call result set, the attempt counted), what ended it
(:class:`Outcome`: the call result, and the agent's disposition code when there was one), the
effective dialing profile's treatment plan and maximum attempts, and ``now``. It returns a
:class:`Decision`: the step applied (or none, and why), the record's new type, status and
due time, which record of the chain is dialled next, what happens to the chain's other
records, the :class:`~schemas.records.TreatmentStep` to append to the record's history and a
sentence saying why. Pure: no clock, no I/O.

The product's rules (``outbound-facts.md``, "Treatments"):

- A plan's steps are keyed on a call result, or on a disposition code; each key numbers its
  own sequence from 1. A step applies ``retry_count`` times in a row before the next
  sequence number applies; retry_in waits ``interval`` for the first of them, then
  ``increment`` more each time (busy: 30, 35, 40 min).
- A result other than the one that keyed the record's previous step restarts at sequence 1.
- A next-in-chain step ends its key's sequence: the record is done, the chain moves on.
- The maximum attempts caps everything: a record that has used them is not dialled again.

Where the product is silent, what a contact-centre user expects:

- **Which key.** A disposition code keys the plan when the plan has steps for it; else the
  call result does (an agent's "SALE" on an answered call uses the "SALE" steps; a code
  with no steps falls back to the result's, unless the account's catalogue marks it final:
  then the record and its chain are done, whatever the result's steps say).
- **Only next-in-chain moves a chain on.** No step for the result (typically answer or ok),
  an explicit no_treatment, or a sequence used up with no next-in-chain step: the record is
  done (status 3, updated) and so is its chain: a customer reached on the home phone is not
  called again on the mobile. This is also how Outbound Contact treats chains.
- **A finished chain closes.** Its records still waiting (status 1 ready or 9 chain ready)
  become 7 (chain updated), so no later record is drawn; records already ended keep
  their status. update_all_records_in_chain does the same and also stamps the call
  result on them; cancel_record sets the record's status to 5 (cancelled) and closes the
  chain; mark_agent_error sets 6 (agent error) and closes it too: only a supervisor
  reopens such a record.
- **Next in chain** is the first record after the treated one in chain order that can still
  be dialled (a dialable type, ready, attempts left: :func:`domain.dialing_queue.is_candidate`);
  none, and the chain is finished. next_in_chain_after / _at make that record due later
  (never earlier than it already was); _at reads ``date_time`` in that record's zone.
- **The cap.** At the maximum attempts, a step that would dial the record again (redial,
  retry_in, retry_at, assign_to_group) is skipped for the next-in-chain step of the same
  sequence if there is one (the chain moves on as the plan meant it to), else the record
  and its chain are done. Steps that do not dial (agent error, cancel, update chain, no
  treatment, next in chain) apply at the cap as below it.
- **Retries.** A retried record is ready (1) and campaign rescheduled (3); redial is due at
  once. A record that is "no call" (7: suppressed meanwhile) or personal (4, 5) keeps its
  type (and a personal callback its agent): a retry must not lift a suppression nor turn an
  agent's callback into anyone's.
- **Callbacks** agreed at wrap-up win over the plan: a campaign callback (6), or a personal
  callback (5) remembering the agent who agreed it, due at the agreed local time.
  assign_to_group makes the record a campaign callback (6) for the named agent group, due
  after ``interval`` (at once when 0): only the campaign groups of that agent group draw it
  (:func:`domain.dialing_queue.may_take`), and it stays that group's through later retries
  until another assign_to_group step gives it to another.
- **Local dates.** retry_at / next_in_chain_at read ``date_time`` as wall-clock time in the
  record's zone: a time the spring-forward gap skips is read with the offset before the
  change (02:30 on a New York spring-forward day is 03:30 EDT); an hour repeated in autumn is
  its first occurrence. A date already past makes the record due at once. A zone this
  system lacks reads the time as UTC and the reason says so.
- **Steps apply at least once.** ``retry_count`` 0 counts as 1; a plan that has changed
  since the record's last step continues at the first sequence number after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import UNSET, Struct, structs

from domain import dialing_queue, record_chain
from domain.aggregate import Changes
from domain.codes import CallResult, RecordStatus, RecordType
from domain.dialing_queue import is_candidate
from domain.record_chain import RecordChain
from schemas.base import Event
from schemas.profiles import Treatment, TreatmentAction
from schemas.records import Record, RecordChange, RecordTreated, RecordUpdated, TreatmentStep

NEXT_IN_CHAIN: frozenset[str] = frozenset({"next_in_chain", "next_in_chain_after", "next_in_chain_at"})
# Steps that dial the record again: the maximum attempts stops them.
DIALS_AGAIN: frozenset[str] = frozenset({"redial", "retry_in", "retry_at", "assign_to_group"})
NEEDS_DATE_TIME: frozenset[str] = frozenset({"retry_at", "next_in_chain_at"})
# Records of a finished chain still waiting to be dialled; they are closed with it.
WAITING: frozenset[int] = frozenset({RecordStatus.READY, RecordStatus.CHAIN_READY})
# Types a retry keeps (see the module's notes).
KEPT_TYPES: frozenset[int] = frozenset(
    {RecordType.NO_CALL, RecordType.PERSONAL_RESCHEDULED, RecordType.PERSONAL_CALLBACK}
)


class Outcome(Struct, frozen=True, kw_only=True):
    """What ended the attempt: its call result, and the agent's disposition code if any."""

    call_result: int
    disposition_code: str | None = None
    final: bool = False  # the disposition is final in the account's catalogue
    # A callback the agent agreed: wall-clock time in the record's zone; the campaign's, or
    # with ``callback_agent_id`` that agent's own (a personal callback).
    callback_at: datetime | None = None
    callback_agent_id: UUID | None = None


class Decision(Struct, frozen=True, kw_only=True):
    action: TreatmentAction | None  # None: no step applied (none configured, used up, capped)
    record: RecordChange  # the treated record
    next_chain_n: int | None  # the record dialled next (the treated one when retried)
    others: tuple[RecordChange, ...] = ()  # the chain's other records that change
    step: TreatmentStep | None = None  # appended to the treated record's history
    agent_group: str = ""  # assign_to_group: whose callback the record becomes
    reason: str

    @property
    def chain_finished(self) -> bool:
        return self.next_chain_n is None


# The attempt's end, treated --------------------------------------------------------------


def treat(
    chain: RecordChain,
    chain_n: int,
    outcome: Outcome,
    *,
    attempt_id: UUID,
    call_time: int | None,
    plan: Sequence[Treatment],
    max_attempts: int,
    now: datetime,
) -> list[Event]:
    """The events that end attempt ``attempt_id`` on the record it drew: ``record.updated``
    (the call result, the attempt counted) and ``record.treated`` (what the plan makes of it).
    None for any other attempt id, nor a second time. A stale result (the dialer died during
    the call) is not treated: the record becomes stale (4) and holds its chain for a
    supervisor, as :func:`domain.dialing_queue.stale` does."""
    if outcome.call_result == CallResult.STALE:
        return dialing_queue.stale(chain, chain_n, attempt_id=attempt_id, placed=True, now=now)
    updated = dialing_queue.finish(
        chain, chain_n, attempt_id=attempt_id, call_result=outcome.call_result, call_time=call_time, now=now
    )
    if not updated:
        return []
    after = record_chain.project(chain, updated)
    assert after is not None
    decision = decide(after, chain_n, outcome, plan=plan, max_attempts=max_attempts, now=now)
    first = updated[0]
    assert isinstance(first, RecordUpdated)
    changes = Changes.of(after, now)
    changes.record(
        RecordTreated,
        list_id=first.list_id,
        client_id=first.client_id,
        chain_n=chain_n,
        record_id=first.record_id,
        campaign_group_id=first.campaign_group_id,
        attempt_id=attempt_id,
        call_result=int(outcome.call_result),
        disposition_code=outcome.disposition_code,
        action=decision.action if decision.action is not None or decision.step is None else decision.step.action,
        record=decision.record,
        others=list(decision.others),
        next_chain_n=decision.next_chain_n,
        step=decision.step,
        agent_group=decision.agent_group,
        reason=decision.reason,
    )
    return [*updated, *changes.events]


# The plan --------------------------------------------------------------------------------


Key = tuple[str, int | str]  # ("call_result", 6) or ("disposition", "SALE")


def key_of(treatment: Treatment | TreatmentStep) -> Key:
    if isinstance(treatment.disposition_code, str):
        return ("disposition", treatment.disposition_code)
    assert isinstance(treatment.call_result, int)  # plan_problem refuses a step keyed on nothing
    return ("call_result", treatment.call_result)


def steps_for(plan: Sequence[Treatment], key: Key) -> list[Treatment]:
    """The key's steps by sequence number; of two with one number, the first listed; none
    after a next-in-chain step (it ends the sequence)."""
    steps: dict[int, Treatment] = {}
    for treatment in plan:
        if key_of_plan(treatment) == key:
            steps.setdefault(treatment.sequence, treatment)
    ordered = [steps[n] for n in sorted(steps)]
    for index, treatment in enumerate(ordered):
        if treatment.action in NEXT_IN_CHAIN:
            return ordered[: index + 1]
    return ordered


def key_of_plan(treatment: Treatment) -> Key | None:
    if _given(treatment.disposition_code) or _given(treatment.call_result):
        return key_of(treatment)
    return None


def _given(value: object) -> bool:
    return value is not UNSET and value is not None


def plan_problem(plan: Sequence[Treatment]) -> tuple[str, str] | None:
    """The first thing wrong with a treatment plan, as (field, detail), or None."""
    seen: dict[tuple[Key, int], int] = {}
    ends: dict[Key, int] = {}
    for index, treatment in enumerate(plan):
        where = f"treatments[{index}]"
        key = key_of_plan(treatment)
        if key is None or (_given(treatment.call_result) and _given(treatment.disposition_code)):
            return f"{where}.call_result", "a treatment is keyed on a call result or a disposition code, one of them"
        if (key, treatment.sequence) in seen:
            first = seen[(key, treatment.sequence)]
            return f"{where}.sequence", f"sequence {treatment.sequence} of {describe(key)} is also treatments[{first}]"
        seen[(key, treatment.sequence)] = index
        if treatment.action in NEEDS_DATE_TIME and not _given(treatment.date_time):
            return f"{where}.date_time", f"{treatment.action} needs a date and time"
        if treatment.action == "assign_to_group" and not _group(treatment):
            return f"{where}.agent_group", "assign_to_group needs an agent group"
        if treatment.action in NEXT_IN_CHAIN:
            ends[key] = min(ends.get(key, treatment.sequence), treatment.sequence)
    for (key, sequence), index in seen.items():
        if key in ends and sequence > ends[key]:
            return (
                f"treatments[{index}].sequence",
                f"sequence {sequence} of {describe(key)} follows a next-in-chain step "
                f"(sequence {ends[key]}), which must come last",
            )
    return None


def describe(key: Key) -> str:
    kind, code = key
    if kind == "disposition":
        return f"disposition {code}"
    try:
        name = CallResult(int(code)).name.lower().replace("_", " ")
    except ValueError:
        return f"call result {code}"
    return f"{name} ({code})"


# The decision ----------------------------------------------------------------------------


class _Position(Struct, frozen=True):
    treatment: Treatment
    applied: int  # how many times in a row, this one included


def decide(
    chain: RecordChain,
    chain_n: int,
    outcome: Outcome,
    *,
    plan: Sequence[Treatment],
    max_attempts: int,
    now: datetime,
) -> Decision:
    """What the attempt's end does to record ``chain_n`` of ``chain`` (see the module)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    record = next(r for r in chain.records if r.chain_n == chain_n)
    if outcome.callback_at is not None:
        return _callback(record, outcome, outcome.callback_at, now)
    key = _key(plan, outcome)
    if outcome.final and key[0] == "call_result":
        return _finish(chain, record, outcome, f"disposition {outcome.disposition_code} is final")
    steps = steps_for(plan, key)
    if not steps:
        return _finish(chain, record, outcome, f"no treatment for {describe(key)}")
    position = _position(steps, record.treatments, key)
    if position is None:
        last = record.treatments[-1]
        return _finish(
            chain, record, outcome,
            f"{describe(key)}: sequence {last.sequence} applied {last.applied} times and nothing follows it",
        )
    capped = ""
    if record.attempt >= max_attempts and position.treatment.action in DIALS_AGAIN:
        capped = f"max attempts {max_attempts} reached"
        after = [s for s in steps if s.sequence > position.treatment.sequence and s.action in NEXT_IN_CHAIN]
        if not after:
            return _finish(chain, record, outcome, capped)
        position = _Position(after[0], 1)
    return _apply(chain, record, outcome, position, max_attempts=max_attempts, now=now, capped=capped)


def _callback(record: Record, outcome: Outcome, at: datetime, now: datetime) -> Decision:
    """A callback agreed with the customer wins over the plan: the record is due at that time,
    read in its zone (passed: at once), and its chain waits for it. A campaign callback (type
    6) is dialled like any record; a personal one (type 5) remembers its agent and is dialled
    for that agent (:func:`domain.dialing_queue.may_take`). Either is drawn when due and put
    to the pre-dial gate."""
    local, zone_note = _local(at, record.time_zone)
    due = max(_epoch(local), _epoch(now))
    agent_id = outcome.callback_agent_id
    kind = "campaign" if agent_id is None else "personal"
    change = RecordChange(
        chain_n=record.chain_n,
        record_type=int(RecordType.CAMPAIGN_CALLBACK if agent_id is None else RecordType.PERSONAL_CALLBACK),
        record_status=int(RecordStatus.READY),
        dial_sched_time=due,
        attempt=record.attempt,
        call_result=int(outcome.call_result),
        callback_agent_id=agent_id,
        callback_agent_group=record.callback_agent_group,
    )
    step = TreatmentStep(
        call_result=int(outcome.call_result),
        action=f"{kind}_callback",
        at=_epoch(now),
        disposition_code=outcome.disposition_code,
        dial_sched_time=due,
    )
    past = " (passed: due now)" if _epoch(local) < _epoch(now) else ""
    whose = "" if agent_id is None else f" for agent {agent_id}"
    return Decision(
        action=None,
        record=change,
        next_chain_n=record.chain_n,
        step=step,
        reason=f"{kind} callback{whose} at {at:%Y-%m-%d %H:%M} {record.time_zone}{zone_note}{past} = {_utc(due)}",
    )


def _key(plan: Sequence[Treatment], outcome: Outcome) -> Key:
    if outcome.disposition_code is not None:
        key: Key = ("disposition", outcome.disposition_code)
        if any(key_of_plan(t) == key for t in plan):
            return key
    return ("call_result", int(outcome.call_result))


def _position(steps: list[Treatment], history: Sequence[TreatmentStep], key: Key) -> _Position | None:
    """Where the record stands in the key's sequence after this result (None: used up)."""
    last = history[-1] if history else None
    if last is None or key_of(last) != key:
        return _Position(steps[0], 1)
    current = next((s for s in steps if s.sequence == last.sequence), None)
    if current is not None and last.applied < max(1, current.retry_count):
        return _Position(current, last.applied + 1)
    following = [s for s in steps if s.sequence > last.sequence]
    return _Position(following[0], 1) if following else None


def _apply(
    chain: RecordChain,
    record: Record,
    outcome: Outcome,
    position: _Position,
    *,
    max_attempts: int,
    now: datetime,
    capped: str,
) -> Decision:
    treatment, applied = position.treatment, position.applied
    action = treatment.action
    count = f", {applied} of {treatment.retry_count}" if treatment.retry_count > 1 and action in DIALS_AGAIN else ""
    where = f"{describe(key_of(treatment))}: sequence {treatment.sequence} ({_summary(treatment)}{count})"
    where = f"{capped}: {where}" if capped else where
    step = TreatmentStep(
        call_result=int(outcome.call_result),
        action=action,
        at=_epoch(now),
        sequence=treatment.sequence,
        applied=applied,
        disposition_code=treatment.disposition_code if isinstance(treatment.disposition_code, str) else None,
    )
    if action in DIALS_AGAIN:
        due, how = _due(treatment, applied, record, now)
        record_type = record.record_type
        if action == "assign_to_group":
            record_type = RecordType.CAMPAIGN_CALLBACK
            how = f"callback for {_group(treatment)} {how}"
        elif record_type not in KEPT_TYPES:
            record_type = RecordType.CAMPAIGN_RESCHEDULED
        change = _change(record, outcome, record_type=int(record_type), status=RecordStatus.READY, due=due)
        if action == "assign_to_group":
            change = structs.replace(change, callback_agent_group=_group(treatment))
        return Decision(
            action=action,
            record=change,
            next_chain_n=record.chain_n,
            step=_scheduled(step, due),
            agent_group=_group(treatment) if action == "assign_to_group" else "",
            reason=f"{where}: {how}",
        )
    if action in NEXT_IN_CHAIN:
        following = next_in_chain(chain, record.chain_n, max_attempts=max_attempts)
        return _next_in_chain(chain, record, outcome, following, treatment, step, now, where)
    status = {
        "mark_agent_error": RecordStatus.AGENT_ERROR,
        "cancel_record": RecordStatus.CANCELLED,
    }.get(action, RecordStatus.UPDATED)
    stamp = action == "update_all_records_in_chain"
    what = {
        "mark_agent_error": "marked agent error",
        "cancel_record": "record cancelled",
        "update_all_records_in_chain": "all records of the chain updated",
        "no_treatment": "no treatment",
    }[action]
    return Decision(
        action=action,
        record=_change(record, outcome, status=status),
        next_chain_n=None,
        others=_closed(chain, record, outcome if stamp else None),
        step=step,
        reason=f"{where}: {what}; chain finished",
    )


def _next_in_chain(
    chain: RecordChain,
    record: Record,
    outcome: Outcome,
    following: Record | None,
    treatment: Treatment,
    step: TreatmentStep,
    now: datetime,
    where: str,
) -> Decision:
    done = _change(record, outcome, status=RecordStatus.UPDATED)
    if following is None:
        return Decision(
            action=treatment.action,
            record=done,
            next_chain_n=None,
            others=_closed(chain, record, None),
            step=step,
            reason=f"{where}: no record left to dial; chain finished",
        )
    due = following.dial_sched_time
    how = f"record {following.chain_n} next"
    if treatment.action != "next_in_chain":
        later, when = _due(treatment, 1, following, now)
        due = later if due is None else max(due, later)
        how += f", {when}"
    moved = RecordChange(
        chain_n=following.chain_n,
        record_type=following.record_type,
        record_status=following.record_status,
        dial_sched_time=due,
        attempt=following.attempt,
        call_result=following.call_result,
        callback_agent_id=following.callback_agent_id,
        callback_agent_group=following.callback_agent_group,
    )
    others = (moved,) if due != following.dial_sched_time else ()
    return Decision(
        action=treatment.action,
        record=done,
        next_chain_n=following.chain_n,
        others=others,
        step=_scheduled(step, due),
        reason=f"{where}: {how}",
    )


def next_in_chain(chain: RecordChain, after: int, *, max_attempts: int) -> Record | None:
    """The first record after position ``after`` in chain order that can still be dialled."""
    for record in sorted(chain.records, key=lambda r: r.chain_n):
        if record.chain_n > after and is_candidate(record, max_attempts):
            return record
    return None


def _due(treatment: Treatment, applied: int, record: Record, now: datetime) -> tuple[int, str]:
    """When a retry (the ``applied``-th in a row) or a delayed next-in-chain falls due."""
    if treatment.action == "redial":
        return _epoch(now), "redial now"
    if treatment.action in NEEDS_DATE_TIME:
        assert isinstance(treatment.date_time, datetime)  # plan_problem requires it
        at, zone_note = _local(treatment.date_time, record.time_zone)
        due = max(_epoch(at), _epoch(now))
        when = f"at {treatment.date_time:%Y-%m-%d %H:%M} {record.time_zone}{zone_note}"
        past = " (passed: due now)" if _epoch(at) < _epoch(now) else ""
        return due, f"{'retry' if treatment.action == 'retry_at' else 'dial'} {when}{past} = {_utc(due)}"
    minutes = treatment.interval_minutes
    if treatment.action == "retry_in":
        minutes += treatment.increment_minutes * (applied - 1)
    due = _epoch(now + timedelta(minutes=minutes))
    verb = "dial" if treatment.action == "next_in_chain_after" else "retry"
    return due, f"{verb} at {_utc(due)}"


def _local(date_time: datetime, zone: str) -> tuple[datetime, str]:
    """``date_time`` as wall-clock time in ``zone`` (fold 0: see the module's notes)."""
    try:
        return date_time.replace(tzinfo=ZoneInfo(zone), fold=0), ""
    except (ZoneInfoNotFoundError, ValueError):
        return date_time.replace(tzinfo=UTC), " (zone unknown: read as UTC)"


def _group(treatment: Treatment) -> str:
    return treatment.agent_group if isinstance(treatment.agent_group, str) else ""


def _summary(treatment: Treatment) -> str:
    """The step as a planner wrote it: "retry_in 30 min +5"."""
    text: str = treatment.action
    if treatment.action in {"retry_in", "next_in_chain_after", "assign_to_group"} and treatment.interval_minutes:
        text += f" {treatment.interval_minutes} min"
        if treatment.action == "retry_in" and treatment.increment_minutes:
            text += f" +{treatment.increment_minutes}"
    return text


def _finish(chain: RecordChain, record: Record, outcome: Outcome, why: str) -> Decision:
    """No step applies: the record is done and so is its chain."""
    return Decision(
        action=None,
        record=_change(record, outcome, status=RecordStatus.UPDATED),
        next_chain_n=None,
        others=_closed(chain, record, None),
        reason=f"{why}: record updated; chain finished",
    )


def _closed(chain: RecordChain, treated: Record, stamp: Outcome | None) -> tuple[RecordChange, ...]:
    """The chain's other records still waiting, closed with it (7, chain updated); with
    ``stamp``, every other record that has not ended on its own also takes the call result."""
    closed = []
    for other in sorted(chain.records, key=lambda r: r.chain_n):
        if other.chain_n == treated.chain_n or other.record_status not in WAITING:
            continue
        closed.append(
            RecordChange(
                chain_n=other.chain_n,
                record_type=other.record_type,
                record_status=int(RecordStatus.CHAIN_UPDATED),
                dial_sched_time=other.dial_sched_time,
                attempt=other.attempt,
                call_result=int(stamp.call_result) if stamp is not None else other.call_result,
                callback_agent_id=other.callback_agent_id,
                callback_agent_group=other.callback_agent_group,
            )
        )
    return tuple(closed)


def _change(
    record: Record,
    outcome: Outcome,
    *,
    status: int,
    record_type: int | None = None,
    due: int | None = None,
) -> RecordChange:
    kind = record.record_type if record_type is None else record_type
    return RecordChange(
        chain_n=record.chain_n,
        record_type=kind,
        record_status=int(status),
        dial_sched_time=record.dial_sched_time if due is None else due,
        attempt=record.attempt,
        call_result=int(outcome.call_result),
        # A retry keeps an agent's callback its own; another type has no agent.
        callback_agent_id=record.callback_agent_id if kind == RecordType.PERSONAL_CALLBACK else None,
        # A record given to an agent group stays that group's until a step gives it to another.
        callback_agent_group=record.callback_agent_group,
    )


def _scheduled(step: TreatmentStep, due: int | None) -> TreatmentStep:
    return TreatmentStep(
        call_result=step.call_result,
        action=step.action,
        at=step.at,
        sequence=step.sequence,
        applied=step.applied,
        disposition_code=step.disposition_code,
        dial_sched_time=due,
    )


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _utc(epoch: int) -> str:
    return f"{datetime.fromtimestamp(epoch, UTC):%Y-%m-%d %H:%M} UTC"
