"""Treatment tables as tests: each row a rule of the product's documentation (outbound-facts.md,
"Treatments") or a choice documented in :mod:`domain.treatments`.

Successive decisions are chained by :func:`treated`, a hand-written stand-in for the fold (the
record takes the decision's fields and its step), so the expected times and positions below are
the product's, never recomputed by the module; the last section runs the same rules through
the stored events (:func:`domain.treatments.treat`) and the chain's own fold.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest
from msgspec import structs

from domain import dialing_queue, record_chain, treatments
from domain.codes import CallResult, RecordStatus, RecordType
from domain.dialing_profile import validate
from domain.errors import RuleViolation
from domain.record_chain import RecordChain
from domain.treatments import Decision, Outcome
from schemas import registry
from schemas.profiles import DialingSettings, Treatment
from schemas.records import Record, RecordChainImported, TreatmentStep
from tests.domain import builders
from tests.domain.builders import ACCOUNT_ID, LIST_ID

NOW = datetime(2025, 3, 14, 10, 5, tzinfo=UTC)
CHAIN = record_chain.chain_id(LIST_ID, "C1")
MAX = 10
MINUTE = 60

BUSY = CallResult.BUSY
NO_ANSWER = CallResult.NO_ANSWER
MACHINE = CallResult.ANSWERING_MACHINE
ANSWER = CallResult.ANSWER

# busy -> retry in 30 minutes, +5 each time, 3 times -> next record in the chain.
BUSY_PLAN = [
    Treatment(call_result=BUSY, sequence=1, action="retry_in", retry_count=3, interval_minutes=30, increment_minutes=5),
    Treatment(call_result=BUSY, sequence=2, action="next_in_chain"),
]
# answering machine -> next in chain after 60 minutes.
MACHINE_PLAN = [Treatment(call_result=MACHINE, action="next_in_chain_after", interval_minutes=60)]
NO_ANSWER_PLAN = [Treatment(call_result=NO_ANSWER, action="retry_in", retry_count=2, interval_minutes=10)]


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def a_record(chain_n: int, **fields: Any) -> Record:
    return builders.a_record(CHAIN, chain_n, **fields)


def a_chain(*records: Record) -> RecordChain:
    """A chain as the store holds it once record 1's attempt ended (status 3, attempt counted)."""
    records = records or (a_record(1, record_status=3, attempt=1), a_record(2), a_record(3))
    event = RecordChainImported(
        originator_id=CHAIN, originator_version=1, timestamp=NOW - timedelta(days=1),
        account_id=ACCOUNT_ID, list_id=LIST_ID, client_id="C1",
        job_id=UUID("0a000000-0000-4000-8000-0000000000d1"), line=2, records=list(records),
    )
    chain = record_chain.project(None, [event])
    assert chain is not None
    return chain


def decide(
    chain: RecordChain,
    result: int,
    plan: list[Treatment],
    *,
    chain_n: int = 1,
    now: datetime = NOW,
    max_attempts: int = MAX,
    disposition: str | None = None,
) -> Decision:
    outcome = Outcome(call_result=result, disposition_code=disposition)
    return treatments.decide(chain, chain_n, outcome, plan=plan, max_attempts=max_attempts, now=now)


def treated(chain: RecordChain, decision: Decision) -> RecordChain:
    """The chain once the decision is stored, and the next attempt on the record dialled next
    has ended (one more attempt, status 3)."""
    changes = {c.chain_n: c for c in (decision.record, *decision.others)}
    records = []
    for record in chain.records:
        if record.chain_n in changes:
            c = changes[record.chain_n]
            record = structs.replace(
                record, record_type=c.record_type, record_status=c.record_status,
                dial_sched_time=c.dial_sched_time, attempt=c.attempt, call_result=c.call_result,
            )
        if record.chain_n == decision.record.chain_n and decision.step is not None:
            record = structs.replace(record, treatments=[*record.treatments, decision.step])
        if record.chain_n == decision.next_chain_n:
            record = structs.replace(record, record_status=3, attempt=record.attempt + 1)
        records.append(record)
    return structs.replace(chain, records=records)


def record_of(chain: RecordChain, chain_n: int) -> Record:
    return next(r for r in chain.records if r.chain_n == chain_n)


# The documented rows -----------------------------------------------------------------------


