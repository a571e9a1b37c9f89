"""call_details: what happened on each call attempt (the call result detail record): where and
when it was placed, how it was answered, which agent took it, how it ended, and the agent's
disposition. One row per attempt, filled in as its events arrive; the raw data of list
automation's analytics export, and of the reports to come."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from projections.sql import Cursor, Database, id_text
from schemas import topics
from schemas.attempts import (
    CallAttemptAbandoned,
    CallAttemptAnswered,
    CallAttemptConnected,
    CallAttemptEvent,
    CallAttemptFinished,
    CallAttemptMade,
    CallAttemptWrappedUp,
)
from schemas.base import Event

# The columns, in the order an export writes them.
COLUMNS: tuple[str, ...] = (
    "attempt_id",
    "campaign_group_id",
    "list_id",
    "client_id",
    "chain_n",
    "device",
    "channel",
    "caller_id",
    "mode",
    "made_at",
    "answered_by",
    "ring_ms",
    "agent_id",
    "wait_ms",
    "abandoned",
    "finished_at",
    "call_result",
    "talk_ms",
    "disposition_code",
    "detail",
)


class CallDetails:
    name = "call_details"
    tables: tuple[str, ...] = ("call_details",)
    topics: tuple[str, ...] = (topics.CALL_ATTEMPTS,)

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS call_details (attempt_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, "
            "campaign_group_id TEXT, list_id TEXT NOT NULL, client_id TEXT NOT NULL, chain_n INTEGER NOT NULL, "
            "device TEXT NOT NULL, channel TEXT NOT NULL, caller_id TEXT NOT NULL, mode TEXT NOT NULL, "
            "made_at TEXT NOT NULL, answered_by TEXT, ring_ms INTEGER, agent_id TEXT, wait_ms INTEGER, "
            "abandoned INTEGER NOT NULL, finished_at TEXT, call_result INTEGER, talk_ms INTEGER, "
            "disposition_code TEXT, detail TEXT NOT NULL)"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS call_details_finished ON call_details (account_id, finished_at, attempt_id)"
        )

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        self.apply_many(cursor, [(event, position)])

    def apply_many(self, cursor: Cursor, events: Sequence[tuple[Event, int]]) -> None:
        """Apply events in order: an attempt's changes in the batch are one update of its row,
        and the updates that set the same columns one statement."""
        made: list[tuple[Any, ...]] = []
        changes: dict[str, dict[str, Any]] = {}  # attempt -> its columns' new values
        for event, _ in events:
            if isinstance(event, CallAttemptMade):
                if id_text(event.attempt_id) in changes:  # changed before it was made: keep that order
                    _write(cursor, made, changes)
                    made, changes = [], {}
                made.append(_made_row(event))
                continue
            if isinstance(event, CHANGES):
                changes.setdefault(id_text(event.attempt_id), {}).update(_changed_values(event))
        _write(cursor, made, changes)


def _made_row(event: CallAttemptMade) -> tuple[Any, ...]:
    return (
        id_text(event.attempt_id),
        id_text(event.account_id),
        _text(event.campaign_group_id),
        id_text(event.list_id),
        event.client_id,
        event.chain_n,
        event.device,
        event.channel,
        event.caller_id,
        event.mode,
        event.timestamp.isoformat(),
    )


CHANGES = (CallAttemptAnswered, CallAttemptConnected, CallAttemptAbandoned, CallAttemptFinished, CallAttemptWrappedUp)


def _changed_values(event: CallAttemptEvent) -> dict[str, Any]:
    match event:
        case CallAttemptAnswered():
            return {"answered_by": event.answered_by, "ring_ms": event.ring_ms}
        case CallAttemptConnected():
            return {"agent_id": id_text(event.agent_id), "wait_ms": event.wait_ms}
        case CallAttemptAbandoned():
            return {"abandoned": 1, "wait_ms": event.wait_ms}
        case CallAttemptFinished():
            return {
                "finished_at": event.timestamp.isoformat(),
                "call_result": event.call_result,
                "ring_ms": event.ring_ms,
                "talk_ms": event.talk_ms,
                "agent_id": _text(event.agent_id),
                "detail": event.detail,
            }
        case CallAttemptWrappedUp():
            return {"call_result": event.call_result, "disposition_code": event.disposition_code}
    return {}


def _write(cursor: Cursor, made: list[tuple[Any, ...]], changes: dict[str, dict[str, Any]]) -> None:
    if made:
        cursor.executemany(
            "INSERT INTO call_details (attempt_id, account_id, campaign_group_id, list_id, client_id, chain_n, "
            "device, channel, caller_id, mode, made_at, abandoned, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '') ON CONFLICT (attempt_id) DO NOTHING",
            made,
        )
    by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for attempt_id, values in changes.items():
        by_columns.setdefault(tuple(values), []).append((*values.values(), attempt_id))
    for columns, rows in by_columns.items():
        assignments = ", ".join(f"{column} = ?" for column in columns)
        cursor.executemany(f"UPDATE call_details SET {assignments} WHERE attempt_id = ?", rows)


class CallDetailQueries:
    def __init__(self, db: Database):
        self.db = db

    def finished_between(
        self, account_id: UUID, start: datetime, end: datetime, *, page: int = 5000
    ) -> Iterator[tuple[Any, ...]]:
        """The account's attempts that ended in [start, end), in the order they ended: rows of
        :data:`COLUMNS`, read a page at a time."""
        after: tuple[str, str] = (start.astimezone(UTC).isoformat(), "")
        end = end.astimezone(UTC)
        while True:
            with self.db.reading() as cursor:
                cursor.execute(
                    f"SELECT {', '.join(COLUMNS)}, finished_at FROM call_details WHERE account_id = ? "
                    "AND (finished_at, attempt_id) > (?, ?) AND finished_at < ? "
                    "ORDER BY finished_at, attempt_id LIMIT ?",
                    (str(account_id), *after, end.isoformat(), page),
                )
                rows = cursor.fetchall()
            for row in rows:
                yield tuple(row[: len(COLUMNS)])
            if len(rows) < page:
                return
            after = (str(rows[-1][-1]), str(rows[-1][0]))


def _text(value: UUID | None) -> str | None:
    return None if value is None else id_text(value)
