"""Suppression entries leave by event when their retention runs out.

Every minute the sweep asks the ``suppression_lists`` read model for the entries whose
``expires_at`` has passed and has their lists record ``suppression_list.entries_expired``
(through the handlers, which decide on the list aggregate). The index removes them when it
applies that event. Between the moment an entry expires and the sweep, lookups still find
it, and callers ignore it (:meth:`SuppressionEntry.active_at`): an expired entry never
blocks a call, and never silently disappears from the log either.

Input: the ``suppression_lists`` read model. Output: ``suppression_list.entries_expired``
through the handlers. State: none of its own. Delivery guarantee: each entry is expired
once: the sweep reads the read model only once it has caught up with the store (so it
holds every earlier expiry, whichever process recorded it), waits for its own expiries
before reading the next page, and runs in one process at a time: :func:`scheduled`
declares it for the one scheduler (:mod:`processors.host.schedule`), which holds the
``suppression-expiry`` lease, and the sweep checks the lease before each list's expiry.
Run: ``dialstream up`` hosts it; ``dialstream worker suppression-expiry`` on Kafka.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from functools import partial
from uuid import UUID

from dialstream.clock import utc_now
from dialstream.store import retry_on_conflict
from processors.host.schedule import Every, Schedule, Tick
from projections.suppression_lists import ExpiredEntry, SuppressionListQueries
from schemas.suppression import MAX_ENTRIES_PER_EVENT, SuppressionEntryKey

log = logging.getLogger(__name__)

INTERVAL_S = 60.0
NAME = "suppression-expiry"
CATCH_UP_S = 30.0

# (account, list, keys) -> log position of the expiry events (0 if nothing was recorded)
Expire = Callable[[UUID, UUID, list[SuppressionEntryKey]], int]


def scheduled(sweeper: SuppressionExpirySweeper, every_s: float = INTERVAL_S) -> Schedule:
    """The sweep's schedule: every minute, by one process of the deployment at a time."""
    return Schedule(NAME, Every(every_s), sweeper)


class SuppressionExpirySweeper:
    """Expires due entries: ``sweep()`` once; hosted periodically by :func:`scheduled`.

    ``wait(position, timeout)`` blocks until the read models include ``position``;
    ``head()`` is the store's last position (None: do not wait for the read model first)."""

    def __init__(
        self,
        expiring: SuppressionListQueries,
        expire: Expire,
        wait: Callable[[int, float], bool],
        *,
        clock: Callable[[], datetime] = utc_now,
        head: Callable[[], int] | None = None,
    ):
        self.expiring = expiring
        self.expire = expire
        self.wait = wait
        self.clock = clock
        self.head = head

    def __call__(self, tick: Tick) -> int:
        """The scheduled job: a sweep at the tick's time that stops writing once the lease is lost."""
        expired = self.sweep(tick.now, stopping=tick.stopping, fence=tick.check)
        if expired:
            log.info("suppression expiry: %d entries expired", expired)
        return expired

    def sweep(
        self,
        now: datetime | None = None,
        *,
        stopping: Callable[[], bool] = lambda: False,
        fence: Callable[[], object] = lambda: None,
    ) -> int:
        """Expire every entry due at ``now`` (default: the clock); return how many.

        ``fence`` runs before each list's expiry and raises to stop the sweep (a
        scheduler's lease taken over: :class:`processors.host.lease.LeaseLost`)."""
        at = int((now or self.clock()).timestamp())
        # A read model behind the store may still list entries another sweep (another
        # process, before it died) expired already: expiring them again would double them.
        if self.head is not None and not self._caught_up(self.head(), stopping):
            log.warning("suppression expiry: read models behind the store; left for the next sweep")
            return 0
        expired = 0
        while not stopping():
            due = self.expiring.expired(at, limit=MAX_ENTRIES_PER_EVENT)
            if not due:
                break
            position = 0
            for (account_id, list_id), keys in _by_list(due).items():
                fence()
                # The handler decides on the list as stored, so a conflict (entries added
                # meanwhile) is decided again on fresh state.
                stored = retry_on_conflict(partial(self.expire, account_id, list_id, keys), what=NAME)
                position = max(position, stored or 0)
                expired += len(keys)
            # The next page is read from the read model: let it see these expiries first.
            if not position or not self.wait(position, CATCH_UP_S):
                break
        return expired

    def _caught_up(self, position: int, stopping: Callable[[], bool]) -> bool:
        """Wait up to CATCH_UP_S for the read models, a second at a time so a stop is not held up."""
        for _ in range(int(CATCH_UP_S)):
            if stopping():
                return False
            if self.wait(position, 1.0):
                return True
        return False


def _by_list(due: list[ExpiredEntry]) -> dict[tuple[UUID, UUID], list[SuppressionEntryKey]]:
    lists: dict[tuple[UUID, UUID], list[SuppressionEntryKey]] = defaultdict(list)
    for entry in due:
        lists[(entry.account_id, entry.list_id)].append(
            SuppressionEntryKey(kind=entry.kind, value=entry.value)
        )
    return lists