def test_busy_retries_in_30_then_35_then_40_minutes_then_moves_to_the_next_record():
    chain, now = a_chain(), NOW
    seen = []
    for _ in range(4):
        decision = decide(chain, BUSY, BUSY_PLAN, now=now)
        seen.append(decision)
        due = decision.record.dial_sched_time
        now = datetime.fromtimestamp(due, UTC) if decision.next_chain_n == 1 and due else now
        chain = treated(chain, decision)

    first, second, third, fourth = seen
    assert [d.action for d in seen] == ["retry_in", "retry_in", "retry_in", "next_in_chain"]
    assert first.record.dial_sched_time == epoch(datetime(2025, 3, 14, 10, 35, tzinfo=UTC))
    assert second.record.dial_sched_time == epoch(datetime(2025, 3, 14, 11, 10, tzinfo=UTC))  # +35
    assert third.record.dial_sched_time == epoch(datetime(2025, 3, 14, 11, 50, tzinfo=UTC))  # +40
    assert first.reason == "busy (6): sequence 1 (retry_in 30 min +5, 1 of 3): retry at 2025-03-14 10:35 UTC"
    for retry in (first, second, third):
        assert (retry.record.record_type, retry.record.record_status) == (RecordType.CAMPAIGN_RESCHEDULED, 1)
        assert retry.next_chain_n == 1 and not retry.chain_finished
    assert [(d.step.sequence, d.step.applied) for d in seen if d.step] == [(1, 1), (1, 2), (1, 3), (2, 1)]
    assert fourth.next_chain_n == 2
    assert fourth.record.record_status == RecordStatus.UPDATED
    assert fourth.others == ()  # record 2 is dialled as it stands
    assert record_of(chain, 1).attempt == 4


def test_answering_machine_moves_to_the_next_record_after_60_minutes():
    decision = decide(a_chain(), MACHINE, MACHINE_PLAN)

    assert decision.action == "next_in_chain_after"
    assert decision.record.record_status == RecordStatus.UPDATED
    assert decision.next_chain_n == 2
    (moved,) = decision.others
    assert (moved.chain_n, moved.record_status, moved.dial_sched_time) == (2, 1, epoch(NOW) + 60 * MINUTE)
    assert decision.step == TreatmentStep(
        call_result=9, action="next_in_chain_after", at=epoch(NOW), sequence=1, applied=1,
        dial_sched_time=epoch(NOW) + 60 * MINUTE,
    )
    assert decision.reason.endswith("record 2 next, dial at 2025-03-14 11:05 UTC")


def test_next_in_chain_after_never_brings_a_later_record_forward():
    later = epoch(NOW) + 5 * 3600
    chain = a_chain(a_record(1, record_status=3, attempt=1), a_record(2, dial_sched_time=later))

    decision = decide(chain, MACHINE, MACHINE_PLAN)

    assert decision.next_chain_n == 2
    assert decision.others == ()


def test_a_different_result_restarts_the_sequence():
    chain = a_chain()
    plan = BUSY_PLAN + NO_ANSWER_PLAN
    busy = decide(chain, BUSY, plan)
    chain = treated(chain, busy)
    no_answer = decide(chain, NO_ANSWER, plan)
    chain = treated(chain, no_answer)
    busy_again = decide(chain, BUSY, plan)

    assert (busy.step.sequence, busy.step.applied) == (1, 1)  # type: ignore[union-attr]
    assert no_answer.record.dial_sched_time == epoch(NOW) + 10 * MINUTE
    assert (no_answer.step.sequence, no_answer.step.applied) == (1, 1)  # type: ignore[union-attr]
    # Back to busy's first retry: 30 minutes, not the 35 of a second one.
    assert busy_again.record.dial_sched_time == epoch(NOW) + 30 * MINUTE
    assert (busy_again.step.sequence, busy_again.step.applied) == (1, 1)  # type: ignore[union-attr]


