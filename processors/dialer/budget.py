"""The account's attempts-per-minute cap per channel, shared by every group and every dialer.

Each group paces itself under its own caps (:mod:`domain.pacing`); the account's cap of a
channel binds the sum of the account's groups on that channel, which on Kafka run in several
dialer processes. So before it places calls a group *claims* them here, in the shared database
the leases live in (a SQLite file embedded, PostgreSQL on Kafka), and gives back what it did not
place.

State: ``attempt_budget``, one row per account, channel and second (whole epoch seconds of
a timeline every dialer shares: the store's clock, or the simulator's when it runs faster than
life, see ``DialerPorts.cap_clock``): the attempts granted in that second. Row ``-1`` of
an account and channel is its lock: a claim first writes it (unchanged), which serialises the claims of
one account and channel on PostgreSQL (a row lock) as on SQLite (its one writer).
Guarantee: a claim counts the seconds from ``now − 60`` to ``now`` inclusive, which covers
every 60-second window that ends now, so no minute ever holds more than the cap. A dialer that
dies between claim and give-back leaves the claim counted for its minute: the cap errs toward
fewer calls, never more.
"""

from __future__ import annotations

from uuid import UUID

from processors.host.lease import create_table
from projections.sql import Database

TABLE = """
CREATE TABLE IF NOT EXISTS attempt_budget (
    account_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    second BIGINT NOT NULL,
    granted INTEGER NOT NULL,
    PRIMARY KEY (account_id, channel, second)
)
"""
WINDOW_S = 60

_LOCK = """
INSERT INTO attempt_budget (account_id, channel, second, granted) VALUES (?, ?, -1, 0)
ON CONFLICT (account_id, channel, second) DO UPDATE SET granted = attempt_budget.granted
"""
_FORGET = "DELETE FROM attempt_budget WHERE account_id = ? AND channel = ? AND second >= 0 AND second < ?"
_USED = "SELECT COALESCE(SUM(granted), 0) FROM attempt_budget WHERE account_id = ? AND channel = ? AND second >= ?"
_GRANT = """
INSERT INTO attempt_budget (account_id, channel, second, granted) VALUES (?, ?, ?, ?)
ON CONFLICT (account_id, channel, second) DO UPDATE SET granted = attempt_budget.granted + excluded.granted
"""
_GIVE_BACK = """
UPDATE attempt_budget SET granted = CASE WHEN granted > ? THEN granted - ? ELSE 0 END
WHERE account_id = ? AND channel = ? AND second = ?
"""


class AttemptBudget:
    """Claims on the account's attempts-per-minute cap of a channel (module docstring)."""

    def __init__(self, db: Database):
        self.db = db
        create_table(db, TABLE)

    def claim(self, account_id: UUID, channel: str, wanted: int, *, cap: int, at: float) -> int:
        """Up to ``wanted`` attempts granted at ``at`` (epoch seconds) under ``cap`` a minute:
        how many."""
        if wanted <= 0:
            return 0
        second = int(at)
        key = (str(account_id), channel)
        with self.db.transaction() as cursor:
            cursor.execute(_LOCK, key)
            cursor.execute(_FORGET, (*key, second - WINDOW_S))
            cursor.execute(_USED, (*key, second - WINDOW_S))
            row = cursor.fetchone()
            used = int(row[0]) if row else 0
            granted = max(0, min(wanted, cap - used))
            if granted:
                cursor.execute(_GRANT, (*key, second, granted))
        return granted

    def give_back(self, account_id: UUID, channel: str, unused: int, *, at: float) -> None:
        """Return ``unused`` attempts of a claim made at ``at`` (the same second)."""
        if unused <= 0:
            return
        with self.db.transaction() as cursor:
            cursor.execute(_GIVE_BACK, (unused, unused, str(account_id), channel, int(at)))

    def used(self, account_id: UUID, channel: str, *, at: float) -> int:
        """Attempts granted in the minute that ends at ``at`` (for status and tests)."""
        with self.db.transaction() as cursor:
            cursor.execute(_USED, (str(account_id), channel, int(at) - WINDOW_S))
            row = cursor.fetchone()
        return int(row[0]) if row else 0
