"""The dialing queue of a chain: which record a dialer may draw now, and the decisions that
draw it, give it back, finish it and settle it when its dialer died.

Chains are built by folding events (an import, then the queue's own events) with
``record_chain.project``, so the fold is tested with the decisions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain import dialing_queue, record_chain
from domain.codes import CallResult, RecordStatus, RecordType
from domain.record_chain import RecordChain
from schemas import registry
from schemas.base import Event
from schemas.records import (
    Record,
    RecordChainDeleted,
    RecordChainImported,
    RecordChainReplaced,
    RecordChainRestored,
    RecordChainSuppressed,
    RecordRetrieved,
    RecordReturned,
    RecordUpdated,
    Suppression,
)
from tests.domain import builders

# 14:00 UTC on a Tuesday after the US switched to summer time: 10:00 in New York (EDT),
# 07:00 in Los Angeles (PDT), 23:00 in Tokyo.
NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
ACCOUNT = UUID("0a000000-0000-4000-8000-000000000001")
LIST = UUID("0a000000-0000-4000-8000-0000000000a1")
GROUP = UUID("0a000000-0000-4000-8000-0000000000b1")
ATTEMPT = UUID("0a000000-0000-4000-8000-0000000000c1")
OTHER_ATTEMPT = UUID("0a000000-0000-4000-8000-0000000000c2")
CHAIN = record_chain.chain_id(LIST, "C1")
MAX = 3
HOUR = 3600


def a_record(chain_n: int, **fields: Any) -> Record:
    return builders.a_record(CHAIN, chain_n, **fields)


def imported(*records: Record) -> RecordChainImported:
    return RecordChainImported(
        originator_id=CHAIN,
        originator_version=1,
        timestamp=NOW - timedelta(days=1),
        account_id=ACCOUNT,
        list_id=LIST,
        client_id="C1",
        job_id=UUID("0a000000-0000-4000-8000-0000000000d1"),
        line=2,
        records=list(records) or [a_record(1), a_record(2)],
    )


def a_chain(*records: Record) -> RecordChain:
    chain = record_chain.project(None, [imported(*records)])
    assert chain is not None
    return chain


def then(chain: RecordChain, events: list[Event]) -> RecordChain:
    """The chain after the events, each checked to survive the wire contract."""
    for event in events:
        assert registry.decode_any(registry.encode(event)) == event
    after = record_chain.project(chain, events)
    assert after is not None
    return after


def next_n(chain: RecordChain, now: datetime = NOW, max_attempts: int = MAX) -> int | None:
    record = dialing_queue.next_record(chain, now=now, max_attempts=max_attempts)
    return None if record is None else record.chain_n


def drawn(
    chain: RecordChain, chain_n: int = 1, attempt_id: UUID = ATTEMPT
) -> tuple[RecordChain, list[Event]]:
    events = dialing_queue.retrieve(
        chain,
        chain_n,
        campaign_group_id=GROUP,
        attempt_id=attempt_id,
        retrieved_by="dialer-1",
        now=NOW,
        max_attempts=MAX,
    )
    return then(chain, events), events


def record_of(chain: RecordChain, chain_n: int) -> Record:
    return next(r for r in chain.records if r.chain_n == chain_n)


# Which record is next --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record_type", "dialable"),
    [
        (RecordType.GENERAL, True),
        (RecordType.CAMPAIGN_RESCHEDULED, True),
        (RecordType.CAMPAIGN_CALLBACK, True),
        (RecordType.NO_RECORD_TYPE, False),
        (RecordType.UNKNOWN, False),
        (RecordType.PERSONAL_RESCHEDULED, False),
        (RecordType.PERSONAL_CALLBACK, False),
        (RecordType.NO_CALL, False),
    ],
)
def test_general_rescheduled_and_campaign_callback_records_are_dialable_others_skipped_to_the_next(
    record_type: int, dialable: bool
) -> None:
    chain = a_chain(a_record(1, record_type=record_type), a_record(2))
    assert next_n(chain) == (1 if dialable else 2)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (RecordStatus.READY, 1),
        (RecordStatus.CANCELLED, 2),  # not ready: skipped to the next
        (RecordStatus.AGENT_ERROR, 2),
        (RecordStatus.MISSED_CALLBACK, 2),
        (RecordStatus.RETRIEVED, None),  # the chain holds a record: nothing to draw
        (RecordStatus.UPDATED, 2),  # done: its treatment closed the chain, or moved it on
        (RecordStatus.STALE, None),
    ],
)
def test_only_ready_records_are_drawn_and_a_held_record_holds_its_whole_chain(
    status: int, expected: int | None
) -> None:
    chain = a_chain(a_record(1, record_status=status), a_record(2))
    assert next_n(chain) == expected


def test_a_record_stale_later_in_the_chain_holds_the_records_before_it_too() -> None:
    chain = a_chain(a_record(1), a_record(2, record_status=RecordStatus.STALE))
    assert next_n(chain) is None


def test_a_record_is_drawn_once_due_and_its_chain_waits_for_it_meanwhile() -> None:
    due = int(NOW.timestamp())
    chain = a_chain(a_record(1, dial_sched_time=due + 1), a_record(2))
    assert next_n(chain) is None  # record 2 is not drawn ahead of record 1
    assert next_n(chain, NOW + timedelta(seconds=1)) == 1
    assert next_n(a_chain(a_record(1, dial_sched_time=due))) == 1
    assert next_n(a_chain(a_record(1, dial_sched_time=due - 3600))) == 1


def test_records_at_the_maximum_of_attempts_are_skipped_to_the_next() -> None:
    chain = a_chain(a_record(1, attempt=MAX), a_record(2, attempt=MAX - 1), a_record(3))
    assert next_n(chain) == 2
    assert next_n(chain, max_attempts=MAX + 1) == 1
    assert next_n(a_chain(a_record(1, attempt=MAX))) is None


def test_records_are_taken_in_chain_order_whatever_order_the_chain_lists_them() -> None:
    chain = a_chain(a_record(3), a_record(1), a_record(2))
    assert next_n(chain) == 1


@pytest.mark.parametrize(
    ("zone", "second_zone", "daily_from", "daily_till", "inside"),
    [
        ("America/New_York", None, 9 * HOUR, 17 * HOUR, True),  # 10:00 local
        ("America/New_York", None, 10 * HOUR, 17 * HOUR, True),  # from is inclusive
        ("America/New_York", None, 8 * HOUR, 10 * HOUR, False),  # till is exclusive
        ("America/Los_Angeles", None, 9 * HOUR, 17 * HOUR, False),  # 07:00 local
        ("America/New_York", "America/Los_Angeles", 9 * HOUR, 17 * HOUR, False),  # both zones must allow
        ("America/New_York", "America/Chicago", 9 * HOUR, 17 * HOUR, True),  # 10:00 and 09:00
        ("America/New_York", None, None, 9 * HOUR, False),  # unset from: from midnight
        ("America/New_York", None, 9 * HOUR, None, True),  # unset till: till midnight
        ("Asia/Tokyo", None, 22 * HOUR, 2 * HOUR, True),  # across midnight, 23:00 local
        ("America/New_York", None, 22 * HOUR, 2 * HOUR, False),
        ("America/New_York", None, 10 * HOUR, 10 * HOUR, False),  # empty window: never
        ("Mars/Olympus_Mons", None, 0, 86_400, False),  # a zone this system lacks: fail closed
    ],
)
def test_the_record_is_drawn_only_inside_its_daily_window_in_each_of_its_zones(
    zone: str, second_zone: str | None, daily_from: int | None, daily_till: int | None, inside: bool
) -> None:
    record = a_record(
        1, time_zone=zone, second_time_zone=second_zone, daily_from=daily_from, daily_till=daily_till
    )
    chain = a_chain(record, a_record(2))
    assert dialing_queue.inside_daily_window(record, NOW) is inside
    assert next_n(chain) == (1 if inside else None)  # outside: the chain waits, record 2 too


def test_local_time_follows_daylight_saving_on_the_switch_day() -> None:
    # 2026-03-08 07:30 UTC: 03:30 EDT, half an hour after New York skipped 02:00-03:00.
    switch_day = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert dialing_queue.local_seconds("America/New_York", switch_day) == 3 * HOUR + 30 * 60
    record = a_record(1, daily_from=2 * HOUR, daily_till=3 * HOUR)
    assert not dialing_queue.inside_daily_window(record, switch_day)


def test_a_record_made_no_call_by_suppression_is_skipped_to_the_next_until_restored() -> None:
    chain = a_chain(a_record(1), a_record(2))
    match = Suppression(
        chain_n=1,
        suppression_list_id=UUID("0a000000-0000-4000-8000-0000000000e1"),
        entry_id=UUID("0a000000-0000-4000-8000-0000000000e2"),
        kind="phone",
        value="+12125550101",
    )
    suppressed = then(
        chain,
        [
            RecordChainSuppressed(
                originator_id=CHAIN,
                originator_version=2,
                timestamp=NOW,
                account_id=ACCOUNT,
                list_id=LIST,
                client_id="C1",
                suppressions=[match],
                previous_types={1: RecordType.GENERAL},
            )
        ],
    )
    assert next_n(suppressed) == 2
    restored = then(
        suppressed,
        [
            RecordChainRestored(
                originator_id=CHAIN,
                originator_version=3,
                timestamp=NOW,
                account_id=ACCOUNT,
                list_id=LIST,
                client_id="C1",
                record_types={1: RecordType.GENERAL},
            )
        ],
    )
    assert next_n(restored) == 1


def test_a_deleted_chain_has_nothing_to_draw() -> None:
    chain = a_chain()
    deleted = then(
        chain,
        [
            RecordChainDeleted(
                originator_id=CHAIN,
                originator_version=2,
                timestamp=NOW,
                account_id=ACCOUNT,
                list_id=LIST,
                client_id="C1",
                reason="flush",
            )
        ],
    )
    assert next_n(deleted) is None
    assert drawn(deleted)[1] == []


# Drawing -------------------------------------------------------------------------------------


def test_drawing_the_next_record_retrieves_it_for_the_attempt() -> None:
    chain, events = drawn(a_chain())
    (event,) = events
    assert isinstance(event, RecordRetrieved)
    assert (event.originator_id, event.originator_version, event.timestamp) == (CHAIN, 2, NOW)
    assert (event.list_id, event.client_id, event.chain_n, event.record_id) == (
        LIST,
        "C1",
        1,
        record_chain.record_id(CHAIN, 1),
    )
    assert (event.campaign_group_id, event.attempt_id, event.retrieved_by) == (GROUP, ATTEMPT, "dialer-1")
    assert record_of(chain, 1).record_status == RecordStatus.RETRIEVED
    assert chain.retrievals == {
        1: record_chain.Retrieval(campaign_group_id=GROUP, attempt_id=ATTEMPT, retrieved_at=NOW)
    }


def test_one_record_of_a_chain_at_a_time() -> None:
    chain, _ = drawn(a_chain())
    assert next_n(chain) is None
    assert drawn(chain, 1, OTHER_ATTEMPT)[1] == []  # not twice
    assert drawn(chain, 2, OTHER_ATTEMPT)[1] == []  # nor the next record meanwhile


def test_only_the_record_next_record_names_is_drawn() -> None:
    chain = a_chain(a_record(1), a_record(2))
    assert drawn(chain, 2)[1] == []
    due_later = a_chain(a_record(1, dial_sched_time=int(NOW.timestamp()) + 60), a_record(2))
    assert drawn(due_later, 1)[1] == []
    assert drawn(due_later, 2)[1] == []
    assert drawn(chain, 7)[1] == []  # no such record


# Returning -----------------------------------------------------------------------------------


def test_a_drawn_record_is_returned_ready_by_the_attempt_that_drew_it_and_only_once() -> None:
    chain, _ = drawn(a_chain())
    at = int(NOW.timestamp()) + 900
    assert dialing_queue.return_record(chain, 1, attempt_id=OTHER_ATTEMPT, reason="denied", now=NOW) == []
    events = dialing_queue.return_record(
        chain, 1, attempt_id=ATTEMPT, reason="denied", dial_sched_time=at, detail="outside hours", now=NOW
    )
    (event,) = events
    assert isinstance(event, RecordReturned)
    assert (event.originator_version, event.attempt_id, event.campaign_group_id) == (3, ATTEMPT, GROUP)
    assert (event.reason, event.dial_sched_time, event.detail) == ("denied", at, "outside hours")
    returned = then(chain, events)
    assert record_of(returned, 1).record_status == RecordStatus.READY
    assert record_of(returned, 1).dial_sched_time == at
    assert returned.retrievals == {}
    # A repeated report stores nothing.
    assert dialing_queue.return_record(returned, 1, attempt_id=ATTEMPT, reason="denied", now=NOW) == []
    # Due again at the time given, and not before: the chain waits for it.
    assert next_n(returned) is None
    assert next_n(returned, NOW + timedelta(seconds=900)) == 1


def test_a_return_without_a_time_keeps_the_records_schedule() -> None:
    chain, _ = drawn(a_chain())
    returned = then(
        chain, dialing_queue.return_record(chain, 1, attempt_id=ATTEMPT, reason="paused", now=NOW)
    )
    assert record_of(returned, 1).dial_sched_time is None
    assert next_n(returned) == 1


# Finishing -----------------------------------------------------------------------------------


def test_the_end_of_the_attempt_updates_the_record_once_and_only_for_that_attempt() -> None:
    chain, _ = drawn(a_chain(a_record(1, attempt=1), a_record(2)))
    called = int(NOW.timestamp()) - 40
    assert (
        dialing_queue.finish(
            chain, 1, attempt_id=OTHER_ATTEMPT, call_result=CallResult.BUSY, call_time=called, now=NOW
        )
        == []
    )
    events = dialing_queue.finish(
        chain, 1, attempt_id=ATTEMPT, call_result=CallResult.BUSY, call_time=called, now=NOW
    )
    (event,) = events
    assert isinstance(event, RecordUpdated)
    assert (event.call_result, event.call_time, event.attempt, event.record_status) == (
        CallResult.BUSY,
        called,
        2,
        RecordStatus.UPDATED,
    )
    finished = then(chain, events)
    record = record_of(finished, 1)
    assert (record.record_status, record.call_result, record.call_time, record.attempt) == (
        RecordStatus.UPDATED,
        CallResult.BUSY,
        called,
        2,
    )
    assert finished.retrievals == {}
    again = dialing_queue.finish(
        finished, 1, attempt_id=ATTEMPT, call_result=CallResult.BUSY, call_time=called, now=NOW
    )
    assert again == []
    assert dialing_queue.return_record(finished, 1, attempt_id=ATTEMPT, reason="unused", now=NOW) == []
    # The update alone holds nothing: the treatment stored with it decides what the chain
    # does next (domain.treatments.treat, tested in tests/domain/test_treatments.py).
    assert next_n(finished) == 2


def test_a_returned_record_cannot_be_finished_by_its_old_attempt() -> None:
    chain, _ = drawn(a_chain())
    returned = then(
        chain, dialing_queue.return_record(chain, 1, attempt_id=ATTEMPT, reason="skipped", now=NOW)
    )
    assert (
        dialing_queue.finish(
            returned, 1, attempt_id=ATTEMPT, call_result=CallResult.ANSWER, call_time=1, now=NOW
        )
        == []
    )
    redrawn, events = drawn(returned, 1, OTHER_ATTEMPT)
    assert len(events) == 1
    assert (
        dialing_queue.finish(
            redrawn, 1, attempt_id=ATTEMPT, call_result=CallResult.ANSWER, call_time=1, now=NOW
        )
        == []
    )


# A dialer that died --------------------------------------------------------------------------


def test_a_stale_record_never_placed_is_returned_to_be_drawn_again() -> None:
    chain, _ = drawn(a_chain())
    later = NOW + timedelta(minutes=10)
    (event,) = dialing_queue.stale(chain, 1, attempt_id=ATTEMPT, placed=False, now=later)
    assert isinstance(event, RecordReturned)
    assert (event.reason, event.attempt_id, event.timestamp) == ("stale", ATTEMPT, later)
    settled = then(chain, [event])
    assert record_of(settled, 1).record_status == RecordStatus.READY
    assert record_of(settled, 1).attempt == 0
    assert next_n(settled, later) == 1


def test_a_stale_record_placed_is_updated_stale_and_counts_its_attempt() -> None:
    chain, _ = drawn(a_chain())
    later = NOW + timedelta(minutes=10)
    (event,) = dialing_queue.stale(chain, 1, attempt_id=ATTEMPT, placed=True, now=later)
    assert isinstance(event, RecordUpdated)
    assert (event.record_status, event.call_result, event.attempt) == (
        RecordStatus.STALE,
        CallResult.STALE,
        1,
    )
    assert event.call_time == int(NOW.timestamp())  # when it was drawn: the call came after
    settled = then(chain, [event])
    assert record_of(settled, 1).record_status == RecordStatus.STALE
    assert next_n(settled, later) is None  # never dialled twice for one draw
    assert dialing_queue.stale(settled, 1, attempt_id=ATTEMPT, placed=True, now=later) == []


def test_stale_settles_only_the_attempt_that_holds_the_record() -> None:
    chain, _ = drawn(a_chain())
    assert dialing_queue.stale(chain, 1, attempt_id=OTHER_ATTEMPT, placed=True, now=NOW) == []
    assert dialing_queue.stale(chain, 2, attempt_id=ATTEMPT, placed=False, now=NOW) == []


# An import that replaces the chain -------------------------------------------------------------


def test_a_chain_replaced_by_an_import_drops_its_retrievals_and_the_old_attempt_with_them() -> None:
    chain, _ = drawn(a_chain())
    replaced = then(
        chain,
        [
            RecordChainReplaced(
                originator_id=CHAIN,
                originator_version=chain.version + 1,
                timestamp=NOW,
                account_id=ACCOUNT,
                list_id=LIST,
                client_id="C1",
                job_id=UUID("0a000000-0000-4000-8000-0000000000d2"),
                line=3,
                records=[a_record(1), a_record(2)],
            )
        ],
    )
    assert replaced.retrievals == {}
    assert next_n(replaced) == 1
    assert dialing_queue.return_record(replaced, 1, attempt_id=ATTEMPT, reason="unused", now=NOW) == []
    assert (
        dialing_queue.finish(
            replaced, 1, attempt_id=ATTEMPT, call_result=CallResult.BUSY, call_time=1, now=NOW
        )
        == []
    )


# The daily window's arithmetic ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("daily_from", "daily_till", "seconds", "allowed"),
    [
        (None, None, 0, True),
        (9 * HOUR, 17 * HOUR, 9 * HOUR, True),
        (9 * HOUR, 17 * HOUR, 17 * HOUR - 1, True),
        (9 * HOUR, 17 * HOUR, 17 * HOUR, False),
        (9 * HOUR, 17 * HOUR, 9 * HOUR - 1, False),
        (22 * HOUR, 2 * HOUR, 23 * HOUR, True),
        (22 * HOUR, 2 * HOUR, 1 * HOUR, True),
        (22 * HOUR, 2 * HOUR, 2 * HOUR, False),
        (22 * HOUR, 2 * HOUR, 12 * HOUR, False),
        (5 * HOUR, 5 * HOUR, 5 * HOUR, False),
        (None, 6 * HOUR, 0, True),
        (18 * HOUR, None, 86_399, True),
    ],
)
def test_daily_allows(daily_from: int | None, daily_till: int | None, seconds: int, allowed: bool) -> None:
    assert dialing_queue.daily_allows(daily_from, daily_till, seconds) is allowed