def test_the_same_result_continues_where_the_history_left_it():
    history = [TreatmentStep(call_result=6, action="retry_in", at=epoch(NOW) - 3600, sequence=1, applied=2)]
    chain = a_chain(a_record(1, record_status=3, attempt=3, call_result=6, treatments=history), a_record(2))

    decision = decide(chain, BUSY, BUSY_PLAN)

    assert decision.record.dial_sched_time == epoch(NOW) + 40 * MINUTE
    assert (decision.step.sequence, decision.step.applied) == (1, 3)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("plan", "next_chain_n", "action"),
    [
        pytest.param(BUSY_PLAN, 2, "next_in_chain", id="retries-skipped-for-next-in-chain"),
        pytest.param(BUSY_PLAN[:1], None, None, id="no-next-in-chain-chain-ends"),
    ],
)
def test_a_record_at_the_maximum_attempts_is_not_retried(plan, next_chain_n, action):
    chain = a_chain(a_record(1, record_status=3, attempt=MAX), a_record(2))

    decision = decide(chain, BUSY, plan)

    assert decision.action == action
    assert decision.next_chain_n == next_chain_n
    assert decision.record.record_status == RecordStatus.UPDATED
    assert decision.record.dial_sched_time is None
    assert decision.reason.startswith("max attempts 10 reached")


def test_next_in_chain_skips_records_that_cannot_be_dialled():
    chain = a_chain(
        a_record(1, record_status=3, attempt=1),
        a_record(2, attempt=MAX),  # out of attempts
        a_record(3, record_type=RecordType.NO_CALL),  # suppressed
        a_record(4, record_status=RecordStatus.CANCELLED),
        a_record(5),
    )

    assert decide(chain, BUSY, [BUSY_PLAN[1]]).next_chain_n == 5


def test_next_in_chain_on_the_last_record_finishes_the_chain():
    chain = a_chain(a_record(1, record_status=RecordStatus.UPDATED), a_record(2, record_status=3, attempt=1))

    decision = decide(chain, MACHINE, MACHINE_PLAN, chain_n=2)

    assert decision.chain_finished
    assert decision.others == ()
    assert decision.reason.endswith("no record left to dial; chain finished")


# Actions that end the record and close its chain --------------------------------------------


@pytest.mark.parametrize(
    ("action", "status", "others_result"),
    [
        ("mark_agent_error", RecordStatus.AGENT_ERROR, 28),
        ("cancel_record", RecordStatus.CANCELLED, 28),
        ("update_all_records_in_chain", RecordStatus.UPDATED, int(CallResult.WRONG_PARTY)),
        ("no_treatment", RecordStatus.UPDATED, 28),
    ],
)
def test_final_actions_end_the_record_and_close_the_chain(action, status, others_result):
    chain = a_chain(
        a_record(1, record_status=3, attempt=1),
        a_record(2),
        a_record(3, record_status=RecordStatus.CANCELLED),  # already ended: left as it is
        a_record(4, record_status=RecordStatus.CHAIN_READY),
    )

    decision = decide(chain, CallResult.WRONG_PARTY, [Treatment(call_result=40, action=action)])

    assert decision.action == action
    assert decision.record.record_status == status
    assert decision.record.call_result == CallResult.WRONG_PARTY
    assert decision.chain_finished
    assert [(o.chain_n, o.record_status, o.call_result) for o in decision.others] == [
        (2, RecordStatus.CHAIN_UPDATED, others_result),
        (4, RecordStatus.CHAIN_UPDATED, others_result),
    ]
    assert decision.step is not None and decision.step.action == action


def test_agent_error_applies_at_the_maximum_attempts():
    chain = a_chain(a_record(1, record_status=3, attempt=MAX))
    plan = [Treatment(call_result=CallResult.AGENT_CALLBACK_ERROR, action="mark_agent_error")]

    decision = decide(chain, CallResult.AGENT_CALLBACK_ERROR, plan)

    assert decision.record.record_status == 6


def test_a_result_without_treatment_updates_the_record_and_finishes_the_chain():
    decision = decide(a_chain(), ANSWER, BUSY_PLAN)

    assert decision.action is None and decision.step is None
    assert decision.record.record_status == RecordStatus.UPDATED
    assert [(o.chain_n, o.record_status) for o in decision.others] == [(2, 7), (3, 7)]
    assert decision.reason == "no treatment for answer (33): record updated; chain finished"


def test_a_sequence_used_up_without_next_in_chain_finishes_the_chain():
    history = [TreatmentStep(call_result=7, action="retry_in", at=epoch(NOW) - 600, sequence=1, applied=2)]
    chain = a_chain(a_record(1, record_status=3, attempt=3, treatments=history), a_record(2))

    decision = decide(chain, NO_ANSWER, NO_ANSWER_PLAN)

    assert decision.action is None
    assert decision.chain_finished
    assert decision.reason.startswith("no answer (7): sequence 1 applied 2 times and nothing follows it")


# Retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "local", "utc"),
    [
        # New York springs forward on 9 March 2025: 10:00 is EDT (-4), the day before EST (-5).
        ("America/New_York", datetime(2025, 3, 9, 10, 0), datetime(2025, 3, 9, 14, 0, tzinfo=UTC)),
        ("America/New_York", datetime(2025, 3, 8, 10, 0), datetime(2025, 3, 8, 15, 0, tzinfo=UTC)),
        # 02:30 does not exist that night: read with the offset before the change (03:30 EDT).
        ("America/New_York", datetime(2025, 3, 9, 2, 30), datetime(2025, 3, 9, 7, 30, tzinfo=UTC)),
        # 01:30 happens twice on 2 November 2025: the first (EDT).
        ("America/New_York", datetime(2025, 11, 2, 1, 30), datetime(2025, 11, 2, 5, 30, tzinfo=UTC)),
        ("Europe/London", datetime(2025, 3, 30, 9, 0), datetime(2025, 3, 30, 8, 0, tzinfo=UTC)),
        ("Not/AZone", datetime(2025, 3, 30, 9, 0), datetime(2025, 3, 30, 9, 0, tzinfo=UTC)),
    ],
)
def test_retry_at_reads_the_date_and_time_in_the_records_zone(zone, local, utc):
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    chain = a_chain(a_record(1, record_status=3, attempt=1, time_zone=zone))
    plan = [Treatment(call_result=BUSY, action="retry_at", date_time=local)]

    decision = decide(chain, BUSY, plan, now=now)

    assert decision.record.dial_sched_time == epoch(utc)
    assert decision.record.record_type == RecordType.CAMPAIGN_RESCHEDULED
    assert decision.next_chain_n == 1


def test_retry_at_a_date_already_past_is_due_at_once():
    plan = [Treatment(call_result=BUSY, action="retry_at", date_time=datetime(2025, 3, 1, 9, 0))]

    decision = decide(a_chain(), BUSY, plan)

    assert decision.record.dial_sched_time == epoch(NOW)
    assert "(passed: due now)" in decision.reason


def test_next_in_chain_at_reads_the_time_in_the_next_records_zone():
    chain = a_chain(a_record(1, record_status=3, attempt=1), a_record(2, time_zone="America/Los_Angeles"))
    plan = [Treatment(call_result=MACHINE, action="next_in_chain_at", date_time=datetime(2025, 3, 15, 9, 0))]

    decision = decide(chain, MACHINE, plan)

    assert decision.next_chain_n == 2
    assert decision.others[0].dial_sched_time == epoch(datetime(2025, 3, 15, 16, 0, tzinfo=UTC))  # PDT


def test_redial_is_due_at_once():
    decision = decide(a_chain(), NO_ANSWER, [Treatment(call_result=NO_ANSWER, action="redial", retry_count=2)])

    assert decision.record.dial_sched_time == epoch(NOW)
    assert decision.record.record_status == RecordStatus.READY


def test_assign_to_group_makes_a_campaign_callback_for_the_group():
    plan = [Treatment(call_result=CallResult.AGENT_CALLBACK_ERROR, action="assign_to_group", agent_group="Team B")]

    decision = decide(a_chain(), CallResult.AGENT_CALLBACK_ERROR, plan)

    assert decision.record.record_type == RecordType.CAMPAIGN_CALLBACK
    assert decision.record.record_status == RecordStatus.READY
    assert decision.record.dial_sched_time == epoch(NOW)
    assert decision.agent_group == "Team B"
    assert decision.record.callback_agent_group == "Team B"  # only Team B's campaign groups draw it


def test_a_record_given_to_a_group_stays_its_through_a_retry():
    given = a_chain(a_record(1, record_status=3, attempt=1, record_type=RecordType.CAMPAIGN_CALLBACK, callback_agent_group="Team B"))

    decision = decide(given, BUSY, BUSY_PLAN)

    assert decision.record.record_status == RecordStatus.READY
    assert decision.record.callback_agent_group == "Team B"


def test_a_suppressed_record_stays_no_call_when_retried():
    chain = a_chain(a_record(1, record_status=3, attempt=1, record_type=RecordType.NO_CALL))

    decision = decide(chain, BUSY, BUSY_PLAN)

    assert decision.record.record_type == RecordType.NO_CALL


