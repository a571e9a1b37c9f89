"""call_results: finished attempts counted by call result, for the reports.

Counted as ``call_attempt.finished`` events arrive, never recounted from the attempts, in
quarter-hour buckets (UTC epoch seconds of the bucket's start): a quarter hour is the finest
step of any time zone's offset, so a report in the account's reports time zone can sum them
into its local hours and days exactly.

- ``call_result_counts``: per group, list, bucket and call result: attempts, ring and talk time.
- ``agent_call_counts``: the same per agent, for the attempts an agent talked on (an agent's
  filter or dimension reads this one, so the table without agents stays small: a 30-day report
  over millions of attempts sums tens of thousands of rows).

Every counter is a sum, so a replay of the log gives the rows the live projection has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from projections.sql import Cursor, Database, dump_tables, id_text
from schemas import topics
from schemas.attempts import CallAttemptFinished
from schemas.base import Event

QUARTER = 900
TABLES = ("call_result_counts", "agent_call_counts")
NO_GROUP = ""  # an attempt outside any campaign group (the attempts API)


@dataclass(frozen=True)
class ResultCount:
    group_id: str
    list_id: str
    agent_id: str  # "" when no agent talked
    start: int  # the quarter hour's start, UTC epoch seconds
    call_result: int
    attempts: int
    ring_ms: int
    talk_ms: int


class CallResultCounts:
    name = "call_results"
    tables: tuple[str, ...] = TABLES
    topics: tuple[str, ...] = (topics.CALL_ATTEMPTS,)
    events: tuple[type[Event], ...] = (CallAttemptFinished,)

    def create_tables(self, cursor: Cursor) -> None:
        for table, agent in (("call_result_counts", ""), ("agent_call_counts", "agent_id TEXT NOT NULL, ")):
            keys = "group_id, list_id, " + ("agent_id, " if agent else "") + "start, call_result"
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (account_id TEXT NOT NULL, group_id TEXT NOT NULL, "
                f"list_id TEXT NOT NULL, {agent}start BIGINT NOT NULL, call_result INTEGER NOT NULL, "
                "attempts BIGINT NOT NULL, ring_ms BIGINT NOT NULL, talk_ms BIGINT NOT NULL, "
                f"PRIMARY KEY (account_id, {keys}))"
            )
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {table}_by_time ON {table} (account_id, start)")

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        if not isinstance(event, CallAttemptFinished):
            return
        start = int(event.timestamp.timestamp()) // QUARTER * QUARTER
        group = NO_GROUP if event.campaign_group_id is None else id_text(event.campaign_group_id)
        key = (id_text(event.account_id), group, id_text(event.list_id))
        amounts = (event.ring_ms, event.talk_ms)
        cursor.execute(
            "INSERT INTO call_result_counts VALUES (?, ?, ?, ?, ?, 1, ?, ?) "
            "ON CONFLICT (account_id, group_id, list_id, start, call_result) DO UPDATE SET "
            "attempts = call_result_counts.attempts + 1, ring_ms = call_result_counts.ring_ms + excluded.ring_ms, "
            "talk_ms = call_result_counts.talk_ms + excluded.talk_ms",
            (*key, start, event.call_result, *amounts),
        )
        if event.agent_id is not None:
            cursor.execute(
                "INSERT INTO agent_call_counts VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) "
                "ON CONFLICT (account_id, group_id, list_id, agent_id, start, call_result) DO UPDATE SET "
                "attempts = agent_call_counts.attempts + 1, ring_ms = agent_call_counts.ring_ms + excluded.ring_ms, "
                "talk_ms = agent_call_counts.talk_ms + excluded.talk_ms",
                (*key, id_text(event.agent_id), start, event.call_result, *amounts),
            )


class CallResultQueries:
    def __init__(self, db: Database):
        self.db = db

    def counts(
        self,
        account_id: UUID,
        start: datetime,
        end: datetime,
        *,
        group_ids: Sequence[UUID] = (),
        list_ids: Sequence[UUID] = (),
        agent_ids: Sequence[UUID] = (),
        by_agent: bool = False,
    ) -> list[ResultCount]:
        """The account's buckets that start in [start, end), widened to whole quarter hours
        (:func:`quarter_hours`), of the groups, lists and agents given (none: all). With agents (filtered or
        ``by_agent``), only the attempts an agent talked on."""
        agents = by_agent or bool(agent_ids)
        table = "agent_call_counts" if agents else "call_result_counts"
        where = ["account_id = ?", "start >= ?", "start < ?"]
        first, last = quarter_hours(start, end)
        params: list[Any] = [str(account_id), first, last]
        for column, values in (("group_id", group_ids), ("list_id", list_ids), ("agent_id", agent_ids)):
            if values:
                where.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params += [str(value) for value in values]
        agent = "agent_id" if agents else "''"
        with self.db.reading() as cursor:
            cursor.execute(
                f"SELECT group_id, list_id, {agent}, start, call_result, attempts, ring_ms, talk_ms "
                f"FROM {table} WHERE {' AND '.join(where)}",
                params,
            )
            rows = cursor.fetchall()
        return [
            ResultCount(str(g), str(lst), str(a), int(s), int(r), int(n), int(ring), int(talk))
            for g, lst, a, s, r, n, ring, talk in rows
        ]


def quarter_hours(start: datetime, end: datetime) -> tuple[int, int]:
    """[start, end) widened to whole quarter hours, as UTC epoch seconds."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("a naive datetime: pass an aware one")
    return int(start.timestamp()) // QUARTER * QUARTER, -(-int(end.timestamp()) // QUARTER) * QUARTER


def dump_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables, sorted: what a replay must give again."""
    return dump_tables(db, TABLES)
