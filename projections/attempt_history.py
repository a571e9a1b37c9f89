"""attempt_history: when each client id and each device of an account was attempted, and
when a call to a device was abandoned.

What attempt rules count (:mod:`domain.contact_rules`): a row per attempt and key — the
record's client id, and its device (E.164 number or e-mail address) — whatever the list or
channel, indexed by (account, key) so the pre-dial gate reads one customer's attempts since
an instant with two index range scans.

What the abandoned-call rule reads (:class:`domain.predial.AbandonedCallRule`, the UK's
72 h): a row in ``attempt_abandoned`` per abandoned attempt and device, stamped with the
time of ``call_attempt.abandoned``. That event does not name the device, so it is found
from the attempt's own ``call_attempt.made`` row, by attempt id: the made event comes first
on the record's stream, and so in the log and in its Kafka partition. The rule is about the
number called again, so only the device is kept, not the client id. Rows are keyed by
(account, device, time), so the gate reads the last abandon of a batch's devices in one
statement.

A database made before ``attempt_abandoned`` existed gets the table (and the attempt-id
index it is filled through) at start, empty: abandons already in the log are counted only
after ``dialstream replay attempt_history``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from domain.contact_rules import AttemptHistory
from projections.sql import Cursor, Database, id_text
from schemas import topics
from schemas.attempts import CallAttemptAbandoned, CallAttemptMade
from schemas.base import Event

TABLES = ("attempt_history", "attempt_abandoned")
LOOKUP_CHUNK = 500  # devices per statement: well under either database's parameter limit


class AttemptHistoryProjection:
    name = "attempt_history"
    tables: tuple[str, ...] = TABLES
    topics: tuple[str, ...] = (topics.CALL_ATTEMPTS,)
    events: tuple[type[Event], ...] = (CallAttemptMade, CallAttemptAbandoned)  # the others: skipped undecoded

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS attempt_history (account_id TEXT NOT NULL, key_kind TEXT NOT NULL, "
            "key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, attempt_id TEXT NOT NULL, "
            "PRIMARY KEY (account_id, key_kind, key, at, attempt_id))"
        )
        # An abandoned attempt finds its device through its made row.
        cursor.execute("CREATE INDEX IF NOT EXISTS attempt_history_attempt ON attempt_history (attempt_id)")
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS attempt_abandoned (account_id TEXT NOT NULL, device TEXT NOT NULL, "
            "at DOUBLE PRECISION NOT NULL, attempt_id TEXT NOT NULL, "
            "PRIMARY KEY (account_id, device, at, attempt_id))"
        )

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        if isinstance(event, CallAttemptMade):
            at = event.timestamp.timestamp()
            keys = [("device", event.device)] + ([("client_id", event.client_id)] if event.client_id else [])
            cursor.executemany(
                "INSERT INTO attempt_history VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(id_text(event.account_id), kind, key, at, id_text(event.attempt_id)) for kind, key in keys],
            )
        elif isinstance(event, CallAttemptAbandoned):
            cursor.execute(
                "INSERT INTO attempt_abandoned (account_id, device, at, attempt_id) "
                "SELECT DISTINCT account_id, key, ?, attempt_id FROM attempt_history "
                "WHERE attempt_id = ? AND account_id = ? AND key_kind = 'device' ON CONFLICT DO NOTHING",
                (event.timestamp.timestamp(), id_text(event.attempt_id), id_text(event.account_id)),
            )


class AttemptHistoryQueries:
    def __init__(self, db: Database):
        self.db = db

    def history(self, account_id: UUID, client_id: str, device: str, since: datetime) -> AttemptHistory:
        """The times of the attempts to this client id and to this device from ``since`` on."""
        found: dict[str, tuple[datetime, ...]] = {}
        with self.db.reading() as cursor:
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

    def abandoned(self, account_id: UUID, devices: Sequence[str], after: datetime) -> dict[str, datetime]:
        """The last abandoned call to each of ``devices`` abandoned after ``after``, by device
        (devices without one are left out)."""
        wanted = sorted(set(devices))
        found: dict[str, datetime] = {}
        with self.db.reading() as cursor:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                chunk = wanted[start : start + LOOKUP_CHUNK]
                marks = ", ".join("?" * len(chunk))
                cursor.execute(
                    f"SELECT device, MAX(at) FROM attempt_abandoned WHERE account_id = ? "
                    f"AND device IN ({marks}) AND at > ? GROUP BY device",
                    (str(account_id), *chunk, after.timestamp()),
                )
                for device, at in cursor.fetchall():
                    found[str(device)] = datetime.fromtimestamp(float(at), UTC)
        return found