# Dispositions ------------------------------------------------------------------------------


CALL_ME_LATER = [Treatment(disposition_code="CALL_ME_LATER", action="retry_in", retry_count=2, interval_minutes=120)]


def test_a_disposition_keys_its_own_steps_and_numbering():
    chain = a_chain()
    busy = decide(chain, BUSY, BUSY_PLAN + CALL_ME_LATER)
    chain = treated(chain, busy)

    later = decide(chain, ANSWER, BUSY_PLAN + CALL_ME_LATER, disposition="CALL_ME_LATER")

    assert later.record.dial_sched_time == epoch(NOW) + 120 * MINUTE
    assert later.step is not None
    assert (later.step.disposition_code, later.step.call_result, later.step.sequence, later.step.applied) == (
        "CALL_ME_LATER", 33, 1, 1,
    )
    assert later.reason.startswith("disposition CALL_ME_LATER: sequence 1")


def test_a_disposition_without_steps_falls_back_to_the_call_result():
    decision = decide(a_chain(), BUSY, BUSY_PLAN + CALL_ME_LATER, disposition="SALE")

    assert decision.action == "retry_in"
    assert decision.step is not None and decision.step.disposition_code is None


# The plan ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "field"),
    [
        ([Treatment(action="redial")], "treatments[0].call_result"),
        ([Treatment(call_result=6, disposition_code="X", action="redial")], "treatments[0].call_result"),
        ([*BUSY_PLAN, Treatment(call_result=6, sequence=2, action="redial")], "treatments[2].sequence"),
        ([*BUSY_PLAN, Treatment(call_result=6, sequence=3, action="redial")], "treatments[2].sequence"),
        ([Treatment(call_result=6, action="retry_at")], "treatments[0].date_time"),
        ([Treatment(call_result=6, action="next_in_chain_at")], "treatments[0].date_time"),
        ([Treatment(call_result=6, action="assign_to_group")], "treatments[0].agent_group"),
    ],
)
def test_a_plan_the_results_cannot_follow_is_refused(plan, field):
    with pytest.raises(RuleViolation) as refused:
        validate(DialingSettings(treatments=plan))

    assert refused.value.field == f"settings.{field}"


def test_a_plan_of_several_keys_is_accepted():
    validate(DialingSettings(treatments=BUSY_PLAN + MACHINE_PLAN + NO_ANSWER_PLAN + CALL_ME_LATER))


def test_a_treatment_without_the_new_fields_reads_and_writes_as_before():
    stored = (
        b'{"call_result":7,"sequence":1,"action":"next_in_chain","retry_count":1,'
        b'"interval_minutes":0,"increment_minutes":0}'
    )

    treatment = msgspec.json.decode(stored, type=Treatment)

    assert treatment == Treatment(call_result=7, action="next_in_chain")
    assert msgspec.json.encode(treatment) == stored


def test_a_treatment_step_round_trips_on_the_record():
    step = TreatmentStep(call_result=6, action="retry_in", at=1, sequence=2, applied=3, dial_sched_time=5)
    record = a_record(1, treatments=[step, TreatmentStep(call_result=6, action="redial", at=0)])

    assert msgspec.json.decode(msgspec.json.encode(record), type=Record) == record


# Stored: the attempt's end and its treatment, folded as the store folds them ----------------

ATTEMPTS = [UUID(f"0a000000-0000-4000-8000-0000000a000{n}") for n in range(1, 10)]
GROUP = UUID("0a000000-0000-4000-8000-00000000000c")


def fresh_chain() -> RecordChain:
    return a_chain(a_record(1), a_record(2), a_record(3))


def stored(chain: RecordChain, events: list[Any]) -> RecordChain:
    """The chain after ``events``, each checked to survive the wire contract."""
    for event in events:
        assert registry.decode_any(registry.encode(event)) == event
    after = record_chain.project(chain, events)
    assert after is not None
    return after


