"""The call_details read model: one row per attempt, filled in by its events (made, answered,
connected or abandoned, finished, wrapped up); the attempts that ended in an interval, in the
order they ended, a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from projections.base import ProjectionStore
from projections.call_details import COLUMNS, CallDetailQueries, CallDetails
from projections.sql import connect, dump_tables
from schemas.attempts import (
    CallAttemptAbandoned,
    CallAttemptAnswered,
    CallAttemptConnected,
    CallAttemptFinished,
    CallAttemptMade,
    CallAttemptWrappedUp,
)
from schemas.base import Event

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
ACCOUNT = UUID("0c000000-0000-4000-8000-0000000000c1")
LIST = UUID("0c000000-0000-4000-8000-0000000000c2")
AGENT = UUID("0c000000-0000-4000-8000-0000000000c3")


def attempt(client: str, start: datetime, *, connected: bool, abandoned: bool = False) -> list[Event]:
    attempt_id = uuid4()
    common: dict[str, Any] = dict(
        originator_id=attempt_id, account_id=ACCOUNT, attempt_id=attempt_id, list_id=LIST
    )
    events: list[Event] = [
        CallAttemptMade(
            **common,
            originator_version=1,
            timestamp=start,
            client_id=client,
            chain_n=1,
            device="+12125550101",
            channel="voice",
            mode="predictive",
        ),
        CallAttemptAnswered(
            **common,
            originator_version=2,
            timestamp=start + timedelta(seconds=9),
            campaign_group_id=None,
            answered_by="person",
            ring_ms=9000,
        ),
    ]
    if connected:
        events.append(
            CallAttemptConnected(
                **common,
                originator_version=3,
                timestamp=start + timedelta(seconds=10),
                campaign_group_id=None,
                agent_id=AGENT,
                wait_ms=800,
            )
        )
    if abandoned:
        events.append(
            CallAttemptAbandoned(
                **common,
                originator_version=3,
                timestamp=start + timedelta(seconds=12),
                campaign_group_id=None,
                wait_ms=2500,
                message_played=True,
            )
        )
    ended = start + timedelta(seconds=60)
    events.append(
        CallAttemptFinished(
            **common,
            originator_version=4,
            timestamp=ended,
            campaign_group_id=None,
            call_result=33 if connected else 32,
            ring_ms=9000,
            talk_ms=50000 if connected else 0,
            agent_id=AGENT if connected else None,
        )
    )
    if connected:
        events.append(
            CallAttemptWrappedUp(
                **common,
                originator_version=5,
                timestamp=ended + timedelta(seconds=20),
                campaign_group_id=None,
                agent_id=AGENT,
                disposition_code="SALE",
                call_result=33,
            )
        )
    return events


def test_each_attempt_is_one_row_and_an_interval_reads_them_in_the_order_they_ended(tmp_path: Path) -> None:
    db = connect(f"sqlite:///{tmp_path / 'views.sqlite'}")
    store = ProjectionStore(db, [CallDetails()])
    events = [
        *attempt("SOLD", T0, connected=True),
        *attempt("LOST", T0 + timedelta(minutes=1), connected=False, abandoned=True),
        *attempt("LATER", T0 + timedelta(hours=2), connected=False),
    ]
    store.apply("call_details", list(enumerate(events, start=1)))
    rows = [
        dict(zip(COLUMNS, row, strict=True))
        for row in CallDetailQueries(db).finished_between(ACCOUNT, T0, T0 + timedelta(hours=1), page=1)
    ]
    assert [row["client_id"] for row in rows] == ["SOLD", "LOST"]
    sold, lost = rows
    assert (
        sold["answered_by"],
        sold["agent_id"],
        sold["wait_ms"],
        sold["disposition_code"],
        sold["call_result"],
    ) == (
        "person",
        str(AGENT),
        800,
        "SALE",
        33,
    )
    assert (lost["abandoned"], lost["wait_ms"], lost["agent_id"], lost["call_result"]) == (1, 2500, None, 32)
    assert sold["finished_at"] == (T0 + timedelta(seconds=60)).isoformat() and sold["mode"] == "predictive"
    db.close()


def test_batches_of_any_size_leave_the_rows_one_event_at_a_time_leaves(tmp_path: Path) -> None:
    """A batch writes an attempt's changes as one update: the rows must be those that each
    event applied alone gives, whatever the batches."""
    attempts = [
        attempt(f"C{n}", T0 + timedelta(seconds=7 * n), connected=n % 3 == 0, abandoned=n % 3 == 1)
        for n in range(12)
    ]
    log = sorted((event for events in attempts for event in events), key=lambda event: event.timestamp)
    numbered = list(enumerate(log, start=1))
    dumps = []
    for size in (1, 2, 3, 8, len(log)):
        db = connect(f"sqlite:///{tmp_path / f'batches-of-{size}.sqlite'}")
        store = ProjectionStore(db, [CallDetails()])
        for first in range(0, len(numbered), size):
            store.apply("call_details", numbered[first : first + size])
        dumps.append(dump_tables(db, ("call_details",)))
        db.close()
    assert len(dumps[0]["call_details"]) == 12
    assert all(dump == dumps[0] for dump in dumps[1:])
