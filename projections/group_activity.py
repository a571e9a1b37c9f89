"""group_activity: what each campaign group's calls are doing now and did lately.

Read from the ``call-attempts`` topic (attempts of a group: placed, answered, connected,
abandoned, finished) and the group's pacing (``CampaignGroupPaced`` on ``campaigns``):

- ``group_activity_buckets``: counters per group, list and time bucket (one minute and one
  hour, UTC), added to as events arrive, never recounted from the attempts: attempts, live
  answers, machines, faxes, busy, no answer, SIT / invalid number, network errors, connects,
  abandons, finished attempts, and the sums pacing observes (ring time to a live answer, time
  of failed attempts, talk time). The abandon windows (:mod:`domain.abandon`) sum minute
  buckets for 24 hours and hour buckets for 30 days.
- ``group_attempt_seconds``: attempts per group and second, for the dial rate and the
  per-minute caps; only the last hour before the group's newest attempt is kept. The horizon
  moves with the newest attempt stored, never with the wall clock, so the rows left do not
  depend on the order the partitions of a Kafka topic interleave in.
- ``group_in_flight``: each attempt placed and not finished, with its stage (placed = ringing,
  answered = a live answer waiting for an agent, machine, connected, abandoned = hearing the
  message, sent = an SMS the provider holds until its delivery report) and since when.
- ``group_pacing``: the group's last pacing (mode, ratio, reason).
- ``group_gate_denials``: draws the pre-dial gate denied, per group, list, reason code and
  quarter hour (from ``record.returned`` with reason ``denied``: a draw denied for two
  reasons counts under each; quarter hours, as in ``call_results``, for local days).

Every counter is a sum and every in-flight row follows one attempt's stream in its order,
so a replay of the log gives the rows the live projection has.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from domain import abandon
from domain.abandon import AbandonWindows, Bucket
from domain.call_attempts import failure_of
from domain.predial import denial_codes
from projections.activity_changes import HOUR, MINUTE, QUARTER, SECONDS_KEPT, ActivityChanges, bucket
from projections.sql import Cursor, Database, dump_tables, id_text
from schemas import topics
from schemas.attempts import (
    CallAttemptAbandoned,
    CallAttemptAnswered,
    CallAttemptConnected,
    CallAttemptFinished,
    CallAttemptMade,
    CallAttemptSent,
)
from schemas.base import Event
from schemas.campaigns import CampaignGroupPaced
from schemas.records import RecordReturned

TABLES = (
    "group_activity_buckets",
    "group_attempt_seconds",
    "group_in_flight",
    "group_pacing",
    "group_gate_denials",
)

COUNTERS = (
    "attempts",
    "live",
    "machine",
    "fax",
    "busy",
    "no_answer",
    "sit",
    "network",
    "connects",
    "abandons",
    "finished",
    "ring_live_ms",  # the sum of ring times of the live answers
    "failed_ms",  # the sum of the durations of failed attempts (busy, no answer, SIT, network)
    "talks",  # finished attempts an agent talked on
    "talk_ms",
)
STAGES = ("placed", "answered", "machine", "connected", "abandoned")
ATTEMPT_EVENTS = (  # every attempt event but the wrap-up
    CallAttemptMade,
    CallAttemptAnswered,
    CallAttemptConnected,
    CallAttemptAbandoned,
    CallAttemptSent,
    CallAttemptFinished,
)


class ActivityCounts(msgspec.Struct, frozen=True, kw_only=True):
    """A group's (or one of its lists') counters over a span of time."""

    attempts: int = 0
    live: int = 0
    machine: int = 0
    fax: int = 0
    busy: int = 0
    no_answer: int = 0
    sit: int = 0
    network: int = 0
    connects: int = 0
    abandons: int = 0
    finished: int = 0
    ring_live_ms: int = 0
    failed_ms: int = 0
    talks: int = 0
    talk_ms: int = 0

    @property
    def failed(self) -> int:
        return self.busy + self.no_answer + self.sit + self.network

    @property
    def mean_ring_to_live_s(self) -> float | None:
        return self.ring_live_ms / self.live / 1000 if self.live else None

    @property
    def mean_failed_s(self) -> float | None:
        return self.failed_ms / self.failed / 1000 if self.failed else None

    @property
    def mean_talk_s(self) -> float | None:
        return self.talk_ms / self.talks / 1000 if self.talks else None


class InFlight(msgspec.Struct, frozen=True, kw_only=True):
    """A group's calls in progress by stage."""

    ringing: int = 0  # placed, not answered yet
    waiting: int = 0  # answered by a person, waiting for an agent
    connected: int = 0  # talking to an agent
    machine: int = 0  # answered by a machine or a fax, being released
    abandoned: int = 0  # hearing the abandon message

    @property
    def lines(self) -> int:
        return self.ringing + self.waiting + self.connected + self.machine + self.abandoned


