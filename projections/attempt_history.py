"""attempt_history: when each client id and each device of an account was attempted.

What attempt rules count (:mod:`domain.contact_rules`): a row per attempt and key — the
record's client id, and its device (E.164 number or e-mail address) — whatever the list or
channel, indexed by (account, key) so the pre-dial gate reads one customer's attempts since
an instant with two index range scans.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from domain.contact_rules import AttemptHistory
from projections.sql import Cursor, Database
from schemas import topics
from schemas.attempts import CallAttemptMade
from schemas.base import Event

TABLES = ("attempt_history",)


class AttemptHistoryProjection:
    name = "attempt_history"
    tables: tuple[str, ...] = TABLES
    topics: tuple[str, ...] = (topics.CALL_ATTEMPTS,)

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS attempt_history (account_id TEXT NOT NULL, key_kind TEXT NOT NULL, "
            "key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, attempt_id TEXT NOT NULL, "
            "PRIMARY KEY (account_id, key_kind, key, at, attempt_id))"
        )

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        if not isinstance(event, CallAttemptMade):
            return
        at = event.timestamp.timestamp()
        keys = [("device", event.device)] + ([("client_id", event.client_id)] if event.client_id else [])
        cursor.executemany(
            "INSERT INTO attempt_history VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(str(event.account_id), kind, key, at, str(event.attempt_id)) for kind, key in keys],
        )


class AttemptHistoryQueries:
    def __init__(self, db: Database):
        self.db = db

    def history(self, account_id: UUID, client_id: str, device: str, since: datetime) -> AttemptHistory:
        """The times of the attempts to this client id and to this device from ``since`` on."""
        found: dict[str, tuple[datetime, ...]] = {}
        with self.db.transaction() as cursor:
            for kind, key in (("client_id", client_id), ("device", device)):
                if not key:
                    found[kind] = ()
                    continue
                cursor.execute(
                    "SELECT at FROM attempt_history WHERE account_id = ? AND key_kind = ? AND key = ? "
                    "AND at >= ? ORDER BY at",
                    (str(account_id), kind, key, since.timestamp()),
                )
                found[kind] = tuple(datetime.fromtimestamp(float(row[0]), UTC) for row in cursor.fetchall())
        return AttemptHistory(client_id=found["client_id"], device=found["device"])
