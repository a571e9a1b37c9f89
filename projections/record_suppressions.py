"""record_suppressions: which suppression entries keep which chains' records from being called.

What the compliance processor asks when entries leave (removed, expired, their list archived
or made optional): the chains to re-check, without scanning every record.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from projections.sql import Cursor, Database
from schemas import topics
from schemas.base import Event
from schemas.records import RecordChainDeleted, RecordChainRestored, RecordChainSuppressed

TABLES = ("record_suppressions",)


class RecordSuppressions:
    name = "record_suppressions"
    tables: tuple[str, ...] = TABLES
    topics: tuple[str, ...] = (topics.RECORDS,)
    # Not the chains an import brings (a million of them, skipped without being decoded).
    events: tuple[type[Event], ...] = (RecordChainSuppressed, RecordChainRestored, RecordChainDeleted)

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS record_suppressions (suppression_list_id TEXT NOT NULL, "
            "kind TEXT NOT NULL, value TEXT NOT NULL, chain_id TEXT NOT NULL, chain_n INTEGER NOT NULL, "
            "PRIMARY KEY (suppression_list_id, kind, value, chain_id, chain_n))"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS record_suppressions_by_chain ON record_suppressions (chain_id)"
        )

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        chain = str(event.originator_id)
        match event:
            case RecordChainSuppressed():
                cursor.execute("DELETE FROM record_suppressions WHERE chain_id = ?", (chain,))
                cursor.executemany(
                    "INSERT INTO record_suppressions VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [
                        (str(m.suppression_list_id), m.kind, m.value, chain, m.chain_n)
                        for m in event.suppressions
                    ],
                )
            case RecordChainRestored():
                cursor.executemany(
                    "DELETE FROM record_suppressions WHERE chain_id = ? AND chain_n = ?",
                    [(chain, n) for n in event.record_types],
                )
            case RecordChainDeleted():
                cursor.execute("DELETE FROM record_suppressions WHERE chain_id = ?", (chain,))


class RecordSuppressionQueries:
    def __init__(self, db: Database):
        self.db = db

    def chains(self, suppression_list_id: UUID, values: Sequence[tuple[str, str]] | None = None) -> set[UUID]:
        """Chains held back by entries of this list: by these (kind, value)s, or by any."""
        with self.db.reading() as cursor:
            if values is None:
                cursor.execute(
                    "SELECT DISTINCT chain_id FROM record_suppressions WHERE suppression_list_id = ?",
                    (str(suppression_list_id),),
                )
                return {UUID(row[0]) for row in cursor.fetchall()}
            found: set[UUID] = set()
            for kind, value in values:
                cursor.execute(
                    "SELECT DISTINCT chain_id FROM record_suppressions "
                    "WHERE suppression_list_id = ? AND kind = ? AND value = ?",
                    (str(suppression_list_id), kind, value),
                )
                found.update(UUID(row[0]) for row in cursor.fetchall())
            return found