class InFlightCall(msgspec.Struct, frozen=True, kw_only=True):
    attempt_id: UUID
    record_id: UUID
    list_id: UUID
    stage: str  # one of STAGES
    since: datetime


class Paced(msgspec.Struct, frozen=True, kw_only=True):
    mode: str
    ratio: float
    reason: str
    at: datetime


class GroupActivity:
    name = "group_activity"
    tables: tuple[str, ...] = TABLES
    topics: tuple[str, ...] = (topics.CALL_ATTEMPTS, topics.CAMPAIGNS, topics.RECORDS)
    events: tuple[type[Event], ...] = (RecordReturned, *ATTEMPT_EVENTS, CampaignGroupPaced)

    def create_tables(self, cursor: Cursor) -> None:
        counters = ", ".join(f"{name} BIGINT NOT NULL DEFAULT 0" for name in COUNTERS)
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS group_activity_buckets (group_id TEXT NOT NULL, width INTEGER NOT NULL, "
            "start BIGINT NOT NULL, list_id TEXT NOT NULL, account_id TEXT NOT NULL, "
            f"{counters}, PRIMARY KEY (group_id, width, start, list_id))"
        )
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS group_attempt_seconds (group_id TEXT NOT NULL, second BIGINT NOT NULL, "
            "attempts BIGINT NOT NULL, PRIMARY KEY (group_id, second))"
        )
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS group_in_flight (attempt_id TEXT PRIMARY KEY, group_id TEXT NOT NULL, "
            "account_id TEXT NOT NULL, record_id TEXT NOT NULL, list_id TEXT NOT NULL, stage TEXT NOT NULL, "
            "since DOUBLE PRECISION NOT NULL)"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS group_in_flight_by_group ON group_in_flight (group_id, stage)"
        )
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS group_gate_denials (group_id TEXT NOT NULL, list_id TEXT NOT NULL, "
            "reason TEXT NOT NULL, start BIGINT NOT NULL, account_id TEXT NOT NULL, denials BIGINT NOT NULL, "
            "PRIMARY KEY (group_id, list_id, reason, start))"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS group_gate_denials_by_time ON group_gate_denials (account_id, start)"
        )
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS group_pacing (group_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, "
            "mode TEXT NOT NULL, ratio DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL, "
            "at DOUBLE PRECISION NOT NULL)"
        )

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        self.apply_many(cursor, [(event, position)])

    def apply_many(self, cursor: Cursor, events: Sequence[tuple[Event, int]]) -> None:
        """Apply events in order, their changes written together (:mod:`projections.activity_changes`)."""
        changes = ActivityChanges(cursor, COUNTERS)
        changes.read_flights(
            id_text(event.attempt_id)
            for event, _ in events
            if isinstance(event, ATTEMPT_EVENTS) and event.campaign_group_id is not None
        )
        for event, _ in events:
            self._apply(changes, cursor, event)
        changes.write()

    @staticmethod
    def _apply(changes: ActivityChanges, cursor: Cursor, event: Event) -> None:
        if isinstance(event, RecordReturned):
            if event.reason == "denied":
                for code in denial_codes(event.detail) or ["unknown"]:
                    at = event.timestamp.timestamp()
                    changes.deny(id_text(event.campaign_group_id), id_text(event.list_id), id_text(event.account_id), code, at)
            return
        if isinstance(event, CampaignGroupPaced):
            cursor.execute(
                "INSERT INTO group_pacing VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id) DO UPDATE SET "
                "mode = excluded.mode, ratio = excluded.ratio, reason = excluded.reason, at = excluded.at",
                (
                    id_text(event.originator_id),
                    id_text(event.account_id),
                    event.mode,
                    event.ratio,
                    event.reason,
                    event.timestamp.timestamp(),
                ),
            )
            return
        group = getattr(event, "campaign_group_id", None)
        if group is None or not isinstance(event, ATTEMPT_EVENTS):  # outside any campaign group
            return
        group_id, list_id, account_id = id_text(group), id_text(event.list_id), id_text(event.account_id)
        attempt_id, at = id_text(event.attempt_id), event.timestamp.timestamp()
        if isinstance(event, CallAttemptMade):
            changes.add(group_id, list_id, account_id, at, attempts=1)
            changes.place((attempt_id, group_id, account_id, id_text(event.originator_id), list_id, "placed", at))
            changes.attempt_at(group_id, int(at))
        elif isinstance(event, CallAttemptAnswered):
            if event.answered_by == "person":
                changes.add(group_id, list_id, account_id, at, live=1, ring_live_ms=event.ring_ms)
            else:
                changes.add(group_id, list_id, account_id, at, **{event.answered_by: 1})
            changes.move(attempt_id, "answered" if event.answered_by == "person" else "machine", at)
        elif isinstance(event, CallAttemptConnected):
            changes.add(group_id, list_id, account_id, at, connects=1)
            changes.move(attempt_id, "connected", at)
        elif isinstance(event, CallAttemptAbandoned):
            changes.add(group_id, list_id, account_id, at, abandons=1)
            changes.move(attempt_id, "abandoned", at)
        elif isinstance(event, CallAttemptSent):
            changes.move(attempt_id, "sent", at)
        elif isinstance(event, CallAttemptFinished):
            amounts = {"finished": 1}
            stage = changes.stage(attempt_id)
            failure = failure_of(event.call_result) if stage in ("placed", "sent") else None  # never answered
            if failure is not None:
                amounts[failure] = 1
                amounts["failed_ms"] = event.ring_ms
            if event.agent_id is not None and stage in ("connected", None):
                amounts["talks"] = 1
                amounts["talk_ms"] = event.talk_ms
            changes.add(group_id, list_id, account_id, at, **amounts)
            changes.land(attempt_id)


