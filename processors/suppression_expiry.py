"""Suppression entries leave by event when their retention runs out.

Every minute the sweep asks the ``suppression_lists`` read model for the entries whose
``expires_at`` has passed and has their lists record ``suppression_list.entries_expired``
(through the handlers, which decide on the list aggregate). The index removes them when it
applies that event. Between the moment an entry expires and the sweep, lookups still find
it, and callers ignore it (:meth:`SuppressionEntry.active_at`): an expired entry never
blocks a call, and never silently disappears from the log either.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from dialstream.clock import utc_now
from projections.suppression_lists import ExpiredEntry, SuppressionListQueries
from schemas.suppression import MAX_ENTRIES_PER_EVENT, SuppressionEntryKey

log = logging.getLogger(__name__)

INTERVAL_S = 60.0

# (account, list, keys) -> log position of the expiry events (0 if nothing was recorded)
Expire = Callable[[UUID, UUID, list[SuppressionEntryKey]], int]



class SuppressionExpirySweeper:
    def __init__(
        self,
        expiring: SuppressionListQueries,
        expire: Expire,
        wait: Callable[[int, float], bool],
        *,
        clock: Callable[[], datetime] = utc_now,
        interval_s: float = INTERVAL_S,
    ):
        self.expiring = expiring
        self.expire = expire
        self.wait = wait
        self.clock = clock
        self.interval_s = interval_s
        self.error: BaseException | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="suppression-expiry", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                expired = self.sweep()
            except Exception as error:  # a failing sweep must not end the loop
                log.exception("suppression expiry: sweep failed")
                self.error = error
            else:
                self.error = None
                if expired:
                    log.info("suppression expiry: %d entries expired", expired)
            self._stopping.wait(self.interval_s)

    def sweep(self, now: datetime | None = None) -> int:
        """Expire every entry due at ``now`` (default: the clock); return how many."""
        at = int((now or self.clock()).timestamp())
        expired = 0
        while not self._stopping.is_set():
            due = self.expiring.expired(at, limit=MAX_ENTRIES_PER_EVENT)
            if not due:
                break
            position = 0
            for (account_id, list_id), keys in _by_list(due).items():
                position = max(position, self.expire(account_id, list_id, keys))
                expired += len(keys)
            # The next page is read from the read model: let it see these expiries first.
            if not position or not self.wait(position, 30.0):
                break
        return expired


def _by_list(due: list[ExpiredEntry]) -> dict[tuple[UUID, UUID], list[SuppressionEntryKey]]:
    lists: dict[tuple[UUID, UUID], list[SuppressionEntryKey]] = defaultdict(list)
    for entry in due:
        lists[(entry.account_id, entry.list_id)].append(
            SuppressionEntryKey(kind=entry.kind, value=entry.value)
        )
    return lists
