"""A hosted thing that follows the event store's log (on the one lifecycle, :mod:`processors.host.lifecycle`).

What the suppression index and the processors' embedded host share: wake on every append (other
processes' appends are seen within half a second), catch up to the head, publish how far they
got (read-your-writes for tests and callers), and retry after an error with a back-off instead
of dying — an outage of what they write to holds up only them, never the read models on the bus.

Input: the store's log; output and state: the subclass's; delivery guarantee: the subclass's
(``catch_up`` runs again from ``position`` after a failure).
"""

from __future__ import annotations

import threading
import time

from dialstream.store import EventStore
from dialstream.store.events import FOLLOW_GAP_S, FollowPace
from processors.host.lifecycle import Backoff, Hosted


class LogFollower(Hosted):
    name = "follower"
    follow_gap_s = FOLLOW_GAP_S  # the least time between the starts of two rounds (FollowPace)
    # The stored topics whose appends wake it (None: every append). Other processes' appends
    # are seen within half a second either way.
    wake_topics: frozenset[str] | None = None

    def __init__(self, store: EventStore, *, retry_seconds: float = 1.0):
        # An outage (Redis down) is retried every retry_seconds, at most twice that apart.
        super().__init__(backoff=Backoff(first_s=retry_seconds, max_s=2 * retry_seconds))
        self.store = store
        self.retry_seconds = retry_seconds
        self.position = 0
        self._progress = threading.Condition()
        self._seen = 0  # the store's append count when the last round started
        self._handled: int | None = None  # the same, of the last round that ended
        self._pace = FollowPace(self.follow_gap_s)

    def catch_up(self) -> int:
        """Handle the log up to its head as it is now; return the position reached."""
        raise NotImplementedError

    # The lifecycle's hooks ---------------------------------------------------------------

    def run_once(self) -> None:
        self._seen = self.store.appends()
        self._pace.round_starts()
        self.reached(self.catch_up())
        self._handled = self._seen  # every append of this process before the round is handled

    def idle(self) -> None:
        self.store.wait_for_append(self._seen, 0.5, self.wake_topics)
        self._pace.pause()

    def interrupt(self) -> None:
        self.store.wake()
        self._pace.hurry()

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)

    # Progress ----------------------------------------------------------------------------

    def caught_up_to(self) -> int:
        """The log position the follower has handled up to. A follower of a few topics sleeps
        through the others' appends: while no append of its topics came in this process since
        its last round, it has nothing to handle up to the head (other processes' appends are
        looked at within its half-second poll)."""
        if self.wake_topics is None or self._handled is None:
            return self.position
        head = self.store.position()
        if self.store.appended_since(self._handled, self.wake_topics):
            return self.position
        return max(self.position, head)

    def wait_until(self, position: int, timeout: float = 5.0) -> bool:
        """Block until the follower has handled the log up to ``position``."""
        deadline = time.monotonic() + timeout
        if self.position < position:
            self.store.wake()  # a follower of a few topics sleeps through the others' appends
        with self._progress:
            while self.position < position:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._pace.hurry()
                self._progress.wait(remaining)
        return True

    def reached(self, position: int) -> None:
        with self._progress:
            self.position = position
            self._progress.notify_all()
