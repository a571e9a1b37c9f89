"""One batch's changes to the group_activity tables, summed in memory and written together.

Applied one event at a time, group_activity took three to five statements an event (a bucket
row for the minute and the hour, the call in flight, the dial rate's second): on a dialer's
log, the most statements of any read model, each giving up and taking back the interpreter
lock the dialer's own thread needs. A batch reads the calls in flight it touches with one
query, follows them in memory, and writes each changed row once: the rows are those that
applying the events one by one leaves (``tests/projections/test_group_activity.py`` checks
both ways against each other).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from projections.sql import Cursor, in_chunks

MINUTE, QUARTER, HOUR = 60, 900, 3600
WIDTHS = (MINUTE, HOUR)
SECONDS_KEPT = 3600  # how far back group_attempt_seconds reaches from a group's newest attempt
IN_FLIGHT_COLUMNS = "attempt_id, group_id, account_id, record_id, list_id, stage, since"
STAGE = 5  # an in-flight row's stage column


def bucket(at: float, width: int) -> int:
    return int(at // width) * width


class ActivityChanges:
    def __init__(self, cursor: Cursor, counters: tuple[str, ...]):
        self.cursor = cursor
        self.counters = counters
        self._column = {name: n for n, name in enumerate(counters)}
        # (group, width, start, list) -> (account, amounts in the order of ``counters``)
        self.buckets: dict[tuple[str, int, int, str], tuple[str, list[int]]] = {}
        self.seconds: dict[str, dict[int, int]] = {}  # group -> second -> attempts
        self.denials: dict[tuple[str, str, str, int], tuple[str, int]] = {}  # (group, list, reason, start)
        self.flights: dict[str, tuple[Any, ...] | None] = {}  # attempt -> its row now (None: none)
        self._stored: set[str] = set()  # attempts with a row in the table when the batch began
        self._changed: set[str] = set()

    def read_flights(self, attempt_ids: Iterable[str]) -> None:
        """Load the in-flight rows of the attempts the batch touches."""
        wanted = list(dict.fromkeys(attempt_ids))
        for marks, chunk in in_chunks(wanted):
            self.cursor.execute(
                f"SELECT {IN_FLIGHT_COLUMNS} FROM group_in_flight WHERE attempt_id IN ({marks})", chunk
            )
            for row in self.cursor.fetchall():
                self.flights[str(row[0])] = tuple(row)
                self._stored.add(str(row[0]))
        for attempt_id in wanted:
            self.flights.setdefault(attempt_id, None)

    def add(self, group_id: str, list_id: str, account_id: str, at: float, **amounts: int) -> None:
        """Add ``amounts`` to the group's minute and hour buckets of ``at`` (epoch seconds)."""
        for width in WIDTHS:
            key = (group_id, width, bucket(at, width), list_id)
            kept = self.buckets.get(key)
            if kept is None:
                kept = self.buckets[key] = (account_id, [0] * len(self.counters))
            for name, amount in amounts.items():
                kept[1][self._column[name]] += amount

    def deny(self, group_id: str, list_id: str, account_id: str, reason: str, at: float) -> None:
        key = (group_id, list_id, reason, bucket(at, QUARTER))
        account, denials = self.denials.get(key, (account_id, 0))
        self.denials[key] = (account, denials + 1)

    def attempt_at(self, group_id: str, second: int) -> None:
        seconds = self.seconds.setdefault(group_id, {})
        seconds[second] = seconds.get(second, 0) + 1

    def stage(self, attempt_id: str) -> str | None:
        row = self.flights[attempt_id]
        return None if row is None else str(row[STAGE])

    def place(self, row: tuple[Any, ...]) -> None:
        """A call in flight from now, unless the attempt has a row already."""
        if self.flights[row[0]] is None:
            self.flights[row[0]] = row
            self._changed.add(row[0])

    def move(self, attempt_id: str, stage: str, since: float) -> None:
        row = self.flights[attempt_id]
        if row is not None:
            self.flights[attempt_id] = (*row[:STAGE], stage, since)
            self._changed.add(attempt_id)

    def land(self, attempt_id: str) -> None:
        """The call is over: no longer in flight."""
        self.flights[attempt_id] = None
        self._changed.add(attempt_id)

    def write(self) -> None:
        self._write_buckets()
        self._write_seconds()
        self._write_flights()
        if self.denials:
            self.cursor.executemany(
                "INSERT INTO group_gate_denials VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (group_id, list_id, reason, start) "
                "DO UPDATE SET denials = group_gate_denials.denials + excluded.denials",
                [(*key, account, denials) for key, (account, denials) in self.denials.items()],
            )

    def _write_buckets(self) -> None:
        if not self.buckets:
            return
        columns = ", ".join(self.counters)
        marks = ", ".join("?" for _ in self.counters)
        sums = ", ".join(f"{name} = group_activity_buckets.{name} + excluded.{name}" for name in self.counters)
        self.cursor.executemany(
            f"INSERT INTO group_activity_buckets (group_id, width, start, list_id, account_id, {columns}) "
            f"VALUES (?, ?, ?, ?, ?, {marks}) ON CONFLICT (group_id, width, start, list_id) DO UPDATE SET {sums}",
            [(*key, account, *amounts) for key, (account, amounts) in self.buckets.items()],
        )

    def _write_seconds(self) -> None:
        """The seconds of the last hour before the group's newest attempt: those one by one
        would keep (an attempt older than that is dropped, whatever order they came in)."""
        for group_id, seconds in self.seconds.items():
            self.cursor.execute("SELECT MAX(second) FROM group_attempt_seconds WHERE group_id = ?", (group_id,))
            row = self.cursor.fetchone()
            stored = None if row is None or row[0] is None else int(row[0])
            newest = max(seconds) if stored is None else max(stored, max(seconds))
            horizon = newest - SECONDS_KEPT
            if stored is not None and newest > stored:  # older seconds drop out of the hour kept
                self.cursor.execute(
                    "DELETE FROM group_attempt_seconds WHERE group_id = ? AND second < ?", (group_id, horizon)
                )
            self.cursor.executemany(
                "INSERT INTO group_attempt_seconds VALUES (?, ?, ?) ON CONFLICT (group_id, second) "
                "DO UPDATE SET attempts = group_attempt_seconds.attempts + excluded.attempts",
                [(group_id, second, n) for second, n in sorted(seconds.items()) if second >= horizon],
            )

    def _write_flights(self) -> None:
        gone = [(a,) for a in self._changed if self.flights[a] is None and a in self._stored]
        now = [row for a in self._changed if (row := self.flights[a]) is not None]
        if gone:
            self.cursor.executemany("DELETE FROM group_in_flight WHERE attempt_id = ?", gone)
        if now:
            self.cursor.executemany(
                f"INSERT INTO group_in_flight ({IN_FLIGHT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (attempt_id) DO UPDATE SET stage = excluded.stage, since = excluded.since",
                now,
            )