def dialled(chain: RecordChain, attempt: UUID, result: int, plan: list[Treatment], now: datetime) -> RecordChain:
    """Draw the chain's next record at ``now``, then end its attempt with ``result``."""
    record = dialing_queue.next_record(chain, now=now, max_attempts=MAX)
    assert record is not None, "nothing to draw"
    chain = stored(
        chain,
        dialing_queue.retrieve(
            chain, record.chain_n, campaign_group_id=GROUP, attempt_id=attempt, retrieved_by="t", now=now,
            max_attempts=MAX,
        ),
    )
    events = treatments.treat(
        chain, record.chain_n, Outcome(call_result=result), attempt_id=attempt, call_time=epoch(now),
        plan=plan, max_attempts=MAX, now=now,
    )
    assert [e.tag() for e in events] == ["record.updated", "record.treated"]
    return stored(chain, events)


def next_due(chain: RecordChain, now: datetime) -> int | None:
    record = dialing_queue.next_record(chain, now=now, max_attempts=MAX)
    return None if record is None else record.chain_n


def test_stored_busy_three_retries_then_the_next_record_of_the_chain() -> None:
    chain, now = fresh_chain(), NOW
    for n, wait in enumerate([30, 35, 40]):
        chain = dialled(chain, ATTEMPTS[n], BUSY, BUSY_PLAN, now)
        record = chain.records[0]
        assert (record.record_type, record.record_status, record.attempt) == (
            RecordType.CAMPAIGN_RESCHEDULED, RecordStatus.READY, n + 1,
        )
        assert record.dial_sched_time == epoch(now + timedelta(minutes=wait))
        assert [(s.sequence, s.applied) for s in record.treatments][-1] == (1, n + 1)
        assert next_due(chain, now + timedelta(minutes=wait) - timedelta(seconds=1)) is None  # waits for it
        now += timedelta(minutes=wait)
        assert next_due(chain, now) == 1
    chain = dialled(chain, ATTEMPTS[3], BUSY, BUSY_PLAN, now)
    assert [(r.record_status, r.attempt) for r in chain.records] == [
        (RecordStatus.UPDATED, 4), (RecordStatus.READY, 0), (RecordStatus.READY, 0)
    ]
    assert chain.records[0].treatments[-1].action == "next_in_chain"
    assert next_due(chain, now) == 2


def test_stored_a_result_with_no_step_finishes_the_chain_and_closes_its_waiting_records() -> None:
    chain = dialled(fresh_chain(), ATTEMPTS[0], ANSWER, BUSY_PLAN, NOW)
    assert [r.record_status for r in chain.records] == [
        RecordStatus.UPDATED, RecordStatus.CHAIN_UPDATED, RecordStatus.CHAIN_UPDATED
    ]
    assert chain.records[0].treatments == []  # no step applied: nothing in the history
    assert next_due(chain, NOW + timedelta(days=1)) is None


def test_stored_a_treatment_is_applied_once_and_only_for_the_attempt_that_drew_the_record() -> None:
    chain = stored(
        fresh_chain(),
        dialing_queue.retrieve(
            fresh_chain(), 1, campaign_group_id=GROUP, attempt_id=ATTEMPTS[0], retrieved_by="t", now=NOW,
            max_attempts=MAX,
        ),
    )
    kwargs: dict[str, Any] = dict(call_time=epoch(NOW), plan=BUSY_PLAN, max_attempts=MAX, now=NOW)
    assert treatments.treat(chain, 1, Outcome(call_result=BUSY), attempt_id=ATTEMPTS[1], **kwargs) == []
    events = treatments.treat(chain, 1, Outcome(call_result=BUSY), attempt_id=ATTEMPTS[0], **kwargs)
    after = stored(chain, events)
    assert treatments.treat(after, 1, Outcome(call_result=BUSY), attempt_id=ATTEMPTS[0], **kwargs) == []


def test_stored_a_stale_result_is_not_treated_and_holds_the_chain() -> None:
    chain = stored(
        fresh_chain(),
        dialing_queue.retrieve(
            fresh_chain(), 1, campaign_group_id=GROUP, attempt_id=ATTEMPTS[0], retrieved_by="t", now=NOW,
            max_attempts=MAX,
        ),
    )
    events = treatments.treat(
        chain, 1, Outcome(call_result=CallResult.STALE), attempt_id=ATTEMPTS[0], call_time=epoch(NOW),
        plan=BUSY_PLAN, max_attempts=MAX, now=NOW,
    )
    assert [e.tag() for e in events] == ["record.updated"]
    after = stored(chain, events)
    assert after.records[0].record_status == RecordStatus.STALE
    assert next_due(after, NOW + timedelta(days=1)) is None
