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

Claiming ahead: a claim in the shared database is a write transaction, and a group steps every
50 ms, so a dialer claims up to ``AHEAD`` attempts more than a step wants (never more than half
of what the cap has left) and keeps them for its later steps in the same second. What is left
of them goes back with the next claim, at the latest once the second after it is over (or when
the dialer stops): held, they count as used, so for at most two seconds the other dialers see
fewer attempts left, never more.
"""

from __future__ import annotations

from dataclasses import dataclass
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
AHEAD = 10  # attempts a claim takes beyond what is wanted, for the same second's later steps

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


@dataclass(slots=True)
class _Ahead:
    """Attempts claimed ahead in the shared database and not used yet, all in one second."""

    second: int
    left: int


class AttemptBudget:
    """Claims on the account's attempts-per-minute cap of a channel (module docstring)."""

    def __init__(self, db: Database, *, ahead: int = AHEAD):
        self.db = db
        self.ahead = ahead
        self.kept: dict[tuple[str, str], _Ahead] = {}
        create_table(db, TABLE)

    def claim(self, account_id: UUID, channel: str, wanted: int, *, cap: int, at: float) -> int:
        """Up to ``wanted`` attempts granted at ``at`` (epoch seconds) under ``cap`` a minute:
        how many."""
        if wanted <= 0:
            return 0
        second = int(at)
        key = (str(account_id), channel)
        kept = self.kept.get(key)
        past = None  # what an earlier second's claim left: given back in this claim's transaction
        if kept is not None and kept.second != second:
            past, kept = self.kept.pop(key), None
        taken = min(wanted, kept.left) if kept is not None else 0
        if kept is not None:
            kept.left -= taken
            if taken == wanted:
                return taken
        with self.db.transaction() as cursor:
            if past is not None and past.left:
                cursor.execute(_GIVE_BACK, (past.left, past.left, *key, past.second))
            cursor.execute(_LOCK, key)
            cursor.execute(_FORGET, (*key, second - WINDOW_S))
            cursor.execute(_USED, (*key, second - WINDOW_S))
            row = cursor.fetchone()
            left = cap - (int(row[0]) if row else 0)
            granted = max(0, min(wanted - taken, left))
            extra = max(0, min(self.ahead, (left - granted) // 2))
            if granted + extra:
                cursor.execute(_GRANT, (*key, second, granted + extra))
        if extra:
            self.kept[key] = _Ahead(second, extra)
        return taken + granted

    def give_back_past(self, at: float) -> None:
        """Give back what was claimed ahead for a second before the one before ``at`` and not
        used. (A claim in the next second gives it back in its own transaction.)"""
        for key in [key for key, kept in self.kept.items() if kept.second < int(at) - 1]:
            self._give_back_kept(key)

    def flush(self) -> None:
        """Give back every attempt claimed ahead and not used (the dialer stops)."""
        for key in list(self.kept):
            self._give_back_kept(key)

    def _give_back_kept(self, key: tuple[str, str]) -> None:
        kept = self.kept.pop(key)
        if kept.left:
            with self.db.transaction() as cursor:
                cursor.execute(_GIVE_BACK, (kept.left, kept.left, *key, kept.second))

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
