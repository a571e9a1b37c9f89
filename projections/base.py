"""Read models kept in SQL tables, each recording its log position in the same transaction.

A batch of events and the new position commit together, and events at or below the
stored position are skipped, so a redelivered batch changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from projections.sql import Cursor, Database
from schemas.base import Event

POSITIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS projection_positions (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


class Projection(Protocol):
    name: str
    tables: tuple[str, ...]

    def create_tables(self, cursor: Cursor) -> None: ...

    def apply(self, cursor: Cursor, event: Event, position: int) -> None: ...


class ProjectionStore:
    """Hosts projections in one database and applies batches of the log to them."""

    def __init__(self, db: Database, projections: Sequence[Projection]):
        self.db = db
        self.projections = {p.name: p for p in projections}
        with db.transaction() as cursor:
            cursor.execute(POSITIONS_TABLE)
            for projection in projections:
                projection.create_tables(cursor)

    def position(self, name: str) -> int:
        with self.db.transaction() as cursor:
            return self._position(cursor, name)

    @staticmethod
    def _position(cursor: Cursor, name: str) -> int:
        cursor.execute("SELECT position FROM projection_positions WHERE name = ?", (name,))
        row = cursor.fetchone()
        return int(row[0]) if row else 0

    def apply(self, name: str, batch: Sequence[tuple[int, Event]]) -> int:
        """Apply the events after the stored position; return the new position."""
        projection = self.projections[name]
        with self.db.transaction() as cursor:
            position = self._position(cursor, name)
            fresh = [(p, e) for p, e in batch if p > position]
            if not fresh:
                return position
            for event_position, event in fresh:
                projection.apply(cursor, event, event_position)
            position = fresh[-1][0]
            cursor.execute(
                "INSERT INTO projection_positions (name, position) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                (name, position),
            )
            return position

    def reset(self, name: str) -> None:
        """Empty a projection's tables and rewind it to the start of the log."""
        projection = self.projections[name]
        with self.db.transaction() as cursor:
            for table in projection.tables:
                cursor.execute(f"DELETE FROM {table}")
            cursor.execute("DELETE FROM projection_positions WHERE name = ?", (name,))


class ProjectionSubscriber:
    """A projection as a bus subscriber."""

    def __init__(self, store: ProjectionStore, name: str):
        self.store = store
        self.name = name

    def position(self) -> int:
        return self.store.position(self.name)

    def handle(self, batch: Sequence[tuple[int, Event]]) -> int:
        return self.store.apply(self.name, batch)
