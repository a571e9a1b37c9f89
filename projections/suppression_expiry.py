"""suppression_expiry: the suppression entries that will expire, by the time they do.

What the expiry sweep reads to find entries whose retention ran out, without scanning the
suppression index. Permanent entries are not here; an entry added again replaces its row
(its retention starts again), and removal, expiry or the list's archiving deletes it.
"""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

from projections.sql import Cursor, Database
from schemas import topics
from schemas.base import Event
from schemas.suppression import (
    SuppressionEntriesAdded,
    SuppressionEntriesExpired,
    SuppressionEntriesRemoved,
    SuppressionListArchived,
)

TABLES = ("suppression_expiry",)


class SuppressionExpiry:
    name = "suppression_expiry"
    tables: tuple[str, ...] = TABLES
    topics: tuple[str, ...] = (topics.SUPPRESSIONS,)

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS suppression_expiry (list_id TEXT NOT NULL, kind TEXT NOT NULL, "
            "value TEXT NOT NULL, account_id TEXT NOT NULL, expires_at BIGINT NOT NULL, "
            "PRIMARY KEY (list_id, kind, value))"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS suppression_expiry_by_time ON suppression_expiry (expires_at)"
        )

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        list_id = str(event.originator_id)
        match event:
            case SuppressionEntriesAdded():
                forget = [(list_id, e.kind, e.value) for e in event.entries if e.expires_at is None]
                if forget:
                    cursor.executemany(_DELETE, forget)
                cursor.executemany(
                    "INSERT INTO suppression_expiry VALUES (?, ?, ?, ?, ?) ON CONFLICT (list_id, kind, value) "
                    "DO UPDATE SET expires_at = excluded.expires_at",
                    [
                        (list_id, e.kind, e.value, str(event.account_id), e.expires_at)
                        for e in event.entries
                        if e.expires_at is not None
                    ],
                )
            case SuppressionEntriesRemoved() | SuppressionEntriesExpired():
                cursor.executemany(_DELETE, [(list_id, key.kind, key.value) for key in event.entries])
            case SuppressionListArchived():
                cursor.execute("DELETE FROM suppression_expiry WHERE list_id = ?", (list_id,))


_DELETE = "DELETE FROM suppression_expiry WHERE list_id = ? AND kind = ? AND value = ?"


class Expired(NamedTuple):
    list_id: UUID
    account_id: UUID
    kind: str
    value: str


class SuppressionExpiryQueries:
    def __init__(self, db: Database):
        self.db = db

    def due(self, now: int, limit: int = 5000) -> list[Expired]:
        """Entries whose ``expires_at`` (UTC epoch seconds) is at or before ``now``, soonest first."""
        with self.db.transaction() as cursor:
            cursor.execute(
                "SELECT list_id, account_id, kind, value FROM suppression_expiry WHERE expires_at <= ? "
                "ORDER BY expires_at, list_id, kind, value LIMIT ?",
                (now, limit),
            )
            return [Expired(UUID(row[0]), UUID(row[1]), row[2], row[3]) for row in cursor.fetchall()]