def _sum_columns() -> str:
    return ", ".join(f"COALESCE(SUM({name}), 0)" for name in COUNTERS)


def _counts(row: Sequence[Any]) -> ActivityCounts:
    return ActivityCounts(**{name: int(value) for name, value in zip(COUNTERS, row, strict=True)})


def _epoch(at: datetime) -> float:
    if at.tzinfo is None:
        raise ValueError("a naive datetime: pass an aware one (UTC)")
    return at.timestamp()


class GroupActivityQueries:
    def __init__(self, db: Database):
        self.db = db

    def abandon_windows(self, group_id: UUID, now: datetime) -> AbandonWindows:
        """The group's abandoned calls and live answers over the 24 hours and the 30 days
        before ``now`` (24 hours exact to a minute, 30 days to an hour)."""
        spans = {MINUTE: abandon.DAY, HOUR: abandon.MONTH}
        buckets: dict[int, list[Bucket]] = {}
        with self.db.reading() as cursor:
            for width, span in spans.items():
                cursor.execute(
                    "SELECT start, SUM(abandons), SUM(live) FROM group_activity_buckets "
                    "WHERE group_id = ? AND width = ? AND start >= ? AND start <= ? GROUP BY start",
                    (str(group_id), width, int((now - span).timestamp()) - width, int(_epoch(now))),
                )
                buckets[width] = [
                    Bucket(datetime.fromtimestamp(int(start), UTC), int(abandoned), int(live))
                    for start, abandoned, live in cursor.fetchall()
                ]
        return abandon.rolling(buckets[HOUR], now, fine=buckets[MINUTE])

    def counts(self, group_id: UUID, since: datetime, until: datetime | None = None) -> ActivityCounts:
        """The group's counters of the minutes that start in [since, until] (until: no end)."""
        return self._counts(group_id, since, until, by_list=False).get(None, ActivityCounts())

    def counts_by_list(
        self, group_id: UUID, since: datetime, until: datetime | None = None
    ) -> dict[UUID, ActivityCounts]:
        """Like :meth:`counts`, one entry per list that had activity."""
        found = self._counts(group_id, since, until, by_list=True)
        return {key: value for key, value in found.items() if key is not None}

    def _counts(
        self, group_id: UUID, since: datetime, until: datetime | None, *, by_list: bool
    ) -> dict[UUID | None, ActivityCounts]:
        params: list[Any] = [str(group_id), MINUTE, _epoch(since)]
        if until is not None:
            params.append(_epoch(until))
        with self.db.reading() as cursor:
            cursor.execute(
                f"SELECT {'list_id' if by_list else 'NULL'}, {_sum_columns()} FROM group_activity_buckets "
                "WHERE group_id = ? AND width = ? AND start >= ?"
                + (" AND start <= ?" if until is not None else "")
                + (" GROUP BY list_id" if by_list else ""),
                params,
            )
            rows = cursor.fetchall()
        return {None if key is None else UUID(str(key)): _counts(values) for key, *values in rows}

    def quarter_counts(self, group_id: UUID, first: int, last: int) -> dict[int, ActivityCounts]:
        """The group's counters per quarter hour starting in [first, last) (UTC epoch seconds),
        summed from its minute buckets; a quarter hour without activity is absent."""
        quarter = f"start / {QUARTER} * {QUARTER}"
        with self.db.reading() as cursor:
            cursor.execute(
                f"SELECT {quarter}, {_sum_columns()} FROM group_activity_buckets "
                f"WHERE group_id = ? AND width = ? AND start >= ? AND start < ? GROUP BY {quarter}",
                (str(group_id), MINUTE, first, last),
            )
            rows = cursor.fetchall()
        return {int(start): _counts(values) for start, *values in rows}

    def attempts_since(self, group_id: UUID, since: datetime) -> int:
        """The group's attempts from ``since`` on: exact to the second within the last hour
        before its newest attempt, to the minute before that."""
        at = _epoch(since)
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT MAX(second) FROM group_attempt_seconds WHERE group_id = ?", (str(group_id),)
            )
            row = cursor.fetchone()
            newest = None if row is None or row[0] is None else int(row[0])
            if newest is None or at >= newest - SECONDS_KEPT:  # every second from there on is kept
                cursor.execute(
                    "SELECT COALESCE(SUM(attempts), 0) FROM group_attempt_seconds WHERE group_id = ? AND second >= ?",
                    (str(group_id), int(at // 1)),
                )
            else:
                cursor.execute(
                    "SELECT COALESCE(SUM(attempts), 0) FROM group_activity_buckets "
                    "WHERE group_id = ? AND width = ? AND start >= ?",
                    (str(group_id), MINUTE, bucket(at, MINUTE)),
                )
            found = cursor.fetchone()
        return int(found[0]) if found else 0

    def in_flight(self, group_id: UUID) -> InFlight:
        """The group's calls in progress: ringing, waiting for an agent, connected, …"""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT stage, COUNT(*) FROM group_in_flight WHERE group_id = ? GROUP BY stage",
                (str(group_id),),
            )
            by_stage = {str(stage): int(n) for stage, n in cursor.fetchall()}
        return InFlight(
            ringing=by_stage.get("placed", 0),
            waiting=by_stage.get("answered", 0),
            connected=by_stage.get("connected", 0),
            machine=by_stage.get("machine", 0),
            abandoned=by_stage.get("abandoned", 0),
        )

    def calls_in_flight(self, group_id: UUID) -> list[InFlightCall]:
        """Each attempt of the group placed and not finished, oldest stage change first; not
        the messages a provider holds (sent), whose delivery reports finish them."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT attempt_id, record_id, list_id, stage, since FROM group_in_flight WHERE group_id = ? "
                "AND stage <> 'sent' ORDER BY since, attempt_id",
                (str(group_id),),
            )
            rows = cursor.fetchall()
        return _in_flight_calls(rows)

    def unreported(self, group_id: UUID, sent_before: datetime) -> list[InFlightCall]:
        """The group's messages a provider took before ``sent_before`` and has not reported on."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT attempt_id, record_id, list_id, stage, since FROM group_in_flight WHERE group_id = ? "
                "AND stage = 'sent' AND since < ? ORDER BY since, attempt_id",
                (str(group_id), sent_before.timestamp()),
            )
            rows = cursor.fetchall()
        return _in_flight_calls(rows)

    def pacing(self, group_id: UUID) -> Paced | None:
        """The group's last recorded pacing (None: never paced)."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT mode, ratio, reason, at FROM group_pacing WHERE group_id = ?", (str(group_id),)
            )
            row = cursor.fetchone()
        if row is None:
            return None
        mode, ratio, reason, at = row
        return Paced(
            mode=str(mode), ratio=float(ratio), reason=str(reason), at=datetime.fromtimestamp(float(at), UTC)
        )

    # An account as a whole (metrics) ------------------------------------------------------

    def attempts_by_group(self, account_id: UUID) -> dict[UUID, int]:
        """Attempts each of the account's groups ever placed (its hour buckets, all lists)."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT group_id, SUM(attempts) FROM group_activity_buckets "
                "WHERE account_id = ? AND width = ? GROUP BY group_id",
                (str(account_id), HOUR),
            )
            return {UUID(str(group)): int(attempts) for group, attempts in cursor.fetchall()}

    def gate_denials(self, account_id: UUID) -> dict[tuple[UUID, str], int]:
        """(group id, reason code) -> draws of the account's groups the pre-dial gate denied."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT group_id, reason, SUM(denials) FROM group_gate_denials WHERE account_id = ? "
                "GROUP BY group_id, reason",
                (str(account_id),),
            )
            return {(UUID(str(group)), str(reason)): int(n) for group, reason, n in cursor.fetchall()}

    def gate_denials_between(
        self, account_id: UUID, first: int, last: int, *, group_ids: Sequence[UUID] = (), list_ids: Sequence[UUID] = ()
    ) -> list[tuple[str, str, str, int, int]]:
        """(group id, list id, reason, quarter hour's start, denials) of the account's quarter
        hours starting in [first, last) (UTC epoch seconds), of the groups and lists given."""
        where, params = "account_id = ? AND start >= ? AND start < ?", [str(account_id), first, last]
        for column, values in (("group_id", group_ids), ("list_id", list_ids)):
            if values:
                where += f" AND {column} IN ({', '.join('?' for _ in values)})"
                params += [str(value) for value in values]
        with self.db.reading() as cursor:
            cursor.execute(f"SELECT group_id, list_id, reason, start, denials FROM group_gate_denials WHERE {where}", params)
            return [(str(g), str(lst), str(r), int(s), int(n)) for g, lst, r, s, n in cursor.fetchall()]


def _in_flight_calls(rows: list[tuple[Any, ...]]) -> list[InFlightCall]:
    return [
        InFlightCall(
            attempt_id=UUID(str(attempt)),
            record_id=UUID(str(record)),
            list_id=UUID(str(list_id)),
            stage=str(stage),
            since=datetime.fromtimestamp(float(since), UTC),
        )
        for attempt, record, list_id, stage, since in rows
    ]


def dump_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the group_activity tables, sorted: what a replay must give again."""
    return dump_tables(db, TABLES)
