"""A named lease in the shared database: of N processes, one holds it at a time.

Input: a :class:`projections.sql.Database` every process of a deployment shares (the
read-models database: a SQLite file embedded, PostgreSQL in compose) and a clock.
State: one row per lease name in ``leases``: its holder, a fencing token and an expiry in
milliseconds since the epoch, by the injected clock. The row is never deleted, so the token
only ever grows.
Guarantee: :meth:`Lease.acquire`, :meth:`Lease.renew` and :meth:`Lease.release` are each one
conditional statement (it compares holder, token and expiry, and changes the row only if they
match), so two processes can never both hold a lease that has not run out. A new tenure
gets a new, larger token; a holder that was taken over (it paused, or lost the database for
longer than the lease) finds out at its next :meth:`Lease.renew` and must stop writing:
:meth:`Lease.check` raises :class:`LeaseLost` for that, before each batch of effects. A
holder killed without releasing is replaced once its lease runs out.

Run: ``Lease(db, "retention").acquire()``; the scheduler (:mod:`processors.host.schedule`)
acquires, renews and releases for its jobs.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime

from dialstream.clock import utc_now
from projections.sql import Database

log = logging.getLogger(__name__)

TABLE = """
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    token BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
)
"""

# Insert the row, or take it over when it is ours or has run out. Our own live lease keeps
# its token (acquiring twice is renewing); any other take-over starts a new tenure.
_ACQUIRE = """
INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, 1, ?)
ON CONFLICT (name) DO UPDATE SET
    token = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > ?
                 THEN leases.token ELSE leases.token + 1 END,
    holder = excluded.holder,
    expires_at = excluded.expires_at
WHERE leases.holder = excluded.holder OR leases.expires_at <= ?
RETURNING token
"""
# Only the live tenure named by holder and token is extended: one that ran out, even if
# nobody took it yet, is over (its holder acquires again, with a new token).
_RENEW = """
UPDATE leases SET expires_at = ?
WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?
RETURNING token
"""
# Run out now rather than delete the row: the token must keep growing.
_RELEASE = """
UPDATE leases SET holder = '', expires_at = ?
WHERE name = ? AND holder = ? AND token = ?
"""


class LeaseLost(Exception):
    """The lease was taken over (or ran out): the former holder must not go on writing."""


def new_holder() -> str:
    """A holder id naming the host and process (for people), unique per instance."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class Lease:
    """One named lease, as one holder sees it; ``token`` is set while it holds the lease."""

    def __init__(
        self,
        db: Database,
        name: str,
        *,
        duration_s: float = 30.0,
        holder: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        if duration_s <= 0:
            raise ValueError("duration_s must be positive")
        self.db = db
        self.name = name
        self.duration_ms = int(duration_s * 1000)
        self.holder = holder or new_holder()
        self.clock = clock
        self.token: int | None = None
        create_table(db)

    def acquire(self) -> int | None:
        """Hold the lease if it is free, run out or ours; its fencing token, or None."""
        now = _ms(self.clock())
        with self.db.transaction() as cursor:
            cursor.execute(_ACQUIRE, (self.name, self.holder, now + self.duration_ms, now, now))
            row = cursor.fetchone()
        self.token = None if row is None else int(row[0])
        return self.token

    def renew(self) -> bool:
        """Extend our live tenure by the lease's duration; False (and no longer held) if it is over."""
        token = self.token  # read once: a holder's heartbeat renews from another thread
        if token is None:
            return False
        now = _ms(self.clock())
        with self.db.transaction() as cursor:
            cursor.execute(_RENEW, (now + self.duration_ms, self.name, self.holder, token, now))
            row = cursor.fetchone()
        if row is None:
            log.warning("lease %s: lost by %s (token %d)", self.name, self.holder, token)
            self.token = None
            return False
        return True

    def check(self) -> int:
        """The fence before a batch of effects: renew, or raise :class:`LeaseLost`."""
        token = self.token
        if not self.renew():
            raise LeaseLost(f"lease {self.name!r} (token {token}) is no longer held by {self.holder}")
        assert token is not None
        return token

    def release(self) -> None:
        """Give the lease up at once, if we still hold it (a stopping process)."""
        if self.token is None:
            return
        with self.db.transaction() as cursor:
            cursor.execute(_RELEASE, (_ms(self.clock()), self.name, self.holder, self.token))
        self.token = None


def create_table(db: Database, ddl: str = TABLE) -> None:
    """Create a table (default: ``leases``) if missing; ``Database.schema`` serialises
    processes starting together."""
    with db.schema() as cursor:
        cursor.execute(ddl)
